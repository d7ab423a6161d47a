"""Stages and steps of a case: opening a stage, the AND-join, cancelling and re-opening steps.

Every function runs inside the caller's transaction, with the application row already locked.
"""

from sqlalchemy import insert
from sqlalchemy.orm.attributes import set_committed_value

from ... import clock
from ...catalog.versions import item_of
from ...extensions import db
from ...models import Application, Step
from ...platform.wakeup import announce
from ...workflows import join
from ...workflows.step import OPEN_STATES, STEP
from ..calendar.working import due_after
from . import decisions
from .applications import accept_now
from .records import SYSTEM, Actor, record

INSTANT_PRIORITY, NORMAL_PRIORITY = 80, 50
# built once; the rows come back as persistent Step objects in the order they were given
_INSERT_STEPS = insert(Step).returning(Step, sort_by_parameter_order=True)
_NO_AUTOFLUSH = {"autoflush": False}


def stages_of(application: Application) -> list[list[dict]]:
    """The stages of the item version the application was accepted under."""
    return item_of(application).definition["stages"]


def steps_of(application: Application, stage: int | None = None) -> list[Step]:
    """The application's step rows (of one stage, or all), loaded once per transaction."""
    return [s for s in application.steps if stage is None or s.stage == stage]


def accept_and_start(application: Application, actor: Actor, *, trigger="accept") -> None:
    """受理 and hand the case to the back office in one go (its first stage opens)."""
    accept_now(application, actor, trigger=trigger)
    start_processing(application)


def start_processing(application: Application, by: Actor = SYSTEM) -> None:
    """After acceptance: the case goes to the back office and its first stage opens."""
    decisions.start_processing(application, by)
    open_stage(application, 0)


def open_stage(application: Application, index: int) -> list[Step]:
    """Create the step rows of stage ``index``: one task per department step, fetchable now.

    The rows go in as one ORM INSERT ... RETURNING (no unit of work: the steps are new rows whose
    ids the stage's event names), without flushing the case's own pending changes first: those
    are written once, when the use case's transaction flushes them.
    """
    now = clock.now()
    today = clock.today()
    priority = INSTANT_PRIORITY if item_of(application).instant else NORMAL_PRIORITY
    with db.session.no_autoflush:  # a case read from the database: its changes wait too
        existing = application.steps  # read before the insert, which it would otherwise include
    rows = []
    for spec in stages_of(application)[index]:
        due = due_after(today, spec["days"])
        rows.append(
            {
                "application_id": application.id,
                "stage": index,
                "code": spec["code"],
                "name": spec["name"],
                "department": spec["department"],
                "topic": spec["topic"],
                "member_item": spec.get("item"),
                "days": spec["days"],
                "state": STEP.initial,
                "priority": priority,
                "due_date": due.date,
                "due_date_provisional": due.provisional,
                "available_at": now,
                "attempt": 0,
                "opened_at": now,
            }
        )
    created = list(db.session.scalars(_INSERT_STEPS, rows, execution_options=_NO_AUTOFLUSH))
    for step in created:
        set_committed_value(step, "application", application)
    # the case's collection, as if read back: no lazy load and nothing for the flush to do
    set_committed_value(application, "steps", [*existing, *created])
    for department in {s.department for s in created}:
        announce(department)
    record(
        application,
        "stage.opened",
        by=SYSTEM,
        details={
            "stage": index,
            "steps": [{"id": s.id, "code": s.code, "department": s.department} for s in created],
        },
    )
    return created


def advance_when_stage_done(application: Application) -> None:
    """Carry out the AND-join (workflows.join) after a department reported on its step."""
    if application.state != "in_progress":
        return
    decided = join.after_report(steps_of(application), len(stages_of(application)))
    if decided.action == join.OPEN_NEXT:
        open_stage(application, decided.stage)
    elif decided.action in (join.APPROVE, join.DENY):
        decisions.decide(application, decided.action, reason=decided.reason, result=decided.results)


def cancel_open_steps(application: Application, reason: str) -> int:
    """Cancel the steps still open (withdrawal, termination); returns how many."""
    cancelled = 0
    for step in steps_of(application):
        if step.state in OPEN_STATES:
            STEP.fire("cancel", step)
            step.lock_owner = step.lock_expires_at = None
            cancelled += 1
    if cancelled:
        record(
            application,
            "steps.cancelled",
            by=SYSTEM,
            details={"count": cancelled, "reason": reason},
        )
    return cancelled


def reopen_after_supplement(application: Application) -> None:
    """The applicant supplemented what a department asked for: its step is fetchable again."""
    now = clock.now()
    reopened = []
    for step in steps_of(application):
        if step.state == "awaiting_supplement":
            STEP.fire("reopen", step)
            step.available_at = now
            step.missing = None
            reopened.append(step.code)
            announce(step.department)
    if reopened:
        record(application, "steps.reopened", by=SYSTEM, details={"steps": reopened})
