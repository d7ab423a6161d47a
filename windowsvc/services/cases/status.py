"""办件查询 — what a citizen sees with acceptance number + query code (masked, allow-listed)."""

from ... import clock
from ...catalog.versions import item_of
from ...rules.masking import mask_applicant
from ...workflows.lifecycle import LIFECYCLE
from ...workflows.step import STEP
from ..admin.catalog import department_names
from ..calendar.working import provisional_note
from ..ratings.ratings import for_status
from .lookup import authenticate, find_proven
from .records import events_of

NOT_FOUND = "未查到办件: 请核对受理号和查询密码 (no application matches this number and code)"

PUBLIC_EVENTS = {
    "application.received": "已收件",
    "application.accepted": "已受理",
    "application.correction_requested": "请补正材料",
    "application.supplemented": "已补正材料",
    "application.refused": "不予受理",
    "application.suspended": "进入特别程序",
    "application.resumed": "特别程序结束",
    "application.extended": "办理期限已延长",
    "application.withdrawn": "已撤回",
    "application.approved": "准予许可",
    "application.denied": "不予许可",
    "application.result_ready": "结果待领取",
    "application.processing_started": "办理中",
    "application.delivered": "已送达",
    "application.terminated": "已终止",
    "application.archived": "已归档",
    "rating.given": "已评价",
    "rectification.opened": "差评已转部门整改",
    "rectification.followed_up": "已回访",
    "rectification.closed": "整改已办结",
}


def lookup(number_text: str, query_code: str) -> dict:
    """The public view of an application: nothing outside this allow-list leaves the server."""
    return public_view(authenticate(number_text, query_code))


def proven(number_text: str) -> dict:
    """The public view of a case whose number and query code this visitor proved earlier (the
    citizen's pages remember that proof in their session for a while; web.citizen)."""
    return public_view(find_proven(number_text))


def public_view(application) -> dict:
    """What the applicant may see of a case (masked, allow-listed)."""
    details = application.details or {}
    timeline = [
        {"at": e.at, "label": PUBLIC_EVENTS[e.type]}
        for e in events_of(application)
        if e.type in PUBLIC_EVENTS
    ]
    return {
        "number": application.number,
        "item_name": item_of(application).name,
        "state": application.state,
        "state_label": LIFECYCLE.labels[application.state],
        "applicant": mask_applicant(application.applicant),
        "received_at": application.received_at,
        "accepted_at": application.accepted_at,
        "due_date": application.due_date,
        "due_date_provisional": application.due_date_provisional,
        # the citizen is shown the promised date only: the note speaks of that date
        "provisional_note": provisional_note(application.acceptance_date, application.due_date)
        if application.due_date_provisional
        else None,
        "missing_materials": [m["name"] for m in application.missing or []]
        if application.state == "correction"
        else [],
        "progress": _progress(application),
        "timeline": timeline,
        "result": _result(application, details),
        **for_status(application),
    }


def _progress(application) -> list[dict]:
    """Per stage and department: the step, its state and the day it finished (no staff names)."""
    names = department_names()
    return [
        {
            "stage": step.stage + 1,
            "department": names.get(step.department, step.department),
            "step": step.name,
            "state": step.state,
            "state_label": STEP.labels[step.state],
            "finished_on": clock.local(step.completed_at).date() if step.completed_at else None,
        }
        for step in sorted(application.steps, key=lambda s: (s.stage, s.id))
    ]


def _result(application, details):
    delivery = details.get("delivery_record")
    if delivery:
        return {"delivered": True, "method": delivery["method"], "tracking": delivery["tracking"]}
    if application.state == "result_ready":
        method = (application.delivery or {}).get("method", "window")
        return {"delivered": False, "method": method, "tracking": None}
    return None
