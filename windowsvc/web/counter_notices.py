"""综合受理 pages: a case as its printed notices read it, and which notices a case has.

Reads model attributes only (no ``present*()``): the services' presentation is moving to the API.
"""

from dataclasses import dataclass, field
from datetime import date

import segno
from flask import current_app, request

from ..catalog.versions import item_of
from ..rules.masking import mask_id_number
from ..services.admin import catalog
from ..services.cases import applications
from ..services.cases.decisions import DEFAULT_RIGHTS_NOTICE
from ..services.cases.records import events_of
from ..workflows.lifecycle import LIFECYCLE
from .counter_forms import APPLICANT_TYPES, ID_TYPE_LABELS, MODE_LABELS
from .labels import DELIVERY_LABELS

# kind → its title; "receipt" is 受理通知书 once accepted, 收件回执 before
NOTICE_TITLES = {
    "receipt": "受理通知书",
    "correction": "补正告知书",
    "refusal": "不予受理决定书",
    "denial": "不予许可决定书",
    "deferral": "容缺受理通知书",
}


@dataclass
class CaseNotice:
    """What the notices print about a case."""

    number: str
    state_label: str
    item_code: str
    item_name: str
    mode_label: str
    department_name: str
    applicant_name: str
    applicant_type: str
    id_type_label: str
    id_number_masked: str
    received_at: object
    accepted: bool
    acceptance_date: date | None
    due_date: date | None
    legal_due_date: date | None
    flags: dict
    delivery_label: str | None
    correction: dict | None = None
    correction_limit: dict | None = None
    refusal: dict | None = None
    denial: dict | None = None
    deferred: list = field(default_factory=list)
    kinds: list = field(default_factory=list)  # the notices this case has, in NOTICE_TITLES order

    def title(self, kind: str) -> str:
        """A notice's title; the receipt of a case not (yet) accepted is a 收件回执."""
        if kind == "receipt" and not self.accepted:
            return "收件回执"
        return NOTICE_TITLES[kind]


def read_case(number: str, actor, purpose: str = "notice") -> CaseNotice:
    """The case's notice view; the read of its personal data is recorded (行为监控)."""
    return _view(applications.read_for_staff(number, actor, purpose=purpose))


def _view(application) -> CaseNotice:
    item = item_of(application)
    details = application.details or {}
    applicant = application.applicant or {}
    view = CaseNotice(
        number=application.number,
        state_label=LIFECYCLE.labels[application.state],
        item_code=application.item_code,
        item_name=item.name,
        mode_label=MODE_LABELS.get(item.mode, item.mode),
        department_name=catalog.department_names().get(item.department, item.department),
        applicant_name=applicant.get("name", ""),
        applicant_type=APPLICANT_TYPES.get(applicant.get("type"), ""),
        id_type_label=ID_TYPE_LABELS.get(applicant.get("id_type"), "证件"),
        id_number_masked=mask_id_number(applicant.get("id_number", "")),
        received_at=application.received_at,
        accepted=application.acceptance_date is not None,
        acceptance_date=application.acceptance_date,
        due_date=application.due_date,
        legal_due_date=application.legal_due_date,
        flags=applications.deadline_flags(application),
        delivery_label=DELIVERY_LABELS.get(application.delivery_method),
        correction=details.get("correction"),
        correction_limit=applications.correction_limit(application),
        refusal=details.get("refusal"),
        denial=_denial(application, details),
        deferred=list(application.deferred or []),
    )
    view.kinds = [kind for kind in NOTICE_TITLES if _applies(kind, view)]
    return view


def _applies(kind: str, view: CaseNotice) -> bool:
    """Whether the case's state and history have the notice."""
    return {
        "receipt": True,
        "correction": bool(view.correction and view.correction.get("missing")),
        "refusal": bool(view.refusal),
        "denial": bool(view.denial),
        "deferral": view.accepted and bool(view.deferred),
    }[kind]


def _denial(application, details) -> dict | None:
    """不予许可: the decision's reason and the appeal-rights notice the engine recorded with it."""
    decision = details.get("decision") or {}
    if decision.get("outcome") != "deny":
        return None
    rights = None
    for event in reversed(events_of(application)):
        if event.type == "application.denied":
            rights = (event.details or {}).get("rights_notice")
            break
    return {
        "reason": decision.get("reason") or "",
        "rights_notice": rights or DEFAULT_RIGHTS_NOTICE,
        "at": decision.get("at"),
    }


def status_url(number: str) -> str:
    """The citizen status page with the number filled in (never the query code)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return f"{base.rstrip('/')}/query/?number={number}"


def qr_svg(url: str) -> str:
    """The URL as an inline SVG QR code (segno), for printing."""
    return segno.make(url, error="m").svg_inline(scale=3, border=2)
