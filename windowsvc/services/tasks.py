"""The leased task queue departments poll (fetch-and-lock, complete, failure, leases, incidents)."""

import functools
import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.orm import joinedload

from .. import clock
from ..catalog.versions import item_of, item_version
from ..db import is_postgres, write_transaction
from ..extensions import db
from ..models import Application, Step
from ..rules import materials
from ..rules.scoping import confined_to, may_reach
from ..workflows.step import STEP, lease_refusal
from . import access
from . import steps as stages
from .actions import department_correction
from .applications import lock as lock_application
from .applications import touch
from .errors import Conflict, Forbidden, Invalid, NotFound
from .records import Actor, record
from .wakeup import WAKEUP, announce

MAX_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Lease:
    """What a worker asks for when it fetches."""

    worker_id: str
    max_tasks: int
    lock_seconds: float
    topics: tuple[str, ...] = ()


def fetch_and_lock(actor: Actor, leases, wait_seconds: float = 0) -> list[dict]:
    """Claim steps of the actor's department for one or more leases (topic groups, each with its
    own lock duration), at most ``max_tasks`` in all; long-poll up to ``wait_seconds``."""
    leases = [leases] if isinstance(leases, Lease) else list(leases)
    wait_seconds = min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
    deadline = time.monotonic() + wait_seconds
    if wait_seconds > 0:
        WAKEUP.ensure_watcher(db.engine)
    seen = WAKEUP.generation
    while True:
        claimed = []
        for lease in leases:
            room = lease.max_tasks - len(claimed)
            if room <= 0:
                break
            lease = Lease(lease.worker_id, room, lease.lock_seconds, lease.topics)
            if _has_candidates(actor.department, lease):
                claimed += _claim(actor, lease)
        remaining = deadline - time.monotonic()
        if claimed or remaining <= 0:
            return claimed
        db.session.rollback()  # end the read snapshot before sleeping
        seen = WAKEUP.wait(seen, remaining)


_STEPS = Step.__table__
_APPLICATIONS = Application.__table__
_QUEUE_ORDER = (_STEPS.c.priority.desc(), _STEPS.c.due_date, _STEPS.c.id)
# What a claim hands out, read back by the claiming UPDATE itself (RETURNING) — Core, no ORM
# objects: fetch-and-lock is the hottest path of the engine.
_TASK_STEP_COLUMNS = (
    _STEPS.c.id,
    _STEPS.c.application_id,
    _STEPS.c.topic,
    _STEPS.c.code,
    _STEPS.c.name,
    _STEPS.c.stage,
    _STEPS.c.member_item,
    _STEPS.c.lock_expires_at,
    _STEPS.c.attempt,
    _STEPS.c.retries,
    _STEPS.c.priority,
    _STEPS.c.due_date,
    _STEPS.c.due_date_provisional,
    _STEPS.c.lock_owner,
)
_TASK_APPLICATION_COLUMNS = (
    _APPLICATIONS.c.id,
    _APPLICATIONS.c.number,
    _APPLICATIONS.c.item_id,
    _APPLICATIONS.c.item_code,
    _APPLICATIONS.c.item_version,
    _APPLICATIONS.c.channel,
    _APPLICATIONS.c.applicant,
    _APPLICATIONS.c.materials,
    _APPLICATIONS.c.deferred,
    _APPLICATIONS.c.accepted_at,
    _APPLICATIONS.c.due_date,
    _APPLICATIONS.c.due_date_provisional,
)


@functools.cache
def _candidates(with_topics: bool):
    """(pending, expired): the ids of fetchable steps of a department, most urgent first.

    Built once; ``department``, ``now``, ``topics`` and ``limit`` are bound per call.
    """
    department, now = bindparam("department"), bindparam("now")
    pending = select(_STEPS.c.id).where(
        _STEPS.c.department == department,
        _STEPS.c.state == "pending",
        _STEPS.c.available_at <= now,
    )
    expired = select(_STEPS.c.id).where(
        _STEPS.c.department == department,
        _STEPS.c.state == "locked",
        _STEPS.c.lock_expires_at <= now,
    )
    if with_topics:
        topics = bindparam("topics", expanding=True)
        pending = pending.where(_STEPS.c.topic.in_(topics))
        expired = expired.where(_STEPS.c.topic.in_(topics))
    limit = bindparam("limit", type_=Integer)
    return pending.order_by(*_QUEUE_ORDER).limit(limit), expired.order_by(*_QUEUE_ORDER).limit(
        limit
    )


def _queue_params(department, lease, now, limit) -> dict:
    params = {"department": department, "now": now, "limit": limit}
    if lease.topics:
        params["topics"] = list(lease.topics)
    return params


def _has_candidates(department, lease) -> bool:
    """A cheap read before taking the write lock: is anything fetchable right now?"""
    pending, expired = _candidates(bool(lease.topics))
    params = _queue_params(department, lease, clock.now(), 1)
    connection = db.session.connection()
    return (
        connection.execute(pending, params).first() is not None
        or connection.execute(expired, params).first() is not None
    )


_CLAIM = (
    update(_STEPS)
    .where(_STEPS.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state="locked",
        lock_owner=bindparam("worker_id"),
        lock_expires_at=bindparam("lock_expires_at", type_=_STEPS.c.lock_expires_at.type),
        attempt=_STEPS.c.attempt + 1,
    )
    .returning(*_TASK_STEP_COLUMNS)
)
_TASK_APPLICATIONS = select(*_TASK_APPLICATION_COLUMNS).where(
    _APPLICATIONS.c.id.in_(bindparam("ids", expanding=True))
)


def _claim(actor, lease) -> list[dict]:
    """Atomically lock the most urgent fetchable steps (SKIP LOCKED on PostgreSQL)."""
    with write_transaction() as session:
        connection = session.connection()
        now = clock.now()
        pending, expired = _candidates(bool(lease.topics))
        if is_postgres():
            pending = pending.with_for_update(skip_locked=True)
            expired = expired.with_for_update(skip_locked=True)
        ids = list(
            connection.scalars(
                expired, _queue_params(actor.department, lease, now, lease.max_tasks)
            )
        )
        if len(ids) < lease.max_tasks:
            room = lease.max_tasks - len(ids)
            ids += connection.scalars(pending, _queue_params(actor.department, lease, now, room))
        if not ids:
            return []
        steps = connection.execute(
            _CLAIM,
            {
                "ids": ids,
                "worker_id": lease.worker_id,
                "lock_expires_at": now + timedelta(seconds=lease.lock_seconds),
            },
        ).all()
        # RETURNING has no order: hand the tasks out most urgent first, like the queue
        steps.sort(key=lambda s: (-s.priority, s.due_date or date.max, s.id))
        applications = {
            a.id: a
            for a in connection.execute(
                _TASK_APPLICATIONS, {"ids": list({s.application_id for s in steps})}
            )
        }
        # the applicant's data goes out: one access record per task handed out
        access.note_many([s.application_id for s in steps], actor, "task")
        return [present_task(step, applications[step.application_id]) for step in steps]


def present_task(step, application) -> dict:
    """What a department's system receives for a locked step: the data the step needs.

    ``step`` and ``application`` are rows (or objects) with the claimed columns.
    """
    materials = [
        {k: m[k] for k in ("code", "name", "source", "evidence_id") if k in m}
        for m in application.materials or []
    ]
    return {
        "id": str(step.id),
        "topic": step.topic,
        "application": {
            "number": application.number,
            "item_code": application.item_code,
            "item_version": application.item_version,
            "item_name": item_version(application.item_id).name,
            "channel": application.channel,
            "applicant": application.applicant,
            "materials": materials,
            "deferred": application.deferred,
            "accepted_at": application.accepted_at,
            "due_date": application.due_date,
            "due_date_provisional": application.due_date_provisional,
        },
        "step": {
            "code": step.code,
            "name": step.name,
            "stage": step.stage,
            "member_item": step.member_item,
        },
        "lock_expires_at": step.lock_expires_at,
        "attempt": step.attempt,
        "retries": step.retries,
        "priority": step.priority,
        "due_date": step.due_date,
        "due_date_provisional": step.due_date_provisional,
        "worker_id": step.lock_owner,
    }


def _load(task_id, actor: Actor, *, with_case=False) -> Step:
    """The step if it belongs to the actor's department; NotFound otherwise (no existence leak).

    ``with_case``: its application and all the case's steps come in the same query (the
    AND-join needs them); only where the transaction already holds the write lock (SQLite).
    """
    try:
        key = int(task_id)
    except (TypeError, ValueError):
        raise NotFound(f"任务 {task_id} 不存在") from None
    if not 0 < key < 2**31:
        raise NotFound(f"任务 {task_id} 不存在")
    if with_case:
        step = (
            db.session.scalars(
                select(Step)
                .where(Step.id == key)
                .options(joinedload(Step.application).joinedload(Application.steps))
            )
            .unique()
            .first()
        )
    else:
        step = db.session.get(Step, key)
    if step is None or not may_reach(actor.role, actor.department, {step.department}):
        raise NotFound(f"任务 {task_id} 不存在")
    return step


def _locked_for_change(task_id, actor):
    """Lock the application first, then the step (one lock order everywhere: no deadlocks)."""
    if not is_postgres():  # BEGIN IMMEDIATE already serialises the writers
        step = _load(task_id, actor, with_case=True)
        return step.application, step
    step = _load(task_id, actor)
    application_id = step.application_id
    db.session.expire(step)
    application = lock_application(application_id)
    step = db.session.scalar(
        select(Step)
        .where(Step.id == int(task_id))
        .with_for_update(of=Step)
        .execution_options(populate_existing=True)
    )
    return application, step


def _require_lease(step: Step, worker_id: str, attempt: int | None = None):
    """The fence (workflows.step.lease_refusal): 409 unless the worker holds a live lease."""
    refusal = lease_refusal(step, worker_id, clock.now(), attempt)
    if refusal:
        raise Conflict(refusal)


def complete(
    task_id,
    actor: Actor,
    worker_id: str,
    outcome: str,
    comment=None,
    result=None,
    missing=(),
    attempt: int | None = None,
) -> None:
    """Report a step's outcome; the AND-join runs in the same transaction."""
    with write_transaction():
        application, step = _locked_for_change(task_id, actor)
        _require_lease(step, worker_id, attempt)
        if outcome == "correction":
            _ask_correction(application, step, actor, worker_id, comment, missing)
            return
        STEP.fire("complete", step, outcome=outcome, comment=comment)
        step.outcome, step.comment, step.result = outcome, comment, result or {}
        step.completed_at, step.completed_by = clock.now(), worker_id
        step.lock_owner = step.lock_expires_at = None
        touch(application)
        record(
            application,
            "step.completed",
            by=actor,
            details={
                "step": step.code,
                "department": step.department,
                "outcome": outcome,
                "comment": comment,
                "attempt": step.attempt,
            },
        )
        stages.advance_when_stage_done(application)


def _ask_correction(application, step, actor, worker_id, comment, missing):
    named, unknown = materials.name_materials(item_of(application).definition, list(missing or []))
    if unknown:
        raise Invalid(
            "补正须列明该事项的材料编码", {"missing": [f"unknown material {c}" for c in unknown]}
        )
    listed = [{**m, "department": step.department} for m in named]
    STEP.fire("ask_correction", step, missing=listed)
    step.missing, step.comment = listed, comment
    step.lock_owner = step.lock_expires_at = None
    touch(application)
    department_correction(application, actor, step, listed, comment)


def failure(
    task_id,
    actor: Actor,
    worker_id: str,
    error_message: str,
    error_details=None,
    retries: int = 0,
    retry_seconds: float = 0,
) -> None:
    """A worker could not handle the step: retry later, or raise an incident at retries 0."""
    with write_transaction():
        application, step = _locked_for_change(task_id, actor)
        _require_lease(step, worker_id)
        STEP.fire("fail", step, retries=retries)
        step.retries = retries
        step.error_message, step.error_details = error_message, error_details
        step.lock_owner = step.lock_expires_at = None
        step.available_at = clock.now() + timedelta(seconds=retry_seconds)
        record(
            application,
            "step.incident" if step.state == "incident" else "step.failed",
            by=actor,
            details={"step": step.code, "error": error_message, "retries": retries},
        )


def extend_lock(task_id, actor: Actor, worker_id: str, lock_seconds: float) -> None:
    """Extend a live lease held by the worker."""
    with write_transaction():
        _application, step = _locked_for_change(task_id, actor)
        _require_lease(step, worker_id)
        step.lock_expires_at = clock.now() + timedelta(seconds=lock_seconds)


def unlock(task_id, actor: Actor, worker_id: str | None = None) -> None:
    """Give a step back to the queue (the worker's own lease; Camunda's unlock needs no owner)."""
    with write_transaction():
        _application, step = _locked_for_change(task_id, actor)
        if worker_id is not None:
            _require_lease(step, worker_id)
        elif step.state != "locked":
            raise Conflict(f"任务 {step.id} 未被锁定")
        STEP.fire("unlock", step)
        step.lock_owner = step.lock_expires_at = None
        step.available_at = clock.now()
        announce(step.department)


def set_retries(task_id, actor: Actor, retries: int) -> None:
    """An operator resolves an incident by giving the step retries again."""
    if actor.role == "backoffice":
        raise Forbidden("只有主管或管理员可以重置重试次数")
    with write_transaction():
        application, step = _locked_for_change(task_id, actor)
        STEP.fire("set_retries", step)
        step.retries, step.available_at = retries, clock.now()
        record(
            application,
            "step.retries_set",
            by=actor,
            details={"step": step.code, "retries": retries},
        )
        announce(step.department)


def incidents(actor: Actor) -> list[Step]:
    """Steps waiting for an operator (retries exhausted)."""
    query = select(Step).where(Step.state == "incident").order_by(Step.id)
    confined = confined_to(actor.role, actor.department)
    if confined is not None:
        query = query.where(Step.department == confined)
    return list(db.session.scalars(query))
