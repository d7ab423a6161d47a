"""The AND-join of a stage (并联审批): what happens when a department reports on its step.

Pure: it looks at the steps of a case (rows or any objects with the same attributes) and says
what comes next; the service carries it out in the same transaction.
"""

from dataclasses import dataclass, field

WAIT, OPEN_NEXT, APPROVE, DENY = "wait", "open_next", "approve", "deny"


@dataclass(frozen=True)
class Next:
    """What the join decided: wait, open stage ``stage``, or decide with reason and results."""

    action: str
    stage: int | None = None
    reason: str | None = None
    results: dict = field(default_factory=dict)


def after_report(steps, stage_count: int) -> Next:
    """The AND-join over the case's steps: the current (highest opened) stage decides.

    - any step of the stage still open: wait;
    - every step completed and any denied: deny, with every denying department's reason in one
      answer (统一答复);
    - otherwise the next stage opens, or after the last one the case is approved.
    Results of every completed step travel with the decision (licence numbers, ...).
    """
    if not steps:
        return Next(WAIT)
    current = max(s.stage for s in steps)
    stage = [s for s in steps if s.stage == current]
    if any(s.state != "completed" for s in stage):
        return Next(WAIT)
    results = {s.code: s.result for s in steps if s.state == "completed" and s.result}
    denials = [s for s in stage if s.outcome == "deny"]
    if denials:
        reason = "；".join(f"{s.name}({s.department}): {s.comment}" for s in denials)
        return Next(DENY, reason=reason, results=results)
    if current + 1 < stage_count:
        return Next(OPEN_NEXT, stage=current + 1)
    return Next(APPROVE, results=results)
