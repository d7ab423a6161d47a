"""办件查询 — what a citizen sees with acceptance number + query code (masked, allow-listed)."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, literal_column, null, select, union_all

from ... import clock
from ...catalog.versions import item_of
from ...extensions import db
from ...models import Application, Department, Event, Rating, Step
from ...rules.masking import mask_applicant
from ...rules.ratings import is_concluded
from ...workflows.lifecycle import LIFECYCLE
from ...workflows.step import STEP
from ..calendar.working import provisional_note
from ..ratings.ratings import may_rate, rating_of
from .lookup import authenticate, find_proven

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


class TimelineEntry(NamedTuple):
    at: datetime
    label: str


class Progress(NamedTuple):
    """One step as the citizen sees it: no staff names."""

    stage: int  # counted from 1
    department: str  # the department's name
    step: str
    state: str
    state_label: str
    finished_on: date | None


class Result(NamedTuple):
    delivered: bool
    method: str
    tracking: str | None


@dataclass(frozen=True)
class PublicStatus:
    """What a citizen may see of a case, and nothing else (masked applicant, no staff names)."""

    number: str
    item_name: str
    state: str
    state_label: str
    applicant: dict  # masked
    received_at: datetime
    accepted_at: datetime | None
    due_date: date | None
    due_date_provisional: bool
    provisional_note: str | None  # the citizen is shown the promised date only: it speaks of that
    missing_materials: list[str]  # names, while a correction is awaited
    progress: list[Progress]
    timeline: list[TimelineEntry]
    result: Result | None
    can_rate: bool
    rating: Rating | None


def lookup(number_text: str, query_code: str) -> PublicStatus:
    """The public view of an application: nothing outside this allow-list leaves the server."""
    return public_view(authenticate(number_text, query_code, read=_case))


def proven(number_text: str) -> PublicStatus:
    """The public view of a case whose number and query code this visitor proved earlier (the
    citizen's pages remember that proof in their session for a while; web.citizen)."""
    return public_view(find_proven(number_text, read=_case))


# The lookup's reads, built once (executed with a number or the case's id bound): the columns
# shown only, as plain rows on the session's connection (no ORM entity: nothing here changes).
_cases, _steps, _departments, _events = (
    model.__table__ for model in (Application, Step, Department, Event)
)
_CASE = select(
    *(
        _cases.c[name]
        for name in (
            "id",
            "number",
            "query_code_hash",
            "item_id",
            "state",
            "applicant",
            "received_at",
            "accepted_at",
            "acceptance_date",
            "due_date",
            "due_date_provisional",
            "missing",
            "details",
            "delivery",
        )
    )
).where(_cases.c.number == bindparam("number"))
# The public event types are written into the statement: an IN list of bound values would be
# expanded again at every execution. They are this module's constants, checked to be plain names.
if not all(re.fullmatch(r"[a-z_.]+", kind) for kind in PUBLIC_EVENTS):
    raise ValueError("a public event type that is not a plain name")
# The steps (with their departments' names) and the public events in one statement: the steps
# first, by stage, then the events in their order. A row's ``at`` is a step's completion or an
# event's time (the same column type); its ``what`` is a step's state or an event's type.
_STEP, _EVENT = 0, 1
_PROGRESS_AND_TIMELINE = union_all(
    select(
        literal_column(str(_STEP), Integer).label("part"),
        _steps.c.stage.label("stage"),
        _steps.c.id.label("seq"),
        _steps.c.department,
        _departments.c.name.label("department_name"),
        _steps.c.name,
        _steps.c.state.label("what"),
        _steps.c.completed_at.label("at"),
    )
    .outerjoin(_departments, _departments.c.code == _steps.c.department)
    .where(_steps.c.application_id == bindparam("application_id")),
    select(
        literal_column(str(_EVENT), Integer),
        null(),
        _events.c.seq,
        null(),
        null(),
        null(),
        _events.c.type,
        _events.c.at,
    ).where(
        _events.c.application_id == bindparam("application_id"),
        _events.c.type.in_([literal_column(f"'{kind}'") for kind in PUBLIC_EVENTS]),
    ),
).order_by("part", "stage", "seq")


def _case(number: str):
    """The case with this normalised number: a row of the columns public_view reads, or None."""
    return db.session.connection().execute(_CASE, {"number": number}).first()


def public_view(application) -> PublicStatus:
    """What the applicant may see of a case (masked, allow-listed): ``application`` is a row of
    ``_CASE``'s columns (or an Application)."""
    # a rating exists only on a concluded case (ratings.add), and a concluded case stays so
    concluded = is_concluded(application.state, application.details)
    rating = rating_of(application) if concluded else None
    progress, timeline = _progress_and_timeline(application)
    return PublicStatus(
        number=application.number,
        item_name=item_of(application).name,
        state=application.state,
        state_label=LIFECYCLE.labels[application.state],
        applicant=mask_applicant(application.applicant),
        received_at=application.received_at,
        accepted_at=application.accepted_at,
        due_date=application.due_date,
        due_date_provisional=application.due_date_provisional,
        provisional_note=provisional_note(application.acceptance_date, application.due_date)
        if application.due_date_provisional
        else None,
        missing_materials=[m["name"] for m in application.missing or []]
        if application.state == "correction"
        else [],
        progress=progress,
        timeline=timeline,
        result=_result(application, application.details or {}),
        can_rate=may_rate(application, rating),
        rating=rating,
    )


def _progress_and_timeline(application) -> tuple[list[Progress], list[TimelineEntry]]:
    """Per stage and department: the step, its state and the day it finished; and the public
    events of the case's record, in order (their time and type only)."""
    rows = db.session.connection().execute(
        _PROGRESS_AND_TIMELINE, {"application_id": application.id}
    )
    progress, timeline = [], []
    for part, stage, _seq, department, department_name, name, what, at in rows:
        if part == _EVENT:
            timeline.append(TimelineEntry(at, PUBLIC_EVENTS[what]))
            continue
        progress.append(
            Progress(
                stage=stage + 1,
                department=department_name or department,
                step=name,
                state=what,
                state_label=STEP.labels[what],
                finished_on=clock.local(at).date() if at else None,
            )
        )
    return progress, timeline


def _result(application, details) -> Result | None:
    delivery = details.get("delivery_record")
    if delivery:
        return Result(True, delivery["method"], delivery["tracking"])
    if application.state == "result_ready":
        return Result(False, (application.delivery or {}).get("method", "window"), None)
    return None
