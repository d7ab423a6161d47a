"""补正 — asking for what is missing: the window's one-time notice (Art 32, 一次性告知) before
acceptance, and a department's request after it (the case waits for the applicant)."""

from ... import clock
from ...platform.errors import Conflict
from ...workflows.lifecycle import LIFECYCLE
from . import clocks
from .records import record


def set_detail(application, key, value):
    """Set one entry of the case's details (a new dict, so the JSON column is written)."""
    application.details = {**(application.details or {}), key: value}


def notice(application, actor, missing, note, on_the_spot=False):
    """一次性告知: move to correction with the whole list of what is missing (Art 32).

    At the window the notice is handed over on the spot; otherwise it is delivered through the
    outbox, and its delivery time is what the 5-working-day rule is judged on.
    """
    before = application.state
    application.missing = missing
    LIFECYCLE.fire("request_correction", application, missing=missing)
    now = clock.now().isoformat()
    event = record(
        application,
        "application.correction_requested",
        by=actor,
        from_state=before,
        to_state=application.state,
        details={"missing": missing, "note": note, "on_the_spot": on_the_spot},
    )
    correction = {
        "missing": missing,
        "note": note,
        "requested_at": now,
        "notice_key": f"notice:{application.number}:{event.seq}",
    }
    if on_the_spot:
        correction["delivered_at"], correction["delivered_by"] = now, "on_the_spot"
    set_detail(application, "correction", correction)
    set_detail(application, "correction_notices", 1)
    application.correction_requested_at = clock.now()


def by_department(application, actor, step, missing, note):
    """A department asks for materials after acceptance: the case waits for the applicant."""
    merged = list(application.missing or []) + [
        m for m in missing if m["code"] not in {x["code"] for x in application.missing or []}
    ]
    application.missing = merged
    set_detail(application, "correction_origin", "department")
    set_detail(
        application,
        "correction",
        {
            "missing": merged,
            "note": note or "",
            "requested_at": clock.now().isoformat(),
            "by": step.department,
        },
    )
    before = application.state
    if application.state == "in_progress":
        LIFECYCLE.fire("department_correction", application)
        clocks.pause(application)
    elif application.state not in ("correction", "suspended"):
        raise Conflict(f"办件当前状态 {application.state} 不能要求补正")
    # while suspended the request is kept; the case goes to correction when the procedure ends
    record(
        application,
        "application.correction_requested",
        by=actor,
        from_state=before,
        to_state=application.state,
        details={"missing": missing, "note": note or "", "step": step.code},
    )
