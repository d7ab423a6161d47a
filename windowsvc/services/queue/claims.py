"""Fetch-and-lock: department systems claim the steps of their department (leases, long poll).

The hottest path of the engine, so it is SQLAlchemy Core: the candidate statements are built
once, the claim is one UPDATE … RETURNING, the cases come in one SELECT.
"""

import functools
import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Integer, bindparam, select, update

from ... import clock
from ...catalog.versions import item_version
from ...db import is_postgres, write_transaction
from ...extensions import db
from ...models import Application, Step
from ...platform.shutdown import draining
from ...platform.wakeup import WAKEUP
from ...workflows.step import FETCHABLE, LOCKED
from ..cases.records import Actor
from ..oversight import access

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
    seen = WAKEUP.generation(actor.department)
    while True:
        claimed = []
        for lease in leases:
            room = lease.max_tasks - len(claimed)
            if room <= 0:
                break
            lease = Lease(lease.worker_id, room, lease.lock_seconds, lease.topics)
            if _has_candidates(actor.department, lease):
                claimed += _claim(actor, lease)
        # a stopping server waits no more: the poll answers what it has (SIGTERM, shutdown.py)
        remaining = 0.0 if draining() else deadline - time.monotonic()
        if claimed or remaining <= 0:
            return claimed
        db.session.rollback()  # end the read snapshot before sleeping
        seen = WAKEUP.wait(actor.department, seen, remaining)


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
        _STEPS.c.state == FETCHABLE,
        _STEPS.c.available_at <= now,
    )
    expired = select(_STEPS.c.id).where(
        _STEPS.c.department == department,
        _STEPS.c.state == LOCKED,
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
        state=LOCKED,
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
