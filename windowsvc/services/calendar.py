"""Calendar administration: an official holiday notice loaded into the database."""

import json
from datetime import date

from ..db import write_transaction
from ..extensions import db
from ..models import CalendarDay, CalendarYear


def load_overrides(text: str) -> tuple[list[int], int]:
    """Store the days (and complete years) of a notice given as JSON; returns (years, days)."""
    try:
        data = json.loads(text)
        holidays = [date.fromisoformat(d) for d in data.get("holidays", [])]
        workdays = [date.fromisoformat(d) for d in data.get("workdays", [])]
        years = [int(y) for y in data.get("years", [])]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a calendar notice: {exc}") from exc
    if set(holidays) & set(workdays):
        raise ValueError("a day cannot be both a holiday and a working day")
    note = str(data.get("note", ""))
    with write_transaction():
        for day in holidays:
            db.session.merge(CalendarDay(day=day, working=False, note=note))
        for day in workdays:
            db.session.merge(CalendarDay(day=day, working=True, note=note))
        for year in years:
            db.session.merge(CalendarYear(year=year, note=note))
    return years, len(holidays) + len(workdays)


def stored_overrides() -> tuple[dict[date, bool], set[int]]:
    """The days and complete years stored in the database."""
    days = {row.day: row.working for row in db.session.query(CalendarDay).all()}
    years = {row.year for row in db.session.query(CalendarYear).all()}
    return days, years
