"""Working-day limits (Art 82) and the Chinese calendar with 调休 and administrator overrides."""

import json
from datetime import date, timedelta

import pytest

from tests.fakes import FakeCalendar
from windowsvc.adapters.calendar import ChineseWorkingCalendar
from windowsvc.rules.deadlines import (
    Deadline,
    add_working_days,
    counted_from_parts,
    deadline,
    extend,
    pause_length,
    provisional_years,
    working_days_between,
)

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
    """chinesecalendar 1.11 stops at 2026: 2027 is answered provisionally, never refused."""

    def test_a_date_in_2027_is_answered_by_the_statutory_rule(self, china):
        assert china.is_working_day(date(2027, 3, 1))
        assert not china.is_working_day(date(2027, 1, 1))  # 元旦, a Friday
        assert not china.is_working_day(date(2027, 3, 6))  # a Saturday

    def test_2027_is_not_official_and_2026_is(self, china):
        assert not china.is_official(2027)
        assert china.is_official(2026)

    def test_a_limit_running_into_2027_is_computed_and_marked_provisional(self, china):
        # 31 Thu; 2027-01-01 Fri 元旦; 4 Mon, 5 Tue, 6 Wed, 7 Thu.
        assert deadline(date(2026, 12, 30), 5, china) == Deadline(date(2027, 1, 7), True)

    def test_a_limit_ending_before_the_unknown_year_is_official(self, china):
        assert deadline(date(2026, 12, 30), 1, china) == Deadline(date(2026, 12, 31), False)

    def test_twenty_and_forty_five_days_from_4_december_2026(self, china):
        # 元旦 (Fri 1 Jan) and 春节 (除夕 Fri 5 Feb to 初三 Mon 8 Feb, 补假 9 and 10 Feb for the
        # weekend) are days off.
        assert deadline(date(2026, 12, 4), 20, china) == Deadline(date(2027, 1, 4), True)
        assert deadline(date(2026, 12, 4), 45, china) == Deadline(date(2027, 2, 12), True)

    @pytest.mark.parametrize("year", [2028, 2031, 2099])
    def test_later_years_never_raise(self, china, year):
        due = deadline(date(year, 6, 1), 45, china)
        assert due.provisional and due.date.year == year

    def test_a_year_before_the_package_is_provisional_too(self, china):
        assert not china.is_official(2003)
        assert deadline(date(2003, 3, 3), 5, china).provisional

    def test_beyond_the_lunar_tables_weekends_still_count(self, china):
        # python-holidays dates lunar festivals up to 2100; later years are weekends only
        assert deadline(date(2101, 1, 3), 1, china) == Deadline(date(2101, 1, 4), True)


class TestProvisionalDeadlines:
    def test_a_deadline_inside_official_years_is_official(self):
        assert deadline(MONDAY, 5, FakeCalendar()) == Deadline(MONDAY + timedelta(days=7), False)

    def test_a_deadline_reaching_an_unofficial_year_is_provisional(self):
        calendar = FakeCalendar(unofficial={2031})
        assert deadline(date(2030, 12, 27), 3, calendar).provisional

    def test_the_unofficial_years_of_a_span_are_listed(self):
        calendar = FakeCalendar(unofficial={2031, 2032})
        assert provisional_years(date(2032, 1, 5), date(2030, 5, 1), calendar) == [2031, 2032]

    def test_extending_keeps_an_earlier_provisional_flag(self):
        before = Deadline(MONDAY, True)
        assert extend(before, 1, FakeCalendar()) == Deadline(MONDAY + timedelta(days=1), True)

    def test_extending_into_an_unofficial_year_makes_it_provisional(self):
        calendar = FakeCalendar(unofficial={2031})
        moved = extend(Deadline(date(2030, 12, 30), False), 3, calendar)
        assert moved == Deadline(date(2031, 1, 2), True)

    def test_a_pause_over_an_unofficial_year_is_provisional(self):
        calendar = FakeCalendar(unofficial={2031})
        assert pause_length(date(2030, 12, 30), date(2031, 1, 6), calendar) == (5, True)
        assert pause_length(MONDAY, FRIDAY, calendar) == (4, False)

    def test_a_pause_that_ends_the_day_it_began_makes_up_nothing(self):
        assert pause_length(MONDAY, MONDAY, FakeCalendar()).days == 0


class TestCountedFromParts:
    """A date reached step by step (accepted, paused, extended) is the date counted at once."""

    def test_parts_give_the_same_date_as_the_steps(self):
        calendar = FakeCalendar(days_off={MONDAY + timedelta(days=15)})
        stepwise = extend(extend(deadline(MONDAY, 20, calendar), 3, calendar), 10, calendar)
        assert counted_from_parts(MONDAY, 20, 13, calendar) == stepwise

    def test_an_instant_item_accepted_on_a_sunday_counts_from_monday(self):
        sunday = MONDAY - timedelta(days=1)
        stepwise = extend(deadline(sunday, 0, FakeCalendar()), 2, FakeCalendar())
        assert counted_from_parts(sunday, 0, 2, FakeCalendar()) == stepwise
        assert stepwise.date == MONDAY + timedelta(days=2)

    def test_a_provisional_part_makes_the_date_provisional(self):
        assert counted_from_parts(MONDAY, 5, 0, FakeCalendar(), provisional_parts=True).provisional

    def test_a_new_day_off_moves_the_recounted_date(self):
        before = counted_from_parts(MONDAY, 5, 2, FakeCalendar())
        after = counted_from_parts(MONDAY, 5, 2, FakeCalendar(days_off={MONDAY + timedelta(1)}))
        assert after.date == before.date + timedelta(days=1)


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

    def test_a_declared_year_is_official_and_others_are_not(self):
        calendar = ChineseWorkingCalendar.from_config(self.config)
        assert calendar.is_official(2027)
        assert not calendar.is_official(2028)
        assert calendar.is_working_day(date(2028, 1, 4))

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
        assert calendar.extra_years == frozenset()
        assert not calendar.is_official(2027)
