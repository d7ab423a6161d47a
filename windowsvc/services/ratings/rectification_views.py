"""Reading 差评整改 work orders: who sees which, what may be done or shown now, the overdue list."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import clock
from ...extensions import db
from ...models import Application, Rectification
from ...platform.errors import NotFound
from ...platform.paging import page_of
from ...rules.deadlines import working_days_between
from ...rules.scoping import confined_to, may_reach
from ...workflows.rectification import OPEN_STATES, RECTIFICATION, STAFF_ACTIONS
from ..calendar.working import working_calendar
from ..cases.records import Actor


def find(order_id: int, actor: Actor) -> Rectification:
    """The work order the actor reaches; NotFound for unknown ids and other departments'."""
    order = db.session.get(Rectification, order_id)
    if order is None or not may_reach(actor.role, actor.department, {order.department}):
        raise NotFound(f"整改工单 {order_id} 不存在 (no rectification {order_id})")
    return order


def detail(order_id: int, actor: Actor) -> Rectification:
    """One work order as staff see it."""
    return find(order_id, actor)


def listing(
    actor: Actor, *, state=None, department=None, page=1, per_page=20
) -> tuple[list[Rectification], int]:
    """A page of work orders the actor may see, most urgent first, and the total count."""
    query = select(Rectification)
    confined = confined_to(actor.role, actor.department)
    if confined is not None:
        query = query.where(Rectification.department == confined)
    elif department:
        query = query.where(Rectification.department == department)
    if state:
        query = query.where(Rectification.state == state)
    one_page, total = page_of(query, page, per_page, Rectification.due_date, Rectification.id)
    rows = db.session.scalars(
        one_page.options(joinedload(Rectification.application), joinedload(Rectification.rating))
    )
    return list(rows), total


def allowed_actions(order: Rectification, role: str) -> list[str]:
    """The staff actions ``role`` may take on the work order now."""
    return [a for a in RECTIFICATION.allowed(order.state, role, order) if a in STAFF_ACTIONS]


def is_overdue(order: Rectification, today) -> bool:
    """Still open after its due date."""
    return order.state in OPEN_STATES and order.due_date < today


def result_shown(order: Rectification) -> bool:
    """The rater is told the measures or the explanation once the work order is closed."""
    return order.state in ("closed", "assessed")


def rater_may_assess(order: Rectification) -> bool:
    """The rater may give a verdict on the rectification now (整改评价)."""
    return order.state == "closed"


def overdue(department: str | None = None) -> list[dict]:
    """Open work orders past their due date (for the oversight warnings), oldest first."""
    today = clock.today()
    query = (
        select(Rectification, Application.number, Application.item_code)
        .join(Application, Rectification.application_id == Application.id)
        .where(Rectification.state.in_(OPEN_STATES), Rectification.due_date < today)
        .order_by(Rectification.due_date, Rectification.id)
    )
    if department:
        query = query.where(Rectification.department == department)
    return [
        {
            "id": order.id,
            "number": number,
            "item_code": item_code,
            "department": order.department,
            "state": order.state,
            "state_label": RECTIFICATION.labels[order.state],
            "due_date": order.due_date,
            "due_date_provisional": order.due_date_provisional,
            "working_days_over": working_days_between(order.due_date, today, working_calendar()),
        }
        for order, number, item_code in db.session.execute(query)
    ]


def appeals(*, decided: bool, limit: int = 100) -> list[Rectification]:
    """申诉复核: work orders whose appeal awaits oversight's decision (oldest appeal first), or
    those decided (newest decision first), with their case and rating loaded."""
    query = select(Rectification).options(
        joinedload(Rectification.application), joinedload(Rectification.rating)
    )
    if decided:
        query = query.where(Rectification.appeal_decided_at.is_not(None)).order_by(
            Rectification.appeal_decided_at.desc(), Rectification.id.desc()
        )
    else:
        query = query.where(Rectification.state == "appealed").order_by(
            Rectification.appealed_at, Rectification.id
        )
    return list(db.session.scalars(query.limit(limit)).unique())
