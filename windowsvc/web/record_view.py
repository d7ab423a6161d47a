"""The record page's view model: a case's events, chain check, steps, notices and rating, read
from the models and the domain queries (no ``present*()``), shaped for the template.

Every call whose return shape may still change (notices as dicts today) is isolated here in one
small function.
"""

import json
from dataclasses import dataclass
from types import SimpleNamespace

from .. import clock
from ..catalog.versions import item_of
from ..rules.masking import mask_name, mask_phone
from ..rules.ratings import LEVELS, VERDICTS, tag_labels
from ..services.admin.catalog import department_names
from ..services.cases import applications
from ..services.cases.event_labels import STAFF_EVENTS, staff_label
from ..services.cases.records import events_of
from ..services.oversight.audit import verify_case
from ..services.ratings.ratings import rating_of
from ..services.ratings.rectification_views import is_overdue
from ..workflows.lifecycle import LIFECYCLE
from ..workflows.rectification import RECTIFICATION
from .case_view import stages_of
from .labels import NOTICE_STATES
from .record_labels import FAULTS, ROLES

HASH_SHORT = 12
DETAILS_SHORT = 120


@dataclass(frozen=True)
class Row:
    """One event as the table shows it."""

    seq: int
    at: object
    actor: str
    role: str
    from_state: str | None
    to_state: str | None
    type: str
    type_label: str | None
    details: str
    details_short: str
    hash: str
    prev_hash: str
    fault: str | None

    @property
    def hash_short(self) -> str:
        return self.hash[:HASH_SHORT]


def case_record(application) -> SimpleNamespace:
    """Everything the record page shows of one case."""
    names = department_names()
    events = events_of(application)
    chain = verify_case(application)
    faults = {p["seq"]: FAULTS.get(p["kind"], p["kind"]) for p in chain["problems"]}
    path = lifecycle_path(events)
    return SimpleNamespace(
        case=_case(application),
        events=[_row(e, faults.get(e.seq)) for e in events],
        chain=SimpleNamespace(
            ok=chain["ok"],
            checked=chain["checked"],
            problems=[
                SimpleNamespace(**p, label=FAULTS.get(p["kind"], p["kind"]))
                for p in chain["problems"]
            ],
        ),
        path=path,
        states_passed=states_passed(path),
        stages=stages_of(application, names),
        rating=_rating(application, names),
        labels=LIFECYCLE.labels,
    )


def _case(application) -> SimpleNamespace:
    flags = applications.deadline_flags(application)
    applicant = application.applicant or {}
    return SimpleNamespace(
        number=application.number,
        item_name=item_of(application).name,
        state=application.state,
        state_label=LIFECYCLE.labels.get(application.state, application.state),
        applicant=mask_name(applicant.get("name", "")),
        received_at=application.received_at,
        acceptance_date=application.acceptance_date,
        due_date=application.due_date,
        legal_due_date=application.legal_due_date,
        concluded_on=application.concluded_on,
        due_date_provisional=flags["due_date_provisional"],
        legal_due_date_provisional=flags["legal_due_date_provisional"],
        provisional_note=flags["provisional_note"],
        warning_level=application.warning_level,
    )


def _row(event, fault) -> Row:
    details = compact(event.details)
    return Row(
        seq=event.seq,
        at=event.at,
        actor=event.actor_name,
        role=ROLES.get(event.actor_role, event.actor_role),
        from_state=event.from_state,
        to_state=event.to_state,
        type=event.type,
        type_label=STAFF_EVENTS.get(event.type),
        details=details,
        details_short=details if len(details) <= DETAILS_SHORT else details[:DETAILS_SHORT] + "…",
        hash=event.hash,
        prev_hash=event.prev_hash,
        fault=fault,
    )


def compact(details) -> str:
    """An event's details on one line: key: value; nested values as compact JSON."""
    if not details:
        return ""
    if not isinstance(details, dict):
        return _json(details)
    parts = []
    for key, value in details.items():
        if value is None or value == [] or value == {}:
            continue
        parts.append(f"{key}: {value if isinstance(value, str) else _json(value)}")
    return "；".join(parts)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def lifecycle_path(events) -> list[tuple[str | None, str]]:
    """The (from_state, to_state) pairs of the case's own lifecycle, in order.

    Only lifecycle events carry states (a step's or a work order's moves are in their details);
    anything not a state of the lifecycle is left out all the same.
    """
    known = LIFECYCLE.labels
    return [
        (e.from_state, e.to_state)
        for e in events
        if e.to_state in known and (e.from_state is None or e.from_state in known)
    ]


def states_passed(path) -> list[str]:
    """The states the case passed through, in order (a stay in the same state counted once)."""
    passed = []
    for source, dest in path:
        if not passed and source is not None:
            passed.append(source)
        if not passed or passed[-1] != dest:
            passed.append(dest)
    return passed


def notices(number: str, actor) -> list[SimpleNamespace]:
    """The case's notices with their delivery status; the recipient's phone masked."""
    rows = []
    for notice in applications.notices_of(number, actor):

        def get(key, n=notice):
            return getattr(n, key, None)

        label, kind = NOTICE_STATES.get(get("state"), (get("state"), "neutral"))
        rows.append(
            SimpleNamespace(
                title=get("title"),
                event=staff_label(get("event")),
                target=mask_phone(get("target") or ""),
                state_label=label,
                state_kind=kind,
                attempts=get("attempts"),
                created_at=get("created_at"),
                sent_at=get("sent_at"),
                last_error=get("last_error"),
            )
        )
    return rows


def _rating(application, names) -> SimpleNamespace | None:
    """The rating (level, tags, comment: never who gave it) and its work order, if any."""
    rating = rating_of(application)
    if rating is None:
        return None
    order = rating.rectification
    return SimpleNamespace(
        level=rating.level,
        level_label=LEVELS.get(rating.level, str(rating.level)),
        tags=tag_labels(rating.tags or []),
        comment=rating.comment,
        rated_at=rating.rated_at,
        is_default=rating.is_default,
        excluded=rating.excluded,
        order=_order(order, names) if order is not None else None,
    )


def _order(order, names) -> SimpleNamespace:
    return SimpleNamespace(
        id=order.id,
        department=names.get(order.department, order.department),
        state_label=RECTIFICATION.labels.get(order.state, order.state),
        due_date=order.due_date,
        due_date_provisional=order.due_date_provisional,
        overdue=is_overdue(order, clock.today()),
        opened_at=order.opened_at,
        followed_up_at=order.followed_up_at,
        follow_up_summary=order.follow_up_summary,
        measures=order.measures,
        explanation=order.explanation,
        closed_at=order.closed_at,
        appeal_reason=order.appeal_reason,
        appeal_upheld=order.appeal_upheld,
        appeal_decision=order.appeal_decision,
        verdict=VERDICTS.get(order.verdict) if order.verdict else None,
    )
