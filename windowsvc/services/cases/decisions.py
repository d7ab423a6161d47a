"""Engine-driven transitions of a case: start processing, the decision, issuing the result.

Called inside the caller's transaction (the back-office step completion that finishes a stage).
"""

from ... import clock
from ...workflows.lifecycle import LIFECYCLE
from .applications import conclude
from .records import SYSTEM, Actor, transition

DEFAULT_RIGHTS_NOTICE = (
    "如对本决定不服, 可自收到之日起六十日内依法申请行政复议, 或者六个月内依法提起行政诉讼。"
)


def _fire(application, trigger, event_type, by, details=None, **kwargs):
    transition(LIFECYCLE, application, trigger, event_type, by=by, details=details, **kwargs)


def start_processing(application, by: Actor = SYSTEM) -> None:
    """已受理 → 办理中: the back office starts."""
    _fire(application, "start", "application.processing_started", by)


def decide(application, outcome: str, *, by: Actor = SYSTEM, reason=None, result=None) -> None:
    """准予许可 or 不予许可 (with reason and appeal-rights notice), then issue the result."""
    if outcome == "approve":
        _fire(application, "approve", "application.approved", by, {"result": result or {}})
    else:
        _fire(
            application,
            "deny",
            "application.denied",
            by,
            {"reason": reason, "rights_notice": DEFAULT_RIGHTS_NOTICE},
            reason=reason,
            rights_notice=DEFAULT_RIGHTS_NOTICE,
        )
    application.details = {
        **(application.details or {}),
        "decision": {
            "outcome": outcome,
            "reason": reason,
            "result": result or {},
            "at": clock.now().isoformat(),
        },
    }
    conclude(application)
    _fire(application, "issue_result", "application.result_ready", by)
