"""Calendar administration: loading the State Council's notice, and the calendar's coverage."""

from datetime import date

from sqlalchemy import func, or_, select

from ... import clock
from ...db import write_transaction
from ...extensions import db
from ...models import Application, CalendarLoad, CalendarYear, Rectification, Step
from ...platform.errors import Invalid
from ...workflows.lifecycle import UNDECIDED
from ...workflows.step import OPEN_STATES as OPEN_STEP_STATES
from ..cases.records import Actor
from . import recount
from .working import Notice, store, working_calendar

# From this day of the year on, oversight is warned that next year's notice is not loaded.
NEXT_YEAR_WARNING_FROM = (10, 1)


def load(notice: Notice, by: Actor) -> dict:
    """Store a notice and count every provisional deadline again; what changed.

    Idempotent: loading the same notice again stores nothing and changes no case.
    """
    with write_transaction():
        saved = store(notice, by.name)
        load_id = saved.id if saved else None
    report = recount.recount_all(
        f"国务院节假日安排已载入: {'、'.join(map(str, notice.years)) or '个别日期'}",
        by=by,
        concluded_in_years=notice.years if saved else (),
    )
    if load_id is not None:
        with write_transaction():
            db.session.get(CalendarLoad, load_id).recomputed = report.as_dict()
    return {
        "years": notice.years,
        "days": len(notice.days),
        "changed": load_id is not None,
        "recounted": report.as_dict(),
    }


def load_year(year: int, holidays: list[date], workdays: list[date], note: str, by: Actor):
    """``PUT /calendar/years/{year}``: the complete notice for one year."""
    notice = Notice([year], holidays, workdays, note)  # checks the year's bounds
    outside = sorted(d.isoformat() for d in notice.days if d.year != year)
    if outside:
        raise Invalid(f"日期不在 {year} 年内 (dates outside {year})", {"days": outside})
    return load(notice, by)


def coverage(today: date | None = None) -> dict:
    """Which years are official and where from, and how much open work is still provisional."""
    today = today or clock.today()
    calendar = working_calendar()
    years = range(today.year - 1, today.year + 3)
    loaded = {row.year: row for row in db.session.scalars(select(CalendarYear))}
    open_case = Application.state.in_(UNDECIDED)
    provisional_case = or_(Application.due_date_provisional, Application.legal_due_date_provisional)
    next_year_official = calendar.is_official(today.year + 1)
    return {
        "as_of": today,
        "years": [
            {
                "year": year,
                "official": calendar.is_official(year),
                "source": calendar.source_of(year),
                "loaded_at": loaded[year].loaded_at if year in loaded else None,
            }
            for year in years
        ],
        "next_year_missing_warning": not next_year_official
        and (today.month, today.day) >= NEXT_YEAR_WARNING_FROM,
        "open_cases_provisional": db.session.scalar(
            select(func.count()).where(open_case, provisional_case)
        ),
        "open_steps_provisional": db.session.scalar(
            select(func.count())
            .select_from(Step)
            .where(Step.due_date_provisional, Step.state.in_(OPEN_STEP_STATES))
        ),
        "rectifications_provisional": db.session.scalar(
            select(func.count())
            .select_from(Rectification)
            .where(Rectification.due_date_provisional, Rectification.closed_at.is_(None))
        ),
        "last_loads": [
            {"at": row.at, "by": row.by_name, "years": row.years, "recounted": row.recomputed}
            for row in db.session.scalars(
                select(CalendarLoad).order_by(CalendarLoad.id.desc()).limit(5)
            )
        ],
    }


def provisional_cases(limit: int = 200) -> tuple[list[Application], int]:
    """Open cases with a provisional due date (promised or legal), soonest due first, at most
    ``limit`` of them; and how many there are in all."""
    where = (
        Application.state.in_(UNDECIDED),
        or_(Application.due_date_provisional, Application.legal_due_date_provisional),
    )
    total = db.session.scalar(select(func.count()).select_from(Application).where(*where))
    rows = db.session.scalars(
        select(Application)
        .where(*where)
        .order_by(Application.due_date.is_(None), Application.due_date, Application.id)
        .limit(limit)
    ).all()
    return list(rows), total or 0
