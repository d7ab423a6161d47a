"""差评整改 — the closed loop of a bad rating: 回访, 整改 or 解释说明, 办结, 申诉 and 复核.

A work order belongs to the department responsible for the case's item: its supervisor sees and
acts on it (other departments get a 404); oversight reads every order and alone decides appeals.
Departments see the rater only masked.
"""

from sqlalchemy import select

from ... import clock
from ...catalog.versions import item_of
from ...db import write_transaction
from ...extensions import db
from ...models import Application, Rating, Rectification
from ...platform.context import setting
from ...platform.errors import Conflict, Forbidden, NotFound
from ...workflows import ActionNotAllowed
from ...workflows.rectification import RECTIFICATION, STAFF_ACTIONS
from ..calendar.working import due_after
from ..cases.records import SYSTEM, Actor, record
from .rectification_views import allowed_actions, find


class NotAllowedNow(Conflict):
    """The work order's state does not offer the action (409 with the allowed actions)."""

    title, type = "Action not allowed", "/problems/action-not-allowed"


def open_for(rating: Rating, application: Application) -> Rectification:
    """A bad rating opens a work order for the responsible department, due in working days."""
    now = clock.now()
    days = int(setting("RATING_RECTIFY_DAYS"))
    due = due_after(clock.today(), days)
    order = Rectification(
        rating=rating,
        application_id=application.id,
        department=item_of(application).department,
        state=RECTIFICATION.initial,
        due_date=due.date,
        due_date_provisional=due.provisional,
        due_working_days=days,
        opened_at=now,
        updated_at=now,
    )
    db.session.add(order)
    db.session.flush()
    record(
        application,
        "rectification.opened",
        by=SYSTEM,
        details={
            "rectification_id": order.id,
            "rating_id": rating.id,
            "department": order.department,
            "due_date": order.due_date.isoformat(),
            "due_date_provisional": order.due_date_provisional,
        },
    )
    return order


def perform(order_id: int, action: str, actor: Actor, payload: dict) -> Rectification:
    """Take a staff action on a work order (the department's loop, or oversight's decision)."""
    if action not in STAFF_ACTIONS:
        raise NotFound(f"没有 {action} 这个操作 (unknown action)")
    with write_transaction():
        order = find(order_id, actor)
        if actor.role not in RECTIFICATION.actors_of(action):
            raise Forbidden(f"角色 {actor.role} 不能执行 {action}")
        application = lock(order)
        HANDLERS[action](order, application, actor, **payload)
        return order


def lock(order: Rectification) -> Application:
    """Lock the case (its record is appended to), then the work order: always in this order."""
    application = db.session.scalar(
        select(Application)
        .where(Application.id == order.application_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    db.session.refresh(order, with_for_update=True)
    return application


def fire(order, application, trigger, event_type, actor, details=None, **kwargs) -> None:
    """Move the work order and record it on the case; a refused shortcut is a 409."""
    before = order.state
    try:
        RECTIFICATION.fire(trigger, order, **kwargs)
    except ActionNotAllowed as exc:
        allowed = allowed_actions(order, actor.role)
        raise NotAllowedNow(
            f"整改工单当前状态 {RECTIFICATION.labels[before]} 下不能执行 {trigger}",
            state=before,
            allowed_actions=allowed,
        ) from exc
    now = clock.now()
    order.updated_at = now
    record(
        application,
        event_type,
        by=actor,
        details={
            "rectification_id": order.id,
            "from": before,
            "to": order.state,
            **(details or {}),
        },
    )


def _follow_up(order, application, actor, contacted_at, summary):
    fire(
        order,
        application,
        "follow_up",
        "rectification.followed_up",
        actor,
        {"contacted_at": contacted_at.isoformat(), "summary": summary},
        contacted_at=contacted_at,
        summary=summary,
        now=clock.now(),
    )
    order.contacted_at, order.follow_up_summary = contacted_at, summary.strip()
    order.followed_up_at = clock.now()


def _rectify(order, application, actor, measures):
    fire(
        order,
        application,
        "rectify",
        "rectification.rectified",
        actor,
        {"measures": measures},
        measures=measures,
    )
    order.measures = measures.strip()


def _explain(order, application, actor, explanation):
    fire(
        order,
        application,
        "explain",
        "rectification.explained",
        actor,
        {"explanation": explanation},
        explanation=explanation,
    )
    order.explanation = explanation.strip()


def _close(order, application, actor):
    # the closing event carries the result: it is the 整改结果告知 sent to the rater
    if order.state == "rectified":
        result = {"measures": order.measures}
    else:
        result = {"explanation": order.explanation}
    fire(order, application, "close", "rectification.closed", actor, result)
    order.closed_at = clock.now()


def _appeal(order, application, actor, reason):
    before = order.state
    fire(
        order,
        application,
        "appeal",
        "rectification.appealed",
        actor,
        {"reason": reason},
        reason=reason,
    )
    order.appeal_reason, order.appealed_at, order.appealed_from = (
        reason.strip(),
        clock.now(),
        before,
    )


def _decide_appeal(order, application, actor, upheld, reason):
    event = "rectification.appeal_upheld" if upheld else "rectification.appeal_rejected"
    fire(
        order,
        application,
        "decide_appeal",
        event,
        actor,
        {"upheld": upheld, "reason": reason},
        upheld=upheld,
        reason=reason,
    )
    now = clock.now()
    order.appeal_upheld, order.appeal_decision, order.appeal_decided_at = upheld, reason, now
    if upheld:
        # out of the statistics, never out of the record
        rating = order.rating
        rating.excluded, rating.excluded_at = True, now
        record(
            application,
            "rating.excluded",
            by=actor,
            details={"rating_id": rating.id, "rectification_id": order.id, "reason": reason},
        )


HANDLERS = {
    "follow_up": _follow_up,
    "rectify": _rectify,
    "explain": _explain,
    "close": _close,
    "appeal": _appeal,
    "decide_appeal": _decide_appeal,
}


def assess(order: Rectification, application: Application, verdict: str, by: Actor) -> None:
    """整改评价: the rater's verdict on a closed work order (once)."""
    try:
        RECTIFICATION.fire("rate", order, verdict=verdict)
    except ActionNotAllowed as exc:
        if order.verdict:
            raise Conflict("已经评价过整改结果 (the rectification was already rated)") from exc
        raise Conflict(
            "整改办结后才能评价整改结果 (the rectification is not closed yet)",
            state=order.state,
        ) from exc
    now = clock.now()
    order.verdict, order.verdict_at, order.updated_at = verdict, now, now
    record(
        application,
        "rectification.rated",
        by=by,
        details={"rectification_id": order.id, "verdict": verdict},
    )
