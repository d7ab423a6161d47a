"""Hand-written fakes shared by the test layers (no mocks)."""


class FakeCalendar:
    """Monday to Friday, minus listed days off, plus listed working weekend days.

    ``unofficial`` years are answered the same way but reported as provisional.
    """

    def __init__(self, days_off=(), make_up_days=(), unofficial=()):
        self.days_off = set(days_off)
        self.make_up_days = set(make_up_days)
        self.unofficial = set(unofficial)
        self.asked = []

    def is_working_day(self, day):
        self.asked.append(day)
        if day in self.make_up_days:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def is_official(self, year):
        return year not in self.unofficial


class FakeClock:
    """A clock moved by hand: calling it answers the moment it was set to."""

    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment
