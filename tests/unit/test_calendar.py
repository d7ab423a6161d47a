"""The calendar adapters: official data first, the statutory rule where there is none."""

from datetime import date

import pytest

from windowsvc.adapters.calendar import ChineseWorkingCalendar, NoticeCalendar, StatutoryHolidays


@pytest.fixture(scope="module")
def statutory():
    """The provisional rule alone."""
    return StatutoryHolidays()


class TestStatutoryHolidays:
    """《全国年节及纪念日放假办法》 (2024 revision): 13 days, dated by python-holidays, and a
    weekday off (补假, Art 6) for each that falls on a weekend."""

    def test_2027_has_the_thirteen_statutory_days_and_their_weekdays_off(self, statutory):
        assert sorted(statutory.holidays_of(2027)) == [
            date(2027, 1, 1),  # 元旦
            date(2027, 2, 5),  # 除夕
            date(2027, 2, 6),  # 春节 初一 to 初三
            date(2027, 2, 7),
            date(2027, 2, 8),
            date(2027, 2, 9),  # 补假 for 初一 and 初二 (Saturday and Sunday)
            date(2027, 2, 10),
            date(2027, 4, 5),  # 清明
            date(2027, 5, 1),  # 劳动节 (Saturday and Sunday)
            date(2027, 5, 2),
            date(2027, 5, 3),  # 补假
            date(2027, 5, 4),
            date(2027, 6, 9),  # 端午
            date(2027, 9, 15),  # 中秋
            date(2027, 10, 1),  # 国庆
            date(2027, 10, 2),
            date(2027, 10, 3),
            date(2027, 10, 4),  # 补假 for 2 and 3 October (Saturday and Sunday)
            date(2027, 10, 5),
        ]

    def test_bridging_days_of_a_past_notice_are_not_statutory(self, statutory):
        # the 2026 notice gave 2 January off (bridging); the statutory rule does not
        assert date(2026, 1, 2) not in statutory.holidays_of(2026)
        assert date(2026, 1, 1) in statutory.holidays_of(2026)

    def test_a_weekday_holiday_is_a_day_off_and_a_weekend_never_works(self, statutory):
        assert not statutory.is_working_day(date(2027, 6, 9))
        assert not statutory.is_working_day(date(2027, 6, 12))
        assert statutory.is_working_day(date(2027, 6, 10))

    def test_years_outside_the_lunar_tables_have_no_holidays(self, statutory):
        assert statutory.holidays_of(2101) == frozenset()


class TestNoticeCalendar:
    NOTICE_DAYS = {date(2027, 1, 4): False, date(2027, 1, 9): True}

    def test_a_stored_notice_makes_its_year_official(self):
        calendar = NoticeCalendar(ChineseWorkingCalendar(), self.NOTICE_DAYS, {2027}, 1)
        assert calendar.is_official(2027)
        assert calendar.source_of(2027) == "notice"

    def test_stored_days_win_and_the_rest_of_the_year_is_weekdays(self):
        calendar = NoticeCalendar(ChineseWorkingCalendar(), self.NOTICE_DAYS, {2027}, 1)
        assert not calendar.is_working_day(date(2027, 1, 4))  # a Monday given off
        assert calendar.is_working_day(date(2027, 1, 9))  # a make-up Saturday
        # a complete year lists every day off: a statutory day it leaves out is worked
        assert calendar.is_working_day(date(2027, 6, 9))

    def test_without_notices_the_sources_are_package_and_provisional(self):
        calendar = NoticeCalendar(ChineseWorkingCalendar())
        assert calendar.source_of(2026) == "package"
        assert calendar.source_of(2027) == "provisional"
        assert not calendar.is_working_day(date(2027, 6, 9))

    def test_configured_years_are_official(self):
        base = ChineseWorkingCalendar({date(2027, 1, 4): False}, [2027])
        calendar = NoticeCalendar(base)
        assert calendar.source_of(2027) == "configuration"
        assert not calendar.is_working_day(date(2027, 1, 4))

    def test_with_notices_keeps_the_base_and_replaces_the_notices(self):
        before = NoticeCalendar(ChineseWorkingCalendar())
        after = before.with_notices(self.NOTICE_DAYS, {2027}, 2)
        assert after.base is before.base
        assert (before.revision, after.revision) == (0, 2)
        assert not before.is_official(2027) and after.is_official(2027)
