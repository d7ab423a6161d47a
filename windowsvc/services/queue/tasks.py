"""Reports on claimed tasks: complete (with the AND-join), failure, leases, retries, incidents."""

from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ... import clock
from ...catalog.versions import item_of
from ...db import is_postgres, write_transaction
from ...extensions import db
from ...models import Application, Event, Step
from ...platform.errors import Conflict, Forbidden, Invalid, NotFound
from ...platform.wakeup import announce
from ...rules import materials
from ...rules.scoping import confined_to, may_reach
from ...workflows.step import LOCKED, STEP, lease_refusal
from ..cases import corrections
from ..cases import steps as stages
from ..cases.applications import lock as lock_application
from ..cases.applications import touch
from ..cases.records import Actor, record

# Built once (every report on a task reads its step): the step with its case and the case's
# steps, and the step locked; the id is bound per call.
_WITH_CASE = (
    select(Step)
    .where(Step.id == bindparam("id"))
    .options(joinedload(Step.application).joinedload(Application.steps))
)
_STEP_FOR_UPDATE = (
    select(Step)
    .where(Step.id == bindparam("id"))
    .with_for_update(of=Step)
    .execution_options(populate_existing=True)
)


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
        step = db.session.scalars(_WITH_CASE, {"id": key}).unique().first()
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
    step = db.session.scalar(_STEP_FOR_UPDATE, {"id": int(task_id)})
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
    corrections.by_department(application, actor, step, listed, comment)


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
        elif step.state != LOCKED:
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


# the lifecycle events of an incident's life: raised by a worker, resolved by an operator
INCIDENT_EVENTS = ("step.incident", "step.retries_set")


def incident_history(actor: Actor, limit: int = 20) -> list[tuple[Event, Application]]:
    """Who raised and who resolved incidents (``INCIDENT_EVENTS``) on the steps the actor reaches,
    newest first, each with its case."""
    confined = confined_to(actor.role, actor.department)
    query = (
        select(Event, Application)
        .join(Application, Event.application_id == Application.id)
        .where(Event.type.in_(INCIDENT_EVENTS))
        .order_by(Event.id.desc())
    )
    if confined is not None:
        query = query.where(
            select(Step.id)
            .where(Step.application_id == Application.id, Step.department == confined)
            .exists()
        )
    found = []
    for event, application in db.session.execute(query):
        step = (event.details or {}).get("step")
        if confined is None or any(
            s.code == step and s.department == confined for s in application.steps
        ):
            found.append((event, application))
            if len(found) == limit:
                break
    return found
