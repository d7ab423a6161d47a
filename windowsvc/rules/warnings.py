"""电子监察 levels: yellow warning (预警), yellow card (黄牌), red card (红牌) — pure rules.

A limit is watched against its due date in working days: a yellow warning when few remain (the
configured number, or 20% of the limit, whichever is larger), a yellow card once the due date has
passed, a red card when the case or step is still open a configured number of working days after.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from .deadlines import WorkingCalendar, add_working_days, working_days_between

YELLOW_WARNING, YELLOW_CARD, RED_CARD = "yellow_warning", "yellow_card", "red_card"
LEVELS = (YELLOW_WARNING, YELLOW_CARD, RED_CARD)  # rising severity
LEVEL_LABELS = {YELLOW_WARNING: "预警", YELLOW_CARD: "黄牌", RED_CARD: "红牌"}


@dataclass(frozen=True)
class Thresholds:
    """WARNING_DAYS and RED_CARD_DAYS of the configuration."""

    warning_days: int = 2
    red_card_days: int = 3


@dataclass(frozen=True)
class Assessment:
    """Where a limit stands today: its level and the working days left before / over after it."""

    level: str | None
    working_days_left: int
    working_days_over: int

    @property
    def overdue(self) -> bool:
        """The due date has passed."""
        return self.level in (YELLOW_CARD, RED_CARD)


def warning_window(limit_days: int, thresholds: Thresholds) -> int:
    """Working days left at which the yellow warning starts: max(WARNING_DAYS, ⌈20% of limit⌉)."""
    # integer ceiling: 0.2 * 15 is 3.0000000000000004 in floating point
    return max(thresholds.warning_days, -(-limit_days // 5))


def assess(
    today: date,
    due: date,
    limit_days: int,
    calendar: WorkingCalendar,
    thresholds: Thresholds = Thresholds(),
) -> Assessment:
    """The level of a limit of ``limit_days`` working days ending on ``due``, as of ``today``."""
    if today <= due:
        left = working_days_between(today, due, calendar)
        warned = left <= warning_window(limit_days, thresholds)
        return Assessment(YELLOW_WARNING if warned else None, left, 0)
    over = working_days_between(due, today, calendar)
    level = RED_CARD if over >= thresholds.red_card_days else YELLOW_CARD
    return Assessment(level, 0, over)


def severity(level: str | None) -> int:
    """0 for no level, then 1–3 from yellow warning to red card (for comparing levels)."""
    return LEVELS.index(level) + 1 if level else 0


def horizon(today: date, max_limit_days: int, calendar: WorkingCalendar, thresholds: Thresholds):
    """The latest due date that can carry any level today, for limits up to ``max_limit_days``.

    Every due date before the end of the next working day past the widest warning window has at
    most that many working days left; selecting due dates up to the returned day misses none.
    """
    window = warning_window(max_limit_days, thresholds)
    return add_working_days(today, window + 1, calendar) - timedelta(days=1)
