"""What the workbench pages show, read from the domain objects the services return.

Every call whose return shape may change (the services are moving presentation out to the API)
is made here, in one small function each, so the pages adapt in one place.
"""

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from ..catalog.versions import item_of
from ..rules.masking import mask_applicant
from ..services.admin.catalog import department_names
from ..services.cases import applications, records
from ..services.cases.event_labels import staff_label
from ..services.cases.queues import AWAITING_CORRECTION
from ..services.cases.records import SYSTEM
from ..workflows.lifecycle import LIFECYCLE, outstanding_deferrals
from .case_view import STEP_OUTCOMES, stages_of
from .labels import CHANNEL_LABELS, DELIVERY_LABELS, NOTICE_STATES
from .workbench_forms import FORMS, SUSPENSION_LABELS, defaults

# notices the counter reprints (web_counter.notice), by the event that calls for them
REPRINTS = {
    "application.received": ("receipt", "收件回执"),
    "application.correction_requested": ("correction", "一次性补正告知书"),
    "application.refused": ("refusal", "不予受理决定书"),
    "application.denied": ("denial", "不予许可决定书"),
}
DEFERRAL = ("deferral", "容缺受理承诺书")


# -- the service calls (isolated) ---------------------------------------------------------


def read_case(number: str, actor):
    """The case with its personal data; the read is recorded (行为监控) like the API's detail."""
    return applications.read_for_staff(number, actor)


def events(application) -> list:
    """The case's lifecycle record, oldest first (rows with type, at, actor_name, details)."""
    return records.events_of(application)


def notices(application, actor) -> list:
    """The notices sent for the case with their delivery status."""
    return applications.notices_of(application.number, actor)


# -- the rows of a queue --------------------------------------------------------------------


def queue_row(application) -> SimpleNamespace:
    """A case as a queue lists it: personal data masked as the API's listings mask it."""
    flags = applications.deadline_flags(application)
    return SimpleNamespace(
        number=application.number,
        item_name=item_of(application).name,
        applicant=mask_applicant(application.applicant or {})["name"],
        channel=CHANNEL_LABELS.get(application.channel, application.channel),
        state_label=LIFECYCLE.labels[application.state],
        received_at=application.received_at,
        due_date=application.due_date,
        due_provisional=application.due_date_provisional,
        provisional_note=flags["provisional_note"],
        warning=application.warning_level,
    )


# -- the case page --------------------------------------------------------------------------


@dataclass
class Entry:
    """One line of the timeline (``ui.timeline``)."""

    at: datetime
    title: str
    actor: str | None
    detail: str | None


def case_page(application, actor) -> dict:
    """Everything the case page shows, for ``web/workbench/case.html``."""
    item = item_of(application)
    details = application.details or {}
    recorded = events(application)
    names = department_names()
    step_names = {s.code: s.name for s in application.steps}
    return {
        "case": application,
        "item": item,
        "state_label": LIFECYCLE.labels[application.state],
        "channel_label": CHANNEL_LABELS.get(application.channel, application.channel),
        "flags": applications.deadline_flags(application),
        "correction_limit": applications.correction_limit(application),
        "details": details,
        "decision": details.get("decision"),
        "delivery_label": DELIVERY_LABELS,
        "suspension_label": SUSPENSION_LABELS,
        "stages": stages_of(application, names),
        "timeline": [timeline_entry(e, step_names, names) for e in recorded],
        "notices": [
            SimpleNamespace(
                title=n.title,
                state=n.state,
                state_label=NOTICE_STATES.get(n.state, (n.state,))[0],
                created_at=n.created_at,
                sent_at=n.sent_at,
                last_error=n.last_error,
            )
            for n in notices(application, actor)
        ],
        "reprints": reprints(application, recorded),
        "options": material_options(application, item),
    }


def material_options(application, item) -> SimpleNamespace:
    """(code, name) choices of the correction form (the item's checklist) and of the supplement
    form (what is missing while in correction; later, the 容缺 materials still outstanding)."""
    checklist = [
        (m["code"], m["name"] if m.get("required", True) else f"{m['name']}（非必交）")
        for m in item.definition.get("materials", [])
    ]
    if application.state in AWAITING_CORRECTION:
        pending = application.missing or []
    else:
        pending = outstanding_deferrals(application)
    return SimpleNamespace(
        correction=checklist, supplement=[(m["code"], m["name"]) for m in pending]
    )


def timeline_entry(event, steps=None, names=None) -> Entry:
    """An event as a line of the timeline, with the few details a clerk needs."""
    details = event.details or {}
    steps, names = steps or {}, names or {}
    parts = []
    if event.type == "stage.opened" and isinstance(details.get("stage"), int):
        opened = "、".join(
            f"{names.get(s.get('department'), s.get('department'))}"
            f"（{steps.get(s.get('code'), s.get('code'))}）"
            for s in details.get("steps", [])
        )
        parts.append(f"第 {details['stage'] + 1} 阶段: {opened}")
    if event.type.startswith("step.") and details.get("step"):
        department = names.get(details.get("department"), details.get("department"))
        parts.append(f"{department}: {steps.get(details['step'], details['step'])}")
        if details.get("outcome"):
            parts.append(STEP_OUTCOMES.get(details["outcome"], details["outcome"]))
        if details.get("comment"):
            parts.append(details["comment"])
    if details.get("missing"):
        parts.append(
            "缺: " + "、".join(m.get("name", m.get("code", "")) for m in details["missing"])
        )
    if details.get("reason"):
        parts.append(f"理由: {details['reason']}")
    if details.get("method"):
        parts.append("方式: " + DELIVERY_LABELS.get(details["method"], details["method"]))
    if details.get("tracking"):
        parts.append(f"运单号: {details['tracking']}")
    if details.get("result") and isinstance(details["result"], str):
        parts.append(f"结果: {details['result']}")
    if details.get("due_date") and event.type == "application.accepted":
        parts.append(f"承诺办结: {details['due_date']}")
    by = "系统自动" if event.actor_role == SYSTEM.role else event.actor_name
    return Entry(event.at, staff_label(event.type), by, "；".join(parts) or None)


def reprints(application, recorded) -> list[tuple[str, str]]:
    """(kind, title) of the notices this case's history calls for, in the order they arose."""
    found = []
    for event in recorded:
        kind = REPRINTS.get(event.type)
        if kind and kind not in found:
            found.append(kind)
    if application.deferred:
        found.append(DEFERRAL)
    return found


def action_forms(application, role: str, values=None, open_action=None) -> list[dict]:
    """The actions ``role`` may take now, each with its form's values (defaults or as posted)."""
    offered = []
    for action in applications.allowed_actions(application, role):
        form = FORMS.get(action)
        if form is None:
            continue
        posted = action == open_action and values is not None
        offered.append({"form": form, "data": values if posted else defaults(action, application)})
    return offered
