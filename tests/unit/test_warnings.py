"""电子监察 levels: each appears and clears on exactly the right working day."""

from datetime import date, timedelta

import pytest

from tests.fakes import FakeCalendar
from windowsvc.adapters.calendar import ChineseWorkingCalendar
from windowsvc.rules.deadlines import add_working_days, working_days_between
from windowsvc.rules.warnings import (
    RED_CARD,
    YELLOW_CARD,
    YELLOW_WARNING,
    Thresholds,
    assess,
    horizon,
    severity,
    warning_window,
)

MONDAY = date(2030, 6, 3)
DEFAULT = Thresholds(warning_days=2, red_card_days=3)


def day(offset):
    """MONDAY + offset calendar days."""
    return MONDAY + timedelta(days=offset)


def levels(due, limit, days, calendar=None, thresholds=DEFAULT):
    """The level on each of ``days`` for a limit ending on ``due``."""
    calendar = calendar or FakeCalendar()
    return [assess(d, due, limit, calendar, thresholds).level for d in days]


class TestWarningWindow:
    def test_short_limits_warn_from_the_configured_days(self):
        assert warning_window(0, DEFAULT) == 2
        assert warning_window(5, DEFAULT) == 2
        assert warning_window(10, DEFAULT) == 2

    def test_long_limits_warn_from_twenty_percent_rounded_up(self):
        assert warning_window(11, DEFAULT) == 3
        assert warning_window(20, DEFAULT) == 4
        assert warning_window(45, DEFAULT) == 9

    def test_twenty_percent_of_fifteen_is_three_not_four(self):
        # 0.2 * 15 == 3.0000000000000004 in floating point; the ceiling must not round it up
        assert warning_window(15, DEFAULT) == 3

    def test_a_larger_configured_number_wins(self):
        assert warning_window(20, Thresholds(warning_days=5, red_card_days=3)) == 5


class TestAPromisedLimitOfFiveWorkingDays:
    """Accepted on Monday 3 June, due Monday 10 June (the weekend is not counted)."""

    due = add_working_days(MONDAY, 5, FakeCalendar())

    def test_the_due_date_is_the_next_monday(self):
        assert self.due == day(7)

    def test_no_level_while_more_than_two_working_days_remain(self):
        assert levels(self.due, 5, [day(0), day(1), day(2)]) == [None, None, None]

    def test_the_yellow_warning_appears_with_two_working_days_left(self):
        thursday = day(3)
        assessment = assess(thursday, self.due, 5, FakeCalendar(), DEFAULT)
        assert (assessment.level, assessment.working_days_left) == (YELLOW_WARNING, 2)

    def test_the_warning_holds_over_the_weekend_and_on_the_due_day(self):
        assert levels(self.due, 5, [day(4), day(5), day(6), day(7)]) == [YELLOW_WARNING] * 4
        assert assess(day(7), self.due, 5, FakeCalendar(), DEFAULT).working_days_left == 0

    def test_the_yellow_card_replaces_the_warning_the_day_after_the_due_date(self):
        tuesday = day(8)
        assessment = assess(tuesday, self.due, 5, FakeCalendar(), DEFAULT)
        assert (assessment.level, assessment.working_days_over) == (YELLOW_CARD, 1)
        assert assessment.overdue

    def test_the_red_card_comes_three_working_days_after_the_due_date(self):
        assert levels(self.due, 5, [day(9), day(10)]) == [YELLOW_CARD, RED_CARD]
        assert assess(day(10), self.due, 5, FakeCalendar(), DEFAULT).working_days_over == 3

    def test_the_red_card_stays(self):
        assert levels(self.due, 5, [day(11), day(14), day(40)]) == [RED_CARD] * 3


class TestWeekendsAndHolidays:
    def test_a_weekend_after_a_friday_due_date_is_a_yellow_card_with_no_working_day_over(self):
        friday = day(4)
        saturday = assess(day(5), friday, 5, FakeCalendar(), DEFAULT)
        assert (saturday.level, saturday.working_days_over) == (YELLOW_CARD, 0)

    def test_the_weekend_does_not_count_towards_the_red_card(self):
        friday = day(4)
        mon, tue, wed = day(7), day(8), day(9)
        assert levels(friday, 5, [mon, tue, wed]) == [YELLOW_CARD, YELLOW_CARD, RED_CARD]

    def test_a_holiday_before_the_due_date_brings_the_warning_one_day_earlier(self):
        due = day(7)  # Monday
        friday_off = FakeCalendar(days_off={day(4)})
        wednesday, tuesday = day(2), day(1)
        assert levels(due, 5, [tuesday, wednesday], friday_off) == [None, YELLOW_WARNING]
        assert levels(due, 5, [tuesday, wednesday]) == [None, None]

    def test_holidays_after_the_due_date_delay_the_red_card(self):
        wednesday = day(2)
        thursday_friday_off = FakeCalendar(days_off={day(3), day(4)})
        days = [day(4), day(7), day(8), day(9)]
        assert levels(wednesday, 5, days, thursday_friday_off) == [
            YELLOW_CARD,
            YELLOW_CARD,
            YELLOW_CARD,
            RED_CARD,
        ]

    def test_a_make_up_saturday_counts_towards_the_red_card(self):
        thursday, saturday = day(3), day(5)
        make_up = FakeCalendar(make_up_days={saturday})
        assert levels(thursday, 5, [day(4), saturday, day(6)], make_up) == [
            YELLOW_CARD,
            YELLOW_CARD,
            YELLOW_CARD,
        ]
        assert levels(thursday, 5, [day(7)], make_up) == [RED_CARD]
        assert levels(thursday, 5, [day(7)]) == [YELLOW_CARD]


class TestTheChineseCalendar2026:
    """Real State Council dates: Spring Festival 15–23 Feb with make-up Saturdays 14 and 28 Feb."""

    china = ChineseWorkingCalendar()

    def test_a_limit_ending_on_the_make_up_saturday_before_spring_festival(self):
        due = add_working_days(date(2026, 2, 9), 5, self.china)
        assert due == date(2026, 2, 14)
        wed, thu = date(2026, 2, 11), date(2026, 2, 12)
        assert [assess(d, due, 5, self.china).level for d in (wed, thu)] == [None, YELLOW_WARNING]

    def test_nine_days_of_spring_festival_are_a_yellow_card_with_no_working_day_over(self):
        due = date(2026, 2, 14)
        for holiday in (date(2026, 2, 15), date(2026, 2, 23)):
            assessment = assess(holiday, due, 5, self.china)
            assert (assessment.level, assessment.working_days_over) == (YELLOW_CARD, 0)

    def test_the_red_card_comes_on_the_third_working_day_after_the_festival(self):
        due = date(2026, 2, 14)
        days = [date(2026, 2, 24), date(2026, 2, 25), date(2026, 2, 26)]
        assert [assess(d, due, 5, self.china).level for d in days] == [
            YELLOW_CARD,
            YELLOW_CARD,
            RED_CARD,
        ]

    def test_after_national_day_the_make_up_saturday_brings_the_red_card(self):
        due = date(2026, 9, 30)
        days = [date(2026, 10, 7), date(2026, 10, 9), date(2026, 10, 10)]
        assert [assess(d, due, 20, self.china).level for d in days] == [
            YELLOW_CARD,
            YELLOW_CARD,
            RED_CARD,
        ]


class TestHorizon:
    def test_every_due_date_after_the_horizon_has_no_level_today(self):
        calendar = FakeCalendar(days_off={day(9)}, make_up_days={day(12)})
        for today in (day(offset) for offset in range(0, 14)):
            last = horizon(today, 45, calendar, DEFAULT)
            for offset in range(1, 30):
                due = last + timedelta(days=offset)
                if calendar.is_working_day(due):
                    assert assess(today, due, 45, calendar, DEFAULT).level is None

    def test_the_horizon_reaches_the_widest_warning_window(self):
        last = horizon(MONDAY, 45, FakeCalendar(), DEFAULT)
        assert working_days_between(MONDAY, last, FakeCalendar()) == warning_window(45, DEFAULT)
        assert assess(MONDAY, last, 45, FakeCalendar(), DEFAULT).level == YELLOW_WARNING


@pytest.mark.parametrize(
    ("lower", "higher"),
    [(None, YELLOW_WARNING), (YELLOW_WARNING, YELLOW_CARD), (YELLOW_CARD, RED_CARD)],
)
def test_levels_rise_from_warning_to_red_card(lower, higher):
    assert severity(lower) < severity(higher)
