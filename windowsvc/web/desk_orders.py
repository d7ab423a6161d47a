"""差评整改 — the department's work orders on the desk, and the buttons of the order's machine.

The rater is never shown here: no name, phone or ID number, only the rating itself (level,
tags, comment) with the case's number and item.
"""

from types import SimpleNamespace

from flask import abort, flash, g, redirect, render_template, request, url_for

from .. import clock
from ..catalog.versions import item_of
from ..platform.errors import Conflict
from ..platform.policy import allow
from ..rules.ratings import LEVELS, VERDICTS, tag_labels
from ..services.cases.event_labels import staff_label
from ..services.cases.records import events_of
from ..services.ratings import rectification_views, rectifications
from ..workflows import GuardViolation
from ..workflows.rectification import RECTIFICATION
from . import desk_forms
from .desk import PER_PAGE, SUPERVISOR, bp

# the supervisor's buttons, in the order of the loop
ACTIONS = {
    "follow_up": "记录回访",
    "rectify": "记录整改措施",
    "explain": "解释说明",
    "close": "整改办结",
    "appeal": "提出申诉",
}


@bp.get("/orders", endpoint="orders")
@allow(SUPERVISOR)
def orders():
    """The department's work orders, most urgent first."""
    state = request.args.get("state", "")
    errors = {}
    if state and state not in RECTIFICATION.labels:
        errors["state"] = "没有这个工单状态"
    page = desk_forms.whole_number(
        {"page": request.args.get("page", "1")}, "page", "页码", 1, 100_000, {}
    )
    rows, total = [], 0
    if not errors and page is not None:
        found, total = _orders_page(g.actor, state or None, page)
        rows = [order_view(o) for o in found]
    body = render_template(
        "web/desk/orders.html",
        rows=rows,
        total=total,
        page=page or 1,
        per_page=PER_PAGE,
        state=state,
        states=RECTIFICATION.labels,
        errors=errors,
    )
    return body, 422 if errors else 200


def _orders_page(actor, state, page):
    """One page of work orders (Rectification rows) and their total."""
    return rectification_views.listing(actor, state=state, page=page, per_page=PER_PAGE)


def order_view(order) -> SimpleNamespace:
    """A work order as the desk shows it: the case and the rating, never the rater."""
    rating, application = order.rating, order.application
    return SimpleNamespace(
        id=order.id,
        number=application.number,
        item_name=item_of(application).name,
        state=order.state,
        state_label=RECTIFICATION.labels[order.state],
        due_date=order.due_date,
        due_date_provisional=order.due_date_provisional,
        overdue=rectification_views.is_overdue(order, clock.today()),
        opened_at=order.opened_at,
        level=rating.level,
        level_label=LEVELS[rating.level],
        tags=tag_labels(rating.tags or []),
        comment=rating.comment,
        rated_at=rating.rated_at,
        excluded=rating.excluded,
        contacted_at=order.contacted_at,
        follow_up_summary=order.follow_up_summary,
        measures=order.measures,
        explanation=order.explanation,
        closed_at=order.closed_at,
        appeal_reason=order.appeal_reason,
        appealed_at=order.appealed_at,
        appeal_upheld=order.appeal_upheld,
        appeal_decision=order.appeal_decision,
        verdict_label=VERDICTS.get(order.verdict),
    )


@bp.get("/orders/<int:order_id>", endpoint="order")
@allow(SUPERVISOR)
def order(order_id):
    """One work order with the actions its state offers."""
    return _order_page(order_id)


def _order_page(order_id, errors=None, values=None, status=200):
    actor = g.actor
    found = rectification_views.find(order_id, actor)
    allowed = rectification_views.allowed_actions(found, actor.role)
    body = render_template(
        "web/desk/order.html",
        order=order_view(found),
        actions=[(a, label) for a, label in ACTIONS.items() if a in allowed],
        history=_history(found),
        errors=errors or {},
        values=values or {},
        now=clock.local(clock.now()).strftime("%Y-%m-%dT%H:%M"),
    )
    return body, status


def _history(order) -> list[SimpleNamespace]:
    """The work order's own events on the case's record, for ``ui.timeline``."""
    return [
        SimpleNamespace(
            at=e.at,
            title=staff_label(e.type),
            actor=e.actor_name,
            detail=None,
        )
        for e in events_of(order.application)
        if e.type.startswith("rectification.")
        and (e.details or {}).get("rectification_id") == order.id
    ]


@bp.post("/orders/<int:order_id>/<action>", endpoint="order_action")
@allow(SUPERVISOR)
def order_action(order_id, action):
    """One step of the loop: 回访, 整改, 解释说明, 办结, 申诉."""
    if action not in ACTIONS:
        abort(404)
    payload, errors = desk_forms.order_payload(action, request.form)
    if errors:
        return _order_page(order_id, {action: errors}, {action: request.form}, 422)
    try:
        rectifications.perform(order_id, action, g.actor, payload)
    except GuardViolation as exc:
        errors = {action: {exc.field or "form": exc.message}}
        return _order_page(order_id, errors, {action: request.form}, 422)
    except Conflict as exc:
        flash(f"未能{ACTIONS[action]}: {exc.detail}", "error")
        return redirect(url_for(".order", order_id=order_id))
    flash(f"已{ACTIONS[action]}。", "success")
    return redirect(url_for(".order", order_id=order_id))
