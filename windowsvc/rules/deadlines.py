"""Working-day arithmetic (Art 82: limits count working days, statutory holidays excluded).

A calendar answers for every day. Where the State Council's notice for a year is not known, the
answer is provisional (weekends and the statutory holidays only), and every deadline counted over
such a year says so: it is shown as provisional and counted again when the notice is loaded.
"""

from datetime import date, timedelta
from typing import NamedTuple, Protocol

# What the public calculator accepts: the statutory holidays are known up to 2100.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
MAX_WORKING_DAYS = 365


class WorkingCalendar(Protocol):
    """Port: whether a date is a working day, and whether a year's answers are official."""

    def is_working_day(self, day: date) -> bool: ...

    def is_official(self, year: int) -> bool: ...


class Deadline(NamedTuple):
    """A due date, and whether a day of a year without the official notice went into it."""

    date: date
    provisional: bool


def add_working_days(start: date, days: int, calendar: WorkingCalendar) -> date:
    """The day on which a limit of `days` working days ends, counting from the day after `start`.

    A limit of 0 working days (即办件) ends on `start` itself, or on the next working day when
    `start` is a day off (an online submission accepted on a Sunday).
    """
    if days < 0:
        raise ValueError("a limit cannot be negative")
    if days == 0:
        day = start
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        return day
    day = start
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, calendar: WorkingCalendar) -> int:
    """Working days after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -working_days_between(end, start, calendar)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


def provisional_years(first: date, last: date, calendar: WorkingCalendar) -> list[int]:
    """The years from `first` to `last` (either order) the calendar knows only provisionally."""
    low, high = sorted((first.year, last.year))
    return [year for year in range(low, high + 1) if not calendar.is_official(year)]


def deadline(start: date, days: int, calendar: WorkingCalendar) -> Deadline:
    """`add_working_days`, saying whether a provisional year went into the answer."""
    due = add_working_days(start, days, calendar)
    return Deadline(due, bool(provisional_years(start, due, calendar)))


def extend(current: Deadline, days: int, calendar: WorkingCalendar) -> Deadline:
    """A deadline moved on by `days` working days (a pause made up, an extension)."""
    moved = deadline(current.date, days, calendar)
    return Deadline(moved.date, current.provisional or moved.provisional)


class PauseLength(NamedTuple):
    """Working days a clock stood still (特别程序, a department's correction), and their origin."""

    days: int
    provisional: bool


def pause_length(started: date, ended: date, calendar: WorkingCalendar) -> PauseLength:
    """The working days after ``started`` up to ``ended`` that a paused clock makes up."""
    days = max(working_days_between(started, ended, calendar), 0)
    return PauseLength(days, bool(provisional_years(started, ended, calendar)))


def counted_from_parts(
    basis: date,
    base_days: int,
    moved_days: int,
    calendar: WorkingCalendar,
    provisional_parts: bool = False,
) -> Deadline:
    """A stored deadline counted again from what made it: ``base_days`` from ``basis``, then
    moved on by ``moved_days`` (pauses made up, an extension) — the same date the case reached
    step by step. ``provisional_parts``: a part (a pause's length) was itself provisional."""
    moved = extend(deadline(basis, base_days, calendar), moved_days, calendar)
    return Deadline(moved.date, moved.provisional or provisional_parts)
