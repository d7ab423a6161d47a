"""Working-day arithmetic (Art 82: limits count working days, statutory holidays excluded)."""

from datetime import date, timedelta
from typing import Protocol


class CalendarUnavailable(RuntimeError):
    """The calendar has no data for a year; an administrator must supply it (never guessed)."""

    def __init__(self, year: int):
        super().__init__(
            f"工作日历缺少 {year} 年的节假日数据: 请通过 WINDOWSVC_CALENDAR_OVERRIDES 或 "
            f"calendar_days 表补充 {year} 年国务院节假日安排 (no working-day data for {year})"
        )
        self.year = year


class WorkingCalendar(Protocol):
    """Port: tells whether a date is a working day, raising CalendarUnavailable when it can't."""

    def is_working_day(self, day: date) -> bool: ...


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
