"""Art 32 (视为受理): no correction notice within 5 working days of receipt."""

from datetime import date

from windowsvc.rules.deeming import deemed_accepted

LIMIT = date(2026, 3, 9)  # receipt Monday 2 March + 5 working days


class TestDeemedAcceptance:
    def test_on_the_last_day_of_the_limit_nothing_is_deemed(self):
        assert not deemed_accepted("submitted", None, LIMIT, LIMIT, None)

    def test_the_day_after_the_limit_a_waiting_submission_is_deemed_accepted(self):
        assert deemed_accepted("submitted", None, date(2026, 3, 10), LIMIT, None)

    def test_a_correction_notice_delivered_in_time_prevents_it(self):
        assert not deemed_accepted("correction", None, date(2026, 3, 20), LIMIT, date(2026, 3, 9))

    def test_a_notice_delivered_late_does_not(self):
        assert deemed_accepted("correction", None, date(2026, 3, 20), LIMIT, date(2026, 3, 10))

    def test_a_notice_never_delivered_does_not(self):
        assert deemed_accepted("correction", None, date(2026, 3, 20), LIMIT, None)

    def test_an_accepted_case_is_never_deemed_again(self):
        assert not deemed_accepted("submitted", date(2026, 3, 2), date(2026, 3, 20), LIMIT, None)

    def test_a_refused_or_withdrawn_case_is_not_deemed(self):
        for state in ("not_accepted", "withdrawn", "in_progress"):
            assert not deemed_accepted(state, None, date(2026, 3, 20), LIMIT, None)
