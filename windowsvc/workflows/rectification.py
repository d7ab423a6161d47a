"""The rectification (差评整改) closed loop as data: one small machine per work order.

open ─follow_up→ followed_up ─rectify→ rectified ─close→ closed ─rate→ assessed
                 followed_up ─explain→ explained ─close→ closed
followed_up/rectified/explained ─appeal→ appealed (once, after the follow-up)
appealed ─decide_appeal(upheld)→ appeal_upheld · ─decide_appeal(rejected)→ where it came from

The follow-up call (回访) comes first and is required: nothing else moves a new work order on,
not even an appeal.
"""

from .engine import GuardViolation, WorkflowDefinition, require_text

SUPERVISOR, OVERSIGHT, CITIZEN = "supervisor", "oversight", "citizen"
# where an appeal may start and where a rejected one returns: after the follow-up, before close
APPEALABLE = ["followed_up", "rectified", "explained"]
OPEN_STATES = ["open", *APPEALABLE, "appealed"]
VERDICTS = ("satisfied", "basically_satisfied", "unsatisfied")

STATES = [
    {"name": "open", "label": "待回访"},
    {"name": "followed_up", "label": "已回访"},
    {"name": "rectified", "label": "已整改"},
    {"name": "explained", "label": "已解释说明"},
    {"name": "appealed", "label": "申诉中"},
    {"name": "closed", "label": "已办结"},
    {"name": "assessed", "label": "已评价", "final": True},
    {"name": "appeal_upheld", "label": "申诉成立", "final": True},
]


def has_follow_up_record(ed):
    """回访: when the rater was contacted (not in the future) and what was said."""
    contacted_at, now = ed.kwargs.get("contacted_at"), ed.kwargs.get("now")
    if contacted_at is None:
        raise GuardViolation("须填写回访时间", "contacted_at")
    if now is not None and contacted_at > now:
        raise GuardViolation("回访时间不能晚于当前时间", "contacted_at")
    require_text(ed, "summary", "须记录回访情况")
    return True


def has_measures(ed):
    """整改: the measures taken."""
    require_text(ed, "measures", "须填写整改措施")
    return True


def has_explanation(ed):
    """解释说明: why nothing can be changed (no legal basis)."""
    require_text(ed, "explanation", "须填写解释说明")
    return True


def has_appeal_reason(ed):
    """申诉 needs a reason."""
    require_text(ed, "reason", "须填写申诉理由")
    return True


def not_appealed_before(ed):
    """A work order may be appealed once (branch: otherwise the action is not offered)."""
    return not getattr(ed.model, "appealed_at", None)


def never_appealed(model) -> bool:
    """``offered_when`` of the appeal."""
    return not getattr(model, "appealed_at", None)


def has_appeal_decision(ed):
    """复核: upheld or not, with a reason."""
    if not isinstance(ed.kwargs.get("upheld"), bool):
        raise GuardViolation("须写明申诉是否成立 (upheld: true/false)", "upheld")
    require_text(ed, "reason", "须填写复核意见")
    return True


def appeal_upheld(ed):
    """Branch: oversight upheld the appeal."""
    return ed.kwargs.get("upheld") is True


def _appealed_from(state):
    def check(ed):
        return getattr(ed.model, "appealed_from", None) == state

    check.__name__ = f"appealed_from_{state}"
    check.__doc__ = f"Branch: a rejected appeal returns to {state}."
    return check


def is_verdict(ed):
    """The rater's verdict is one of the three."""
    if ed.kwargs.get("verdict") not in VERDICTS:
        raise GuardViolation(f"整改评价须为 {', '.join(VERDICTS)} 之一", "level")
    return True


TRANSITIONS = [
    {
        "trigger": "follow_up",
        "source": "open",
        "dest": "followed_up",
        "conditions": [has_follow_up_record],
        "actor": SUPERVISOR,
    },
    {
        "trigger": "rectify",
        "source": "followed_up",
        "dest": "rectified",
        "conditions": [has_measures],
        "actor": SUPERVISOR,
    },
    {
        "trigger": "explain",
        "source": "followed_up",
        "dest": "explained",
        "conditions": [has_explanation],
        "actor": SUPERVISOR,
    },
    {
        "trigger": "close",
        "source": ["rectified", "explained"],
        "dest": "closed",
        "actor": SUPERVISOR,
    },
    {
        "trigger": "appeal",
        "source": APPEALABLE,
        "dest": "appealed",
        "conditions": [not_appealed_before, has_appeal_reason],
        "offered_when": never_appealed,
        "actor": SUPERVISOR,
    },
    {
        "trigger": "decide_appeal",
        "source": "appealed",
        "dest": "appeal_upheld",
        "conditions": [has_appeal_decision, appeal_upheld],
        "actor": OVERSIGHT,
    },
    *(
        {
            "trigger": "decide_appeal",
            "source": "appealed",
            "dest": state,
            "conditions": [_appealed_from(state)],
            "actor": OVERSIGHT,
        }
        for state in APPEALABLE
    ),
    {
        "trigger": "rate",
        "source": "closed",
        "dest": "assessed",
        "conditions": [is_verdict],
        "actor": CITIZEN,
    },
]

RECTIFICATION = WorkflowDefinition("rectification", "open", STATES, TRANSITIONS)

STAFF_ACTIONS = [t for t in dict.fromkeys(t["trigger"] for t in TRANSITIONS) if t != "rate"]
