"""ChineseWorkingCalendar: the ``chinesecalendar`` package plus administrator overrides."""

import json
from datetime import date
from pathlib import Path

import chinese_calendar

from ..rules.deadlines import CalendarUnavailable


class ChineseWorkingCalendar:
    """Statutory holidays and make-up working days (调休) of the State Council notices.

    ``overrides`` maps a date to True (working) or False (day off) and wins over the package.
    ``extra_years`` are years an administrator has declared complete through overrides; any other
    year the package does not know raises CalendarUnavailable instead of guessing weekends.
    """

    def __init__(self, overrides: dict[date, bool] | None = None, extra_years=()):
        self.overrides = dict(overrides or {})
        self.extra_years = set(extra_years)
        self._package_days: dict[date, bool] = {}  # the package's data never changes

    def is_working_day(self, day: date) -> bool:
        """True on a working day."""
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.extra_years:
            return day.weekday() < 5
        known = self._package_days.get(day)
        if known is None:
            try:
                known = self._package_days[day] = chinese_calendar.is_workday(day)
            except NotImplementedError:
                raise CalendarUnavailable(day.year) from None
        return known

    @classmethod
    def from_config(cls, value):
        """Build from WINDOWSVC_CALENDAR_OVERRIDES: a JSON file path or inline JSON (see README)."""
        if not value:
            return cls()
        text = value if value.lstrip().startswith("{") else Path(value).read_text("utf-8")
        data = json.loads(text)
        overrides = {date.fromisoformat(d): False for d in data.get("holidays", [])}
        overrides.update({date.fromisoformat(d): True for d in data.get("workdays", [])})
        return cls(overrides, data.get("years", []))


class StoredOverridesCalendar:
    """Days an administrator stored in the database (``windowsvc calendar load``) over a base
    calendar; re-read every ``ttl`` seconds so every process sees a newly loaded notice."""

    def __init__(self, base: ChineseWorkingCalendar, loader, ttl: float = 60.0, monotonic=None):
        import time

        self.base = base
        self.loader = loader
        self.ttl = ttl
        self.monotonic = monotonic or time.monotonic
        self.loaded_at = None
        self.days: dict[date, bool] = {}
        self.years: set[int] = set()

    def is_working_day(self, day: date) -> bool:
        """True on a working day: stored day, then stored complete year, then the base."""
        now = self.monotonic()
        if self.loaded_at is None or now - self.loaded_at > self.ttl:
            self.days, self.years = self.loader()
            self.loaded_at = now
        if day in self.days:
            return self.days[day]
        if day in self.base.overrides:
            return self.base.overrides[day]
        if day.year in self.years:
            return day.weekday() < 5
        return self.base.is_working_day(day)
