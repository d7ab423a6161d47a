"""The case clock: paused during 特别程序 (Art 45) and while a department's correction is out.

Making up a pause moves the promised and legal due dates, and those of the open steps, by exactly
the working days paused: from the day the pause began to the day it ended. Every ended pause is
kept on the case (``details["pauses"]``) with the steps it moved, so that a pause counted over a
year without the official calendar can be counted again when the notice arrives.
"""

from ... import clock
from ...rules.deadlines import (
    Deadline,
    add_working_days,
    extend,
    pause_length,
    working_days_between,
)
from ...workflows.step import OPEN_STATES
from ..calendar.working import working_calendar

CASE_DEADLINES = (
    ("due_date", "due_date_provisional"),
    ("legal_due_date", "legal_due_date_provisional"),
)


def pause(application) -> None:
    """Stop the clock from today (idempotent while already paused)."""
    if application.pause_started_on is None:
        application.pause_started_on = clock.today()


def resume(application) -> int:
    """Restart the clock; move every open due date on by the working days paused; return them."""
    return _end_pause(application, moves_deadlines=True)


def stop(application) -> int:
    """The case ended while paused: the pause counts as paused time, no deadline moves."""
    return _end_pause(application, moves_deadlines=False)


def move_case_deadlines(application, days: int, provisional: bool = False) -> None:
    """Move the promised and legal due dates on by ``days`` working days (pause, extension)."""
    set_case_deadlines(application, moved_case_deadlines(application, days, provisional))


def moved_case_deadlines(application, days: int, provisional: bool = False) -> dict:
    """The promised and legal due dates moved on by ``days`` working days, without setting them:
    ``{attribute: Deadline}`` for each date the case has."""
    calendar = working_calendar()
    moved = {}
    for date_attr, flag_attr in CASE_DEADLINES:
        current = getattr(application, date_attr)
        if current is None:
            continue
        shifted = extend(Deadline(current, getattr(application, flag_attr)), days, calendar)
        moved[date_attr] = Deadline(shifted.date, shifted.provisional or provisional)
    return moved


def set_case_deadlines(application, moved: dict) -> None:
    """Set due dates computed by ``moved_case_deadlines`` (with their provisional flags)."""
    flags = dict(CASE_DEADLINES)
    for date_attr, deadline in moved.items():
        setattr(application, date_attr, deadline.date)
        setattr(application, flags[date_attr], deadline.provisional)


def _end_pause(application, *, moves_deadlines: bool) -> int:
    started = application.pause_started_on
    if started is None:
        return 0
    today = clock.today()
    length = pause_length(started, today, working_calendar())
    application.pause_started_on = None
    moved_steps = []
    if length.days:
        application.paused_working_days = (application.paused_working_days or 0) + length.days
        if moves_deadlines:
            move_case_deadlines(application, length.days, length.provisional)
            moved_steps = _move_open_steps(application, length)
    application.details = {
        **(application.details or {}),
        "pauses": [
            *(application.details or {}).get("pauses", []),
            {
                "from": started.isoformat(),
                "to": today.isoformat(),
                "days": length.days,
                "provisional": length.provisional,
                "moves_deadlines": moves_deadlines,
                "steps": moved_steps,
            },
        ],
    }
    return length.days


def _move_open_steps(application, length) -> list[int]:
    calendar = working_calendar()
    moved = []
    for step in application.steps:
        if step.state in OPEN_STATES and step.due_date:
            if step.moved_working_days is None:  # moved before this was counted: all official
                opened = clock.local(step.opened_at).date()
                first = add_working_days(opened, step.days, calendar)
                step.moved_working_days = working_days_between(first, step.due_date, calendar)
            step.moved_working_days += length.days
            current = Deadline(step.due_date, step.due_date_provisional)
            shifted = extend(current, length.days, calendar)
            step.due_date = shifted.date
            step.due_date_provisional = shifted.provisional or length.provisional
            moved.append(step.id)
    return moved
