"""The working-day calendar as the services see it, and official notices loaded into it.

Every transaction that counts working days asks ``working_calendar()``: one small read of the
calendar's revision, after which the process's copy is current. Loading a notice bumps the
revision, and every provisional deadline is counted again in the same transaction (``recount``).
"""

import json
from dataclasses import dataclass, field
from datetime import date
from weakref import WeakKeyDictionary

from sqlalchemy import delete, select

from ... import clock
from ...extensions import db
from ...models import CalendarDay, CalendarLoad, CalendarState, CalendarYear
from ...platform.context import adapters
from ...platform.errors import Invalid
from ...rules.deadlines import EARLIEST, LATEST, Deadline, deadline, provisional_years

_CHECKED = "windowsvc.calendar_checked_in"
_REVISION = (
    select(CalendarState.revision)
    .where(CalendarState.id == 1)
    .with_for_update(read=True, key_share=True)
)


def working_calendar():
    """The calendar with every stored notice, current as of this transaction.

    The revision is read with a share lock (PostgreSQL): a notice being loaded waits for this
    transaction, and this one waits for a load under way, so nothing is counted on an old calendar
    after the recount.
    """
    session = db.session()
    checked = session.info.get(_CHECKED)
    transaction = session.get_transaction()
    if checked is not None and transaction is not None and checked[0] is transaction:
        return checked[1]  # this transaction's calendar, whatever other threads install
    with session.no_autoflush:  # the calendar's row owes nothing to this session's changes
        revision = session.scalar(_REVISION)
    current = adapters().calendar
    if revision is not None and revision != current.revision:
        current = current.with_notices(*stored_notices(), revision)
        # a thread on an older snapshot never puts an older calendar back for the others (the
        # first reader installs one whatever the revision: revision 0 is a revision too, and
        # leaving None there read every stored notice again in every transaction)
        installed = adapters().calendar.revision
        if installed is None or installed < revision:
            adapters().calendar = current
    session.info[_CHECKED] = (session.get_transaction(), current)
    return current


def stored_notices() -> tuple[dict[date, bool], set[int]]:
    """The days and complete years stored in the database."""
    days = {row.day: row.working for row in db.session.scalars(select(CalendarDay))}
    years = set(db.session.scalars(select(CalendarYear.year)))
    return days, years


# Deadlines already counted, per calendar snapshot: a snapshot never changes (a notice makes a
# new one, with a new revision), so neither does what it answers. Every case of an item received
# on one day gets the same due dates; counting them once per snapshot takes a day-by-day walk out
# of intake's write transaction. Bounded: cleared when full.
_DEADLINES: "WeakKeyDictionary[object, dict[tuple[date, int], Deadline]]" = WeakKeyDictionary()
DEADLINES_KEPT = 4096


def due_after(start: date, working_days: int) -> Deadline:
    """The date a limit of ``working_days`` ends, counted from the day after ``start``."""
    calendar = working_calendar()
    counted = _DEADLINES.get(calendar)
    if counted is None:
        counted = _DEADLINES.setdefault(calendar, {})
    key = (start, working_days)
    due = counted.get(key)
    if due is None:
        if len(counted) >= DEADLINES_KEPT:
            counted.clear()
        due = counted[key] = deadline(start, working_days, calendar)
    return due


def provisional_note(first: date | None, last: date | None) -> str | None:
    """The label shown next to dates counted over years without the official notice."""
    if first is None or last is None:
        return None
    years = provisional_years(first, last, working_calendar())
    if not years:
        return None
    return f"预计，待国务院公布 {'、'.join(map(str, years))} 年节假日安排后确认"


@dataclass
class Notice:
    """A State Council holiday notice: days off, make-up working days, the years it completes."""

    years: list[int]
    holidays: list[date]
    workdays: list[date]
    note: str = ""
    days: dict[date, bool] = field(init=False)

    def __post_init__(self):
        outside = sorted(
            str(v)
            for v in [*self.years, *(d.year for d in [*self.holidays, *self.workdays])]
            if not EARLIEST.year <= v <= LATEST.year
        )
        if outside:
            raise Invalid(
                f"年份须在 {EARLIEST.year} 至 {LATEST.year} 之间 (years out of range)",
                {"years": outside},
            )
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise Invalid(
                "同一天不能既是假日又是工作日 (a day cannot be both)",
                {"holidays": [d.isoformat() for d in both]},
            )
        self.days = {d: False for d in self.holidays} | {d: True for d in self.workdays}


def parse_notice(text: str) -> Notice:
    """A notice from its JSON form ``{"years", "holidays", "workdays", "note"}``."""
    try:
        data = json.loads(text)
        return Notice(
            years=sorted({int(y) for y in data.get("years", [])}),
            holidays=[date.fromisoformat(d) for d in data.get("holidays", [])],
            workdays=[date.fromisoformat(d) for d in data.get("workdays", [])],
            note=str(data.get("note", "")),
        )
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise Invalid(f"不是有效的节假日安排文件 (not a calendar notice): {exc}") from exc


def store(notice: Notice, by_name: str) -> CalendarLoad | None:
    """Write the notice in the caller's transaction; the load's row, or None when nothing changed.

    A complete year's stored days are replaced by the notice's (it lists every day off and every
    make-up day); days outside the declared years are kept or overwritten one by one.
    """
    state = db.session.scalar(select(CalendarState).where(CalendarState.id == 1).with_for_update())
    days, years = stored_notices()
    wanted = {d: w for d, w in days.items() if d.year not in notice.years} | notice.days
    if wanted == days and set(notice.years) <= years:
        return None
    for year in notice.years:
        db.session.execute(
            delete(CalendarDay).where(
                CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
            )
        )
    for day, working in notice.days.items():
        db.session.merge(CalendarDay(day=day, working=working, note=notice.note))
    now = clock.now()
    for year in notice.years:
        db.session.merge(CalendarYear(year=year, note=notice.note, loaded_at=now))
    state.revision += 1
    load = CalendarLoad(
        at=now,
        by_name=by_name,
        years=notice.years,
        days=len(notice.days),
        note=notice.note,
        recomputed={},
    )
    db.session.add(load)
    db.session.flush()
    return load
