"""办件查询 — what a citizen sees with acceptance number + query code (masked, allow-listed)."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select

from ... import clock
from ...catalog.versions import item_of
from ...extensions import db
from ...models import Department, Event, Rating, Step
from ...rules.masking import mask_applicant
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
    return public_view(authenticate(number_text, query_code))


def proven(number_text: str) -> PublicStatus:
    """The public view of a case whose number and query code this visitor proved earlier (the
    citizen's pages remember that proof in their session for a while; web.citizen)."""
    return public_view(find_proven(number_text))


def public_view(application) -> PublicStatus:
    """What the applicant may see of a case (masked, allow-listed)."""
    rating = rating_of(application)
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
        progress=_progress(application),
        timeline=_timeline(application),
        result=_result(application, application.details or {}),
        can_rate=may_rate(application, rating),
        rating=rating,
    )


# The lookup's reads, built once (executed with the case's id bound): the columns shown only.
_PROGRESS = (
    select(Step.stage, Step.department, Department.name, Step.name, Step.state, Step.completed_at)
    .outerjoin(Department, Department.code == Step.department)
    .where(Step.application_id == bindparam("application_id"))
    .order_by(Step.stage, Step.id)
)
_TIMELINE = (
    select(Event.at, Event.type)
    .where(Event.application_id == bindparam("application_id"), Event.type.in_(PUBLIC_EVENTS))
    .order_by(Event.seq)
)


def _progress(application) -> list[Progress]:
    """Per stage and department: the step, its state and the day it finished."""
    rows = db.session.execute(_PROGRESS, {"application_id": application.id})
    return [
        Progress(
            stage=stage + 1,
            department=department_name or department,
            step=name,
            state=state,
            state_label=STEP.labels[state],
            finished_on=clock.local(completed_at).date() if completed_at else None,
        )
        for stage, department, department_name, name, state, completed_at in rows
    ]


def _timeline(application) -> list[TimelineEntry]:
    """The public events of the case's record, in order (their time and type only)."""
    rows = db.session.execute(_TIMELINE, {"application_id": application.id})
    return [TimelineEntry(at, PUBLIC_EVENTS[kind]) for at, kind in rows]


def _result(application, details) -> Result | None:
    delivery = details.get("delivery_record")
    if delivery:
        return Result(True, delivery["method"], delivery["tracking"])
    if application.state == "result_ready":
        return Result(False, (application.delivery or {}).get("method", "window"), None)
    return None
