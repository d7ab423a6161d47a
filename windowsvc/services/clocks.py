"""The case clock: paused during 特别程序 (Art 45) and while a department's correction is out.

Pausing moves the promised and legal due dates, and those of the open steps, by exactly the
working days paused: from the day the pause began to the day it ended.
"""

from .. import clock
from ..rules.deadlines import working_days_between
from ..workflows.step import OPEN_STATES
from .applications import due_after
from .context import adapters


def pause(application) -> None:
    """Stop the clock from today (idempotent while already paused)."""
    if application.pause_started_on is None:
        application.pause_started_on = clock.today()


def resume(application) -> int:
    """Restart the clock; shift every open due date by the working days paused; return them."""
    started = application.pause_started_on
    if started is None:
        return 0
    paused = max(working_days_between(started, clock.today(), adapters().calendar), 0)
    application.pause_started_on = None
    if paused:
        application.paused_working_days = (application.paused_working_days or 0) + paused
        if application.due_date:
            application.due_date = due_after(application.due_date, paused)
        if application.legal_due_date:
            application.legal_due_date = due_after(application.legal_due_date, paused)
        for step in application.steps:
            if step.state in OPEN_STATES and step.due_date:
                step.due_date = due_after(step.due_date, paused)
    return paused
