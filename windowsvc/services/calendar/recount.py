"""Counting provisional deadlines again once the official holiday notice is known.

A deadline is stored with a flag when a day of a year without the official notice went into it.
When a notice is loaded (and on every sweep, for anything written concurrently with a load), each
case with such a deadline is counted again from what made its dates — the acceptance date, the
item's limits, the pauses it made up, the extension — on the calendar as it now stands. Each
change is recorded in the case's lifecycle record: which date, the old and the new one, and why.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from ... import clock
from ...catalog.versions import item_of
from ...db import write_transaction
from ...extensions import db
from ...models import Application, Rectification, Step
from ...platform.context import setting
from ...rules.deadlines import Deadline, counted_from_parts, deadline, pause_length
from ...rules.deadlines import working_days_between as between
from ..cases.applications import lock, touch
from ..cases.records import SYSTEM, Actor, record
from .working import working_calendar


@dataclass
class RecountReport:
    """What a recount changed: cases touched, and dates moved or confirmed by kind."""

    cases: list[str] = field(default_factory=list)
    deadlines: int = 0
    steps: int = 0
    rectifications: int = 0
    still_provisional: int = 0

    def as_dict(self) -> dict:
        """The report as plain data (the API's answer, the load's history row)."""
        return {
            "cases": len(self.cases),
            "deadlines": self.deadlines,
            "steps": self.steps,
            "rectifications": self.rectifications,
            "still_provisional": self.still_provisional,
        }


def candidates(concluded_in_years=()) -> list[int]:
    """Cases with a provisional date anywhere, and cases concluded in the given years."""
    flagged = or_(
        Application.due_date_provisional,
        Application.legal_due_date_provisional,
        Application.id.in_(select(Step.application_id).where(Step.due_date_provisional)),
        Application.id.in_(
            select(Rectification.application_id).where(Rectification.due_date_provisional)
        ),
    )
    for year in concluded_in_years:
        flagged = or_(
            flagged, Application.concluded_on.between(date(year, 1, 1), date(year, 12, 31))
        )
    return list(db.session.scalars(select(Application.id).where(flagged).order_by(Application.id)))


def recount_all(why: str, by: Actor = SYSTEM, concluded_in_years=()) -> RecountReport:
    """Count every provisional date again: a read first, then one write transaction for each
    case whose dates change (so the sweep can run it every time at the cost of reads)."""
    report = RecountReport()
    for application_id in candidates(concluded_in_years):
        with db.session.no_autoflush:  # a read: nothing is written outside the lock below
            application = db.session.get(Application, application_id)
            changed = bool(recount_case(application))
            still = _still_provisional(application)
        db.session.rollback()  # drops what the read counted, and ends its transaction
        if not changed:
            report.still_provisional += int(still)
            continue
        with write_transaction():
            application = lock(application_id)
            changes = recount_case(application)
            if changes:
                touch(application)
                record(application, "calendar.recounted", by=by, details={"why": why, **changes})
                report.cases.append(application.number)
                report.deadlines += len(changes.get("deadlines", []))
                report.steps += len(changes.get("steps", []))
                report.rectifications += len(changes.get("rectifications", []))
            report.still_provisional += int(_still_provisional(application))
    db.session.rollback()
    return report


def recount_case(application: Application) -> dict:
    """Count the case's provisional dates again; what changed, by kind (empty: nothing)."""
    calendar = working_calendar()
    changes: dict[str, list] = {}
    pauses, pause_deltas = _recount_pauses(application, calendar, changes)
    moved = (
        _legacy_paused_days(application, pauses)
        + sum(p["days"] for p in pauses if p["moves_deadlines"])
        + int(((application.details or {}).get("extension") or {}).get("days") or 0)
    )
    provisional_pause = any(p["provisional"] and p["moves_deadlines"] for p in pauses)
    item = item_of(application)
    for attr, base_days in (("due_date", item.promised_days), ("legal_due_date", item.legal_days)):
        flag = f"{attr}_provisional"
        old = Deadline(getattr(application, attr), getattr(application, flag))
        if old.date is None or not (old.provisional or pause_deltas):
            continue
        new = counted_from_parts(
            application.acceptance_date, base_days, moved, calendar, provisional_pause
        )
        if new != old:
            setattr(application, attr, new.date)
            setattr(application, flag, new.provisional)
            changes.setdefault("deadlines", []).append(_change(attr, old, new))
    _note_commitments_after_due(application, changes)
    _recount_steps(application, pauses, pause_deltas, calendar, changes)
    _recount_rectifications(application, calendar, changes)
    _recount_suspensions(application, calendar, changes)
    _recount_days_used(application, calendar, changes)
    return changes


def _note_commitments_after_due(application, changes):
    """容缺: a commitment accepted against a provisional promised date that has now moved before
    it stands (the applicant's written commitment was valid when made); the record says so."""
    if not changes.get("deadlines") or application.due_date is None:
        return
    late = [
        {"code": d["code"], "commit_date": d["commit_date"]}
        for d in application.deferred or []
        if not d.get("supplied_at") and date.fromisoformat(d["commit_date"]) > application.due_date
    ]
    if late:
        changes["commitments_after_due"] = late


def _recount_pauses(application, calendar, changes):
    """Each pause counted over a provisional year, counted again; the deltas by pause index."""
    details = application.details or {}
    pauses = [dict(p) for p in details.get("pauses", [])]
    deltas = {}
    for index, pause in enumerate(pauses):
        if not pause.get("provisional"):
            continue
        length = pause_length(
            date.fromisoformat(pause["from"]), date.fromisoformat(pause["to"]), calendar
        )
        if (length.days, length.provisional) != (pause["days"], pause["provisional"]):
            deltas[index] = length.days - pause["days"]
            changes.setdefault("pauses", []).append(
                {
                    "from": pause["from"],
                    "to": pause["to"],
                    "old_days": pause["days"],
                    "new_days": length.days,
                    "provisional": length.provisional,
                }
            )
            pause["days"], pause["provisional"] = length.days, length.provisional
    if deltas:
        application.paused_working_days = (application.paused_working_days or 0) + sum(
            deltas.values()
        )
        application.details = {**details, "pauses": pauses}
    return pauses, deltas


def _legacy_paused_days(application, pauses) -> int:
    """Paused days of pauses that ended before pauses were kept one by one (all official)."""
    return max((application.paused_working_days or 0) - sum(p["days"] for p in pauses), 0)


def _recount_steps(application, pauses, pause_deltas, calendar, changes):
    for step in application.steps:
        moved_by = [i for i, p in enumerate(pauses) if step.id in p.get("steps", [])]
        delta = sum(pause_deltas.get(i, 0) for i in moved_by)
        if step.due_date is None or not (step.due_date_provisional or delta):
            continue
        if step.moved_working_days is None:
            step.moved_working_days = sum(pauses[i]["days"] for i in moved_by)
        else:
            step.moved_working_days += delta
        old = Deadline(step.due_date, step.due_date_provisional)
        new = counted_from_parts(
            clock.local(step.opened_at).date(),
            step.days,
            step.moved_working_days,
            calendar,
            any(pauses[i]["provisional"] for i in moved_by),
        )
        if new != old:
            step.due_date, step.due_date_provisional = new
            changes.setdefault("steps", []).append(
                {"step": step.code, **_change("due_date", old, new)}
            )


def _recount_rectifications(application, calendar, changes):
    orders = db.session.scalars(
        select(Rectification).where(
            Rectification.application_id == application.id, Rectification.due_date_provisional
        )
    )
    for order in orders:
        old = Deadline(order.due_date, order.due_date_provisional)
        days = order.due_working_days or int(setting("RATING_RECTIFY_DAYS"))
        new = deadline(clock.local(order.opened_at).date(), days, calendar)
        if new != old:
            order.due_date, order.due_date_provisional = new
            changes.setdefault("rectifications", []).append(
                {"rectification_id": order.id, **_change("due_date", old, new)}
            )


def _recount_suspensions(application, calendar, changes):
    """The expected end of a special procedure (told to the applicant), when provisional."""
    details = application.details or {}
    suspensions = [dict(s) for s in details.get("suspensions", [])]
    changed = False
    for entry in suspensions:
        if not entry.get("expected_end_provisional"):
            continue
        old = Deadline(date.fromisoformat(entry["expected_end"]), True)
        new = deadline(date.fromisoformat(entry["started_on"]), entry["expected_days"], calendar)
        if new != old:
            entry["expected_end"], entry["expected_end_provisional"] = (
                new.date.isoformat(),
                new.provisional,
            )
            changes.setdefault("deadlines", []).append(_change("expected_end", old, new))
            changed = True
    if changed:
        application.details = {**(application.details or {}), "suspensions": suspensions}


def _recount_days_used(application, calendar, changes):
    """办结用时: the working days a concluded case used, net of pauses (the on-time indicator)."""
    if application.concluded_on is None or application.acceptance_date is None:
        return
    used = between(application.acceptance_date, application.concluded_on, calendar)
    used = max(used - (application.paused_working_days or 0), 0)
    if used != application.working_days_used:
        changes["working_days_used"] = {"old": application.working_days_used, "new": used}
        application.working_days_used = used


def _change(what: str, old: Deadline, new: Deadline) -> dict:
    return {
        "deadline": what,
        "old": old.date.isoformat(),
        "new": new.date.isoformat(),
        "old_provisional": old.provisional,
        "provisional": new.provisional,
    }


def _still_provisional(application) -> bool:
    return (
        application.due_date_provisional
        or application.legal_due_date_provisional
        or any(s.due_date_provisional for s in application.steps)
    )
