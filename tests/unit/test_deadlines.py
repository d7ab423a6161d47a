"""Working-day limits (Art 82) and the Chinese calendar with 调休 and administrator overrides."""

import json
from datetime import date, timedelta

import pytest

from windowsvc.adapters.calendar import ChineseWorkingCalendar
from windowsvc.rules.deadlines import CalendarUnavailable, add_working_days, working_days_between


class FakeCalendar:
    """Monday to Friday, minus listed days off, plus listed working weekend days."""

    def __init__(self, days_off=(), make_up_days=()):
        self.days_off = set(days_off)
        self.make_up_days = set(make_up_days)
        self.asked = []

    def is_working_day(self, day):
        self.asked.append(day)
        if day in self.make_up_days:
            return True
        return day.weekday() < 5 and day not in self.days_off


MONDAY = date(2030, 6, 3)
FRIDAY = MONDAY + timedelta(days=4)


@pytest.fixture(scope="module")
def china():
    """The package calendar without overrides."""
    return ChineseWorkingCalendar()


class TestAddWorkingDaysArithmetic:
    def test_counting_starts_the_day_after_start(self):
        assert add_working_days(MONDAY, 1, FakeCalendar()) == MONDAY + timedelta(days=1)

    def test_a_limit_of_zero_ends_on_the_start_day_itself(self):
        assert add_working_days(MONDAY, 0, FakeCalendar()) == MONDAY

    def test_a_limit_of_zero_started_on_a_weekend_ends_on_the_next_working_day(self):
        saturday = FRIDAY + timedelta(days=1)
        assert add_working_days(saturday, 0, FakeCalendar()) == FRIDAY + timedelta(days=3)

    def test_weekends_are_skipped(self):
        assert add_working_days(FRIDAY, 1, FakeCalendar()) == FRIDAY + timedelta(days=3)
        assert add_working_days(MONDAY, 5, FakeCalendar()) == MONDAY + timedelta(days=7)

    def test_a_start_on_a_weekend_counts_from_the_next_working_day(self):
        saturday = FRIDAY + timedelta(days=1)
        assert add_working_days(saturday, 1, FakeCalendar()) == saturday + timedelta(days=2)

    def test_days_off_are_skipped(self):
        tuesday = MONDAY + timedelta(days=1)
        calendar = FakeCalendar(days_off={tuesday})
        assert add_working_days(MONDAY, 1, calendar) == tuesday + timedelta(days=1)

    def test_a_make_up_weekend_day_counts(self):
        saturday = FRIDAY + timedelta(days=1)
        assert add_working_days(FRIDAY, 1, FakeCalendar(make_up_days={saturday})) == saturday

    def test_twenty_working_days_are_four_weeks_in_a_plain_calendar(self):
        assert add_working_days(MONDAY, 20, FakeCalendar()) == MONDAY + timedelta(days=28)

    def test_a_negative_limit_is_refused(self):
        with pytest.raises(ValueError):
            add_working_days(MONDAY, -1, FakeCalendar())


class TestWorkingDaysBetween:
    def test_the_same_day_is_zero(self):
        assert working_days_between(MONDAY, MONDAY, FakeCalendar()) == 0

    def test_days_after_start_up_to_and_including_end_are_counted(self):
        assert working_days_between(MONDAY, FRIDAY, FakeCalendar()) == 4
        assert working_days_between(FRIDAY, FRIDAY + timedelta(days=3), FakeCalendar()) == 1

    def test_an_earlier_end_gives_a_negative_count(self):
        next_monday = FRIDAY + timedelta(days=3)
        assert working_days_between(next_monday, FRIDAY, FakeCalendar()) == -1

    def test_it_inverts_add_working_days(self):
        calendar = FakeCalendar(days_off={MONDAY + timedelta(days=9)})
        for days in range(0, 15):
            end = add_working_days(MONDAY, days, calendar)
            assert working_days_between(MONDAY, end, calendar) == days

    def test_it_counts_holidays_out_in_the_chinese_calendar(self, china):
        assert working_days_between(date(2025, 9, 30), date(2025, 10, 14), china) == 5


class TestSpringFestival2026:
    """国办发明电: 2月15日至23日放假调休, 2月14日(星期六)、2月28日(星期六)上班."""

    def test_the_holiday_days_are_days_off(self, china):
        for offset in range(9):
            assert not china.is_working_day(date(2026, 2, 15) + timedelta(days=offset))

    def test_the_two_make_up_saturdays_are_working_days(self, china):
        assert china.is_working_day(date(2026, 2, 14))
        assert china.is_working_day(date(2026, 2, 28))

    def test_an_ordinary_saturday_is_a_day_off(self, china):
        assert not china.is_working_day(date(2026, 3, 7))

    def test_the_day_after_a_friday_before_the_holiday_is_the_make_up_saturday(self, china):
        assert add_working_days(date(2026, 2, 13), 1, china) == date(2026, 2, 14)

    def test_a_limit_running_into_the_holiday_jumps_to_the_24th(self, china):
        assert add_working_days(date(2026, 2, 14), 1, china) == date(2026, 2, 24)
        assert add_working_days(date(2026, 2, 12), 3, china) == date(2026, 2, 24)

    def test_the_make_up_saturday_after_the_holiday_counts(self, china):
        # 25 Wed, 26 Thu, 27 Fri, 28 Sat (make-up).
        assert add_working_days(date(2026, 2, 24), 4, china) == date(2026, 2, 28)
        assert add_working_days(date(2026, 2, 24), 5, china) == date(2026, 3, 2)


class TestNationalDay2026:
    """10月1日至7日放假调休, 9月20日(星期日)、10月10日(星期六)上班."""

    def test_the_holiday_days_are_days_off(self, china):
        for offset in range(7):
            assert not china.is_working_day(date(2026, 10, 1) + timedelta(days=offset))

    def test_the_make_up_sunday_and_saturday_are_working_days(self, china):
        assert china.is_working_day(date(2026, 9, 20))
        assert china.is_working_day(date(2026, 10, 10))

    def test_the_make_up_sunday_follows_a_friday(self, china):
        assert add_working_days(date(2026, 9, 18), 1, china) == date(2026, 9, 20)

    def test_a_limit_from_the_eve_of_the_holiday(self, china):
        # 8 Thu, 9 Fri, 10 Sat (make-up), 11 Sun off, 12 Mon.
        assert add_working_days(date(2026, 9, 30), 1, china) == date(2026, 10, 8)
        assert add_working_days(date(2026, 9, 30), 3, china) == date(2026, 10, 10)
        assert add_working_days(date(2026, 9, 30), 4, china) == date(2026, 10, 12)


class TestNationalDay2025:
    """国庆节、中秋节: 10月1日至8日放假调休, 9月28日(周日)、10月11日(周六)上班."""

    def test_the_eight_holiday_days_are_days_off(self, china):
        for offset in range(8):
            assert not china.is_working_day(date(2025, 10, 1) + timedelta(days=offset))

    def test_the_make_up_days_are_working_days(self, china):
        assert china.is_working_day(date(2025, 9, 28))
        assert china.is_working_day(date(2025, 10, 11))

    def test_the_holiday_and_make_up_saturday_are_respected(self, china):
        # 9 Thu, 10 Fri, 11 Sat (make-up), 13 Mon, 14 Tue.
        assert add_working_days(date(2025, 9, 30), 5, china) == date(2025, 10, 14)

    def test_the_make_up_sunday_counts_before_the_holiday(self, china):
        # 27 Sat off, 28 Sun (make-up), 29 Mon.
        assert add_working_days(date(2025, 9, 26), 2, china) == date(2025, 9, 29)


class TestYearsWithoutData:
    def test_a_date_in_2027_raises_naming_the_year(self, china):
        with pytest.raises(CalendarUnavailable, match="2027") as raised:
            china.is_working_day(date(2027, 3, 1))
        assert raised.value.year == 2027

    def test_a_limit_running_into_2027_raises_instead_of_guessing(self, china):
        with pytest.raises(CalendarUnavailable, match="2027"):
            add_working_days(date(2026, 12, 30), 5, china)

    def test_a_limit_ending_before_the_unknown_year_still_works(self, china):
        assert add_working_days(date(2026, 12, 30), 1, china) == date(2026, 12, 31)


class TestOverrides:
    config = json.dumps({"years": [2027], "holidays": ["2027-01-01"], "workdays": []})

    def test_a_declared_year_becomes_computable(self):
        calendar = ChineseWorkingCalendar.from_config(self.config)
        assert calendar.is_working_day(date(2027, 3, 1))
        assert not calendar.is_working_day(date(2027, 3, 6))

    def test_a_listed_holiday_is_a_day_off(self):
        calendar = ChineseWorkingCalendar.from_config(self.config)
        assert not calendar.is_working_day(date(2027, 1, 1))
        # 2026-12-31 Thu; 2027-01-01 Fri holiday, then the weekend.
        assert add_working_days(date(2026, 12, 31), 1, calendar) == date(2027, 1, 4)

    def test_a_listed_workday_is_a_working_day_even_on_a_weekend(self):
        config = json.dumps({"years": [2027], "holidays": [], "workdays": ["2027-02-06"]})
        calendar = ChineseWorkingCalendar.from_config(config)
        assert calendar.is_working_day(date(2027, 2, 6))

    def test_overrides_win_over_the_package_in_a_known_year(self):
        config = json.dumps({"holidays": ["2026-03-02"], "workdays": ["2026-10-03"]})
        calendar = ChineseWorkingCalendar.from_config(config)
        assert not calendar.is_working_day(date(2026, 3, 2))
        assert calendar.is_working_day(date(2026, 10, 3))
        assert calendar.is_working_day(date(2026, 3, 3))

    def test_a_year_not_declared_still_raises(self):
        calendar = ChineseWorkingCalendar.from_config(self.config)
        with pytest.raises(CalendarUnavailable, match="2028"):
            calendar.is_working_day(date(2028, 1, 3))

    def test_the_configuration_may_be_a_json_file(self, tmp_path):
        path = tmp_path / "calendar.json"
        path.write_text(self.config, "utf-8")
        calendar = ChineseWorkingCalendar.from_config(str(path))
        assert not calendar.is_working_day(date(2027, 1, 1))
        assert calendar.is_working_day(date(2027, 1, 4))

    @pytest.mark.parametrize("empty", ["", None])
    def test_no_configuration_gives_the_package_calendar(self, empty):
        calendar = ChineseWorkingCalendar.from_config(empty)
        assert calendar.overrides == {}
        with pytest.raises(CalendarUnavailable):
            calendar.is_working_day(date(2027, 1, 4))
