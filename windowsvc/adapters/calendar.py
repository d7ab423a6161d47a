"""Working-day calendars: official data where it exists, a provisional answer everywhere else.

- official: the ``chinesecalendar`` package (the State Council's yearly notices, 调休 included),
  years an administrator declared in WINDOWSVC_CALENDAR_OVERRIDES, and notices loaded into the
  database (``windowsvc calendar load``, ``PUT /api/v1/calendar/years/{year}``);
- provisional: weekends plus the statutory holidays of 《全国年节及纪念日放假办法》, dated by
  python-holidays (lunar festivals, 清明), with the weekday given for a holiday that falls on a
  weekend (补假, Art 6), without the bridging days and make-up working days a notice adds.
"""

import json
import threading
from datetime import date
from pathlib import Path

import chinese_calendar


class StatutoryHolidays:
    """The provisional rule: weekends, statutory holidays and 补假; no bridging days, no 调休."""

    def __init__(self):
        self._years: dict[int, frozenset[date]] = {}
        self._lock = threading.Lock()

    def holidays_of(self, year: int) -> frozenset[date]:
        """The statutory holidays of ``year`` (empty outside python-holidays' lunar range)."""
        known = self._years.get(year)
        if known is None:
            # imported on first use: python-holidays takes ~0.1 s to import, and most processes
            # (the CLI, a worker serving the current year) never need it
            from holidays.countries.china import China

            with self._lock:
                # observed: Art 6 of the 办法 gives a weekday off (补假) for a holiday falling on
                # a weekend. Special holidays off: python-holidays also knows the bridging days
                # of past notices, which only a notice can grant.
                calendar = China(observed=True, language="zh_CN")
                calendar.has_special_holidays = False
                calendar.get(date(year, 1, 1))  # populates that year
                known = self._years[year] = frozenset(d for d in calendar if d.year == year)
        return known

    def is_working_day(self, day: date) -> bool:
        """True on a weekday that is not a statutory holiday."""
        return day.weekday() < 5 and day not in self.holidays_of(day.year)


class ChineseWorkingCalendar:
    """The package calendar and the configured overrides, with the statutory rule beyond them.

    ``overrides`` maps a date to True (working) or False (day off) and wins over the package.
    ``extra_years`` are years an administrator declared complete through overrides (official).
    """

    def __init__(self, overrides: dict[date, bool] | None = None, extra_years=()):
        self.overrides = dict(overrides or {})
        self.extra_years = frozenset(extra_years)
        self.statutory = StatutoryHolidays()
        self._package_days: dict[date, bool] = {}  # the package's data never changes
        self._package_years: dict[int, bool] = {}

    def is_working_day(self, day: date) -> bool:
        """True on a working day; never raises for a year without data."""
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.extra_years:
            return day.weekday() < 5
        if not self.package_knows(day.year):
            return self.statutory.is_working_day(day)
        known = self._package_days.get(day)
        if known is None:
            known = self._package_days[day] = chinese_calendar.is_workday(day)
        return known

    def is_official(self, year: int) -> bool:
        """True when the year's answers come from a State Council notice."""
        return year in self.extra_years or self.package_knows(year)

    def package_knows(self, year: int) -> bool:
        """True for the years the installed ``chinesecalendar`` has data for."""
        known = self._package_years.get(year)
        if known is None:
            try:
                chinese_calendar.is_workday(date(year, 6, 1))
                known = True
            except NotImplementedError:
                known = False
            self._package_years[year] = known
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


class NoticeCalendar:
    """Notices stored in the database over a base calendar; one immutable snapshot per revision.

    A stored day wins; a stored complete year is otherwise weekdays (the notice lists every day
    off and every make-up day); anything else is the base calendar's answer.
    """

    def __init__(self, base: ChineseWorkingCalendar, days=None, years=(), revision=0):
        self.base = base
        self.days: dict[date, bool] = dict(days or {})
        self.years = frozenset(years)
        self.revision = revision

    def with_notices(self, days, years, revision) -> "NoticeCalendar":
        """The same base with another set of stored notices."""
        return NoticeCalendar(self.base, days, years, revision)

    def is_working_day(self, day: date) -> bool:
        """True on a working day: stored day, then stored complete year, then the base."""
        if day in self.days:
            return self.days[day]
        if day in self.base.overrides:
            return self.base.overrides[day]
        if day.year in self.years:
            return day.weekday() < 5
        return self.base.is_working_day(day)

    def is_official(self, year: int) -> bool:
        """True when a notice (stored, configured or packaged) covers the year."""
        return year in self.years or self.base.is_official(year)

    def source_of(self, year: int) -> str:
        """Where the year's answers come from: notice, configuration, package or provisional."""
        if year in self.years:
            return "notice"
        if year in self.base.extra_years:
            return "configuration"
        if self.base.package_knows(year):
            return "package"
        return "provisional"
