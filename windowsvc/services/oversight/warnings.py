"""电子监察: warnings and cards on open cases and steps (indicators live in ``indicators``).

Candidates are selected in SQL (open, clock running, due up to the horizon of the widest warning
window); their levels are computed with the pure rule.
"""

from datetime import date

from sqlalchemy import and_, func, or_, select

from ... import clock
from ...catalog.versions import item_of
from ...db import write_transaction
from ...extensions import db
from ...models import Application, CatalogItem, Step
from ...platform.context import setting
from ...rules.warnings import LEVELS, Thresholds, assess, horizon, severity
from ...workflows.lifecycle import LONGEST_EXTENSION, OPEN_AFTER_ACCEPTANCE
from ...workflows.step import OPEN_STATES as OPEN_STEP_STATES
from ..calendar.working import working_calendar
from ..cases.records import SYSTEM, record
from ..ratings import rectification_views

BATCH = 200


def thresholds() -> Thresholds:
    """WARNING_DAYS and RED_CARD_DAYS of the running app."""
    return Thresholds(int(setting("WARNING_DAYS")), int(setting("RED_CARD_DAYS")))


def _clock_running():
    """SQL: the case is open and its clock runs (not suspended, no pause under way).

    Open: accepted and not decided; `correction` after acceptance is a department's correction.
    A suspended case (特别程序) or any case whose clock is paused carries no level."""
    return and_(
        Application.state.in_(OPEN_AFTER_ACCEPTANCE),
        Application.state != "suspended",
        Application.acceptance_date.is_not(None),
        Application.pause_started_on.is_(None),
    )


def _is_running(application) -> bool:
    """The same test on a loaded case."""
    return (
        application.state in OPEN_AFTER_ACCEPTANCE
        and application.state != "suspended"
        and application.acceptance_date is not None
        and application.pause_started_on is None
    )


def _horizon(today: date, limits: Thresholds) -> date:
    longest = db.session.scalar(select(func.max(CatalogItem.legal_days))) or 0
    return horizon(today, longest + LONGEST_EXTENSION, working_calendar(), limits)


def _case_levels(application, item, today, limits):
    """(promised, legal) assessments of a case; an extension lengthens both limits."""
    extra = int(((application.details or {}).get("extension") or {}).get("days") or 0)
    calendar = working_calendar()
    promised = assess(today, application.due_date, item.promised_days + extra, calendar, limits)
    legal = None
    if application.legal_due_date:
        legal = assess(today, application.legal_due_date, item.legal_days + extra, calendar, limits)
    return promised, legal


def _worst(promised, legal):
    return max(promised.level, legal.level if legal else None, key=severity)


def warnings(department: str | None = None) -> dict:
    """Open cases and steps with a level today, flags, refusals recorded without a reason, and
    差评整改 work orders past their due date."""
    today, limits = clock.today(), thresholds()
    last = _horizon(today, limits)
    cases = _case_warnings(today, last, limits, department)
    steps = _step_warnings(today, last, limits, department)
    refusals = _refusals_without_reason(department)
    rectifications_overdue = rectification_views.overdue(department)
    summary = {level: sum(c["level"] == level for c in cases) for level in LEVELS}
    summary.update(
        legal_overdue=sum(c["legal_overdue"] for c in cases),
        instant_overdue=sum(c["instant_overdue"] for c in cases),
        steps=len(steps),
        stage_overtime=sum(s["stage_overtime"] for s in steps),
        refusals_without_reason=len(refusals),
        rectifications_overdue=len(rectifications_overdue),
    )
    return {
        "as_of": today,
        "warning_days": limits.warning_days,
        "red_card_days": limits.red_card_days,
        "summary": summary,
        "cases": cases,
        "steps": steps,
        "refusals_without_reason": refusals,
        "rectifications_overdue": rectifications_overdue,
    }


def _case_warnings(today, last, limits, department):
    query = (
        select(Application, CatalogItem)
        .join(CatalogItem, Application.item_id == CatalogItem.id)
        .where(
            _clock_running(),
            or_(Application.due_date <= last, Application.legal_due_date <= last),
        )
        .order_by(Application.due_date, Application.id)
    )
    if department:
        query = query.where(CatalogItem.department == department)
    found = []
    for application, item in db.session.execute(query):
        promised, legal = _case_levels(application, item, today, limits)
        if _worst(promised, legal) is None:
            continue
        found.append(
            {
                "number": application.number,
                "item_code": item.code,
                "item_name": item.name,
                "department": item.department,
                "state": application.state,
                "instant": item.instant,
                "acceptance_date": application.acceptance_date,
                "due_date": application.due_date,
                "legal_due_date": application.legal_due_date,
                "deadlines_provisional": application.due_date_provisional
                or application.legal_due_date_provisional,
                "level": promised.level,
                "working_days_left": promised.working_days_left,
                "working_days_over": promised.working_days_over,
                "legal_level": legal.level if legal else None,
                "legal_overdue": bool(legal and legal.overdue),
                "legal_working_days_over": legal.working_days_over if legal else 0,
                "instant_overdue": bool(item.instant and promised.overdue),
            }
        )
    return sorted(found, key=lambda c: -max(severity(c["level"]), severity(c["legal_level"])))


def _step_warnings(today, last, limits, department):
    query = (
        select(Step, Application.number, Application.due_date)
        .join(Application, Step.application_id == Application.id)
        .where(_clock_running(), Step.state.in_(OPEN_STEP_STATES), Step.due_date <= last)
        .order_by(Step.due_date, Step.id)
    )
    if department:
        query = query.where(Step.department == department)
    found = []
    for step, number, case_due in db.session.execute(query):
        assessment = assess(today, step.due_date, step.days, working_calendar(), limits)
        if assessment.level is None:
            continue
        found.append(
            {
                "id": str(step.id),
                "number": number,
                "stage": step.stage,
                "code": step.code,
                "name": step.name,
                "department": step.department,
                "state": step.state,
                "due_date": step.due_date,
                "due_date_provisional": step.due_date_provisional,
                "case_due_date": case_due,
                "level": assessment.level,
                "working_days_left": assessment.working_days_left,
                "working_days_over": assessment.working_days_over,
                # 环节超时: the step is late although the case as a whole is still on time
                "stage_overtime": assessment.overdue and today <= case_due,
            }
        )
    return sorted(found, key=lambda s: -severity(s["level"]))


def _refusals_without_reason(department):
    """不予受理 recorded without a reason: blocked at the source, flagged if one ever appears."""
    reason = func.trim(func.coalesce(Application.details[("refusal", "reason")].as_string(), ""))
    query = (
        select(
            Application.number, CatalogItem.code, CatalogItem.department, Application.concluded_on
        )
        .join(CatalogItem, Application.item_id == CatalogItem.id)
        .where(Application.state == "not_accepted", reason == "")
        .order_by(Application.id)
    )
    if department:
        query = query.where(CatalogItem.department == department)
    return [
        {"number": n, "item_code": code, "department": dept, "concluded_on": on}
        for n, code, dept, on in db.session.execute(query)
    ]


def update_warning_levels() -> int:
    """Store each open case's level on the case (None elsewhere); return how many changed.

    A rising level is recorded on the case as ``oversight.<level>``; a falling one is not (the
    case was concluded, paused or extended, which its record already shows).
    """
    today, limits = clock.today(), thresholds()
    last = _horizon(today, limits)
    candidates = db.session.scalars(
        select(Application.id)
        .where(
            or_(
                and_(
                    _clock_running(),
                    or_(Application.due_date <= last, Application.legal_due_date <= last),
                ),
                Application.warning_level.is_not(None),
            )
        )
        .order_by(Application.id)
    ).all()
    changed = 0
    for start in range(0, len(candidates), BATCH):
        with write_transaction():
            changed += _update_batch(candidates[start : start + BATCH], today, limits)
    return changed


def _update_batch(ids, today, limits) -> int:
    changed = 0
    # a case another transaction holds is left for the next sweep
    rows = db.session.scalars(
        select(Application)
        .where(Application.id.in_(ids))
        .with_for_update(skip_locked=True, key_share=True)
    )
    for application in rows:
        level, details = _stored_level(application, today, limits)
        previous = application.warning_level
        if level == previous:
            continue
        application.warning_level = level
        changed += 1
        if severity(level) > severity(previous):
            record(
                application, f"oversight.{level}", by=SYSTEM, details={**details, "from": previous}
            )
    return changed


def _stored_level(application, today, limits):
    """The level to store on a case (None unless its clock runs) and the details to record."""
    if not _is_running(application) or application.due_date is None:
        return None, {}
    promised, legal = _case_levels(application, item_of(application), today, limits)
    details = {
        "due_date": application.due_date.isoformat(),
        "working_days_left": promised.working_days_left,
        "working_days_over": promised.working_days_over,
    }
    if legal and legal.overdue:
        details.update(
            legal_due_date=application.legal_due_date.isoformat(),
            legal_working_days_over=legal.working_days_over,
        )
    return _worst(promised, legal), details
