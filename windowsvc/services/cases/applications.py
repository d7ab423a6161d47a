"""Reading applications, the facts every view of a case needs, and the parts of a case every use
case shares (accepting, concluding)."""

from sqlalchemy import or_, select

from ... import clock
from ...catalog.versions import item_of
from ...db import write_transaction
from ...extensions import db
from ...models import Application, CatalogItem, OutboxMessage, Step
from ...platform.errors import NotFound
from ...platform.paging import page_of
from ...rules.deadlines import working_days_between
from ...rules.deeming import PENDING_STATES
from ...rules.scoping import confined_to, may_reach
from ...workflows.lifecycle import LIFECYCLE, STAFF_ACTIONS
from ..calendar.working import due_after, provisional_note, working_calendar
from ..oversight import access
from . import clocks
from .deeming import deemed_accepted, notice_limit
from .lookup import BY_NUMBER, BY_NUMBER_FOR_UPDATE, parse_number
from .records import Actor, events_of, record


def find(number: str, actor: Actor, *, for_update=False, to_act=False) -> Application:
    """The application the actor reaches (``to_act``: may act on); NotFound for unknown numbers
    and for cases out of the actor's department scope (``rules.scoping``).

    The number is normalised first, and one with a wrong check character is refused (400).
    """
    number = parse_number(number)
    query = BY_NUMBER_FOR_UPDATE if for_update else BY_NUMBER
    application = db.session.scalar(query, {"number": number})
    if application is None or not reaches(application, actor, to_act=to_act):
        raise NotFound(f"办件 {number} 不存在 (no application {number})")
    return application


def lock(application_id: int) -> Application:
    """The case row, locked for the rest of the transaction.

    FOR NO KEY UPDATE on PostgreSQL: it does not block the FOR KEY SHARE that inserting rows
    referencing the case takes (events, access records), which would deadlock with
    fetch-and-lock. SQLite's BEGIN IMMEDIATE has already serialised the writers.
    """
    return db.session.scalar(
        select(Application).where(Application.id == application_id).with_for_update(key_share=True)
    )


def reaches(application: Application, actor: Actor, *, to_act=False) -> bool:
    """Whether the actor may read (or, ``to_act``, act on) the case: departments with a step."""
    handled_by = {s.department for s in application.steps}
    return may_reach(actor.role, actor.department, handled_by, reading_a_case=not to_act)


def touch(application: Application) -> None:
    """Mark one change of the case: a new version (the ETag) and the time of the change."""
    application.version += 1
    application.updated_at = clock.now()


def accept_now(application: Application, actor: Actor, *, trigger="accept", **kwargs) -> None:
    """受理: fire the acceptance, start the clocks, and record it.

    The clocks start today — or on the day of receipt when the 5-working-day notice limit has
    passed (视为受理), even if a clerk accepts before the sweep does.
    """
    before = application.state
    start = application.received_at if deemed_accepted(application) else clock.now()
    LIFECYCLE.fire(trigger, application, **kwargs)
    start_clocks(application, start)
    record(
        application,
        "application.accepted",
        by=actor,
        from_state=before,
        to_state=application.state,
        details={
            "acceptance_date": application.acceptance_date.isoformat(),
            "due_date": application.due_date.isoformat(),
            "legal_due_date": application.legal_due_date.isoformat(),
        },
    )


def start_clocks(application: Application, accepted_at) -> None:
    """Set the acceptance date and the promised (承诺) and legal (法定) due dates."""
    item = item_of(application)
    application.accepted_at = accepted_at
    application.acceptance_date = clock.local(accepted_at).date()
    promised = due_after(application.acceptance_date, item.promised_days)
    legal = due_after(application.acceptance_date, item.legal_days)
    application.due_date, application.due_date_provisional = promised
    application.legal_due_date, application.legal_due_date_provisional = legal


def conclude(application: Application) -> None:
    """办结: stamp the day the case ended and the working days it used, net of paused days."""
    now = clock.now()
    application.concluded_at = now
    application.concluded_on = clock.local(now).date()
    clocks.stop(application)  # ended while the clock was paused
    if application.acceptance_date is not None:
        used = working_days_between(
            application.acceptance_date, application.concluded_on, working_calendar()
        )
        application.working_days_used = max(used - (application.paused_working_days or 0), 0)


def deadline_flags(application: Application) -> dict:
    """Which of the case's due dates are provisional, and the label that says so (预计)."""
    provisional = application.due_date_provisional or application.legal_due_date_provisional
    last = max(filter(None, (application.due_date, application.legal_due_date)), default=None)
    return {
        "due_date_provisional": application.due_date_provisional,
        "legal_due_date_provisional": application.legal_due_date_provisional,
        "deadlines_provisional": provisional,
        "provisional_note": provisional_note(application.acceptance_date, last)
        if provisional
        else None,
    }


def correction_limit(application: Application) -> dict | None:
    """While acceptance is pending: the last day for a correction notice (Art 32, 视为受理)."""
    if application.acceptance_date is not None or application.state not in PENDING_STATES:
        return None
    limit = notice_limit(application)
    return {"date": limit.date, "provisional": limit.provisional}


def allowed_actions(application: Application, role: str) -> list[str]:
    """The staff actions ``role`` may take on the application now."""
    return [
        a for a in LIFECYCLE.allowed(application.state, role, application) if a in STAFF_ACTIONS
    ]


def listing(
    actor: Actor,
    *,
    state=None,
    item_code=None,
    department=None,
    warning=None,
    page=1,
    per_page=20,
    to_act=False,
):
    """A page of applications the actor may see (``to_act``: may act on), newest first, and the
    total count.

    ``department`` matches the lead department or any step's department; a principal confined
    to a department (``rules.scoping``) sees exactly the cases with a step of it. Every
    supervisor may read any case; ``to_act`` confines a supervisor to their department's, like
    ``find(..., to_act=True)``.
    """
    query = select(Application).join(CatalogItem, Application.item_id == CatalogItem.id)
    confined = confined_to(actor.role, actor.department, reading_a_case=not to_act)
    if confined is not None:
        department = confined
    if state:
        query = query.where(Application.state == state)
    if item_code:
        query = query.where(Application.item_code == item_code)
    if warning:
        query = query.where(Application.warning_level == warning)
    if department:
        has_step = (
            select(Step.id)
            .where(Step.application_id == Application.id, Step.department == department)
            .exists()
        )
        if confined is not None:
            query = query.where(has_step)
        else:
            query = query.where(or_(CatalogItem.department == department, has_step))
    one_page, total = page_of(query, page, per_page, Application.id.desc())
    return list(db.session.scalars(one_page)), total


def read_for_staff(
    number: str, actor: Actor, *, purpose: str = "detail", to_act: bool = False
) -> Application:
    """The full case, personal data included: the read is recorded (行为监控) with its
    ``purpose``, and the case keeps what that transaction read. ``to_act``: scoped as for
    acting on the case (a department's own look at its work), see ``find``."""
    with write_transaction(keep_loaded=True):
        application = find(number, actor, to_act=to_act)
        access.note(application.id, actor, purpose)
        return application


def notices_of(number: str, actor: Actor) -> list[OutboxMessage]:
    """The notices sent for a case, oldest first, with their delivery status (the proof)."""
    application = find(number, actor)
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.application_id == application.id)
            .order_by(OutboxMessage.id)
        )
    )


def lifecycle_record(number: str, actor: Actor):
    """The application's lifecycle events, oldest first."""
    return events_of(find(number, actor))
