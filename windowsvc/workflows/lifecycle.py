"""The application lifecycle (办件生命周期) as data, with its guards.

Guards raise GuardViolation with a message a clerk can act on; a guard that only chooses between
branches (e.g. whether a supplement completed the materials) returns a bool instead.
"""

from .engine import GuardViolation, WorkflowDefinition, require_text, text_argument

SUSPENSION_KINDS = ("hearing", "testing", "inspection", "appraisal", "expert_review")
DELIVERY_METHODS = ("window", "express", "electronic")
WINDOW, SUPERVISOR, SYSTEM = "window", "supervisor", "system"

STATES = [
    {"name": "submitted", "label": "已提交"},
    {"name": "correction", "label": "待补正"},
    {"name": "accepted", "label": "已受理"},
    {"name": "in_progress", "label": "办理中"},
    {"name": "suspended", "label": "特别程序"},
    {"name": "approved", "label": "准予许可"},
    {"name": "denied", "label": "不予许可"},
    {"name": "result_ready", "label": "待领取"},
    {"name": "delivered", "label": "已送达"},
    {"name": "archived", "label": "已归档", "final": True},
    {"name": "not_accepted", "label": "不予受理"},
    {"name": "withdrawn", "label": "已撤回"},
    {"name": "terminated", "label": "已终止"},
]

# States in which the decision has not been made yet (withdrawal is possible, Art 32 / 撤回).
UNDECIDED = ["submitted", "correction", "accepted", "in_progress", "suspended"]
# States in which the applicant's case has ended and may be rated.
CONCLUDED = ["delivered", "denied", "not_accepted", "withdrawn", "terminated", "archived"]


def materials_complete(ed):
    """受理 needs every required material (handed in, fetched from shared data, or deferred)."""
    missing = ed.model.missing or []
    if missing:
        names = "、".join(m["name"] for m in missing)
        raise GuardViolation(f"材料不齐全, 不能受理: 缺少 {names}", "materials")
    return True


def lists_what_is_missing(ed):
    """补正 must list every missing item at once, and may be requested only once (Art 32)."""
    if not ed.kwargs.get("missing"):
        raise GuardViolation("补正告知须一次性列明全部需补正的材料", "missing")
    if (ed.model.details or {}).get("correction_notices", 0) >= 1:
        raise GuardViolation("补正告知只能一次性提出, 本件已经告知过", "missing")
    return True


def supplement_completes(ed):
    """Branch: the supplement made the materials complete."""
    return not ed.model.missing


def correction_came_from_department(ed):
    """Branch: the correction was asked by a department after acceptance (back to processing)."""
    return (ed.model.details or {}).get("correction_origin") == "department"


def outstanding_deferrals(model) -> list:
    """容缺 materials not handed in yet (none known without a model)."""
    if model is None:
        return []
    return [d for d in model.deferred or [] if not d.get("supplied_at")]


def has_outstanding_deferrals(ed):
    """容缺补交: after acceptance, only materials accepted as deferred can be handed in."""
    if not outstanding_deferrals(ed.model):
        raise GuardViolation("本件没有待补交的容缺材料", "materials")
    return True


def not_yet_accepted(model) -> bool:
    """受理/不予受理 belong to a case that was never accepted (not a department's correction)."""
    return model is None or (model.details or {}).get("correction_origin") != "department"


def has_reason_and_rights_notice(ed):
    """不予受理 / 不予许可 must carry a reason and the notice of appeal rights (Art 38)."""
    require_text(ed, "reason", "不予受理须说明理由")
    require_text(ed, "rights_notice", "须告知申请人依法申请行政复议或提起行政诉讼的权利")
    return True


def has_reason(ed):
    """The action needs a written reason."""
    require_text(ed, "reason", "须填写理由")
    return True


def is_special_procedure(ed):
    """特别程序 (Art 45): a known kind, a reason and the expected duration in working days."""
    if ed.kwargs.get("kind") not in SUSPENSION_KINDS:
        raise GuardViolation(f"特别程序类型须为 {', '.join(SUSPENSION_KINDS)} 之一", "kind")
    require_text(ed, "reason", "须说明特别程序的理由")
    days = ed.kwargs.get("expected_days")
    if not isinstance(days, int) or days < 1:
        raise GuardViolation("须填写预计所需工作日 (至少 1 天)", "expected_days")
    return True


def open_suspension(model) -> dict | None:
    """The special procedure under way: the last one recorded, if it has not ended."""
    suspensions = (getattr(model, "details", None) or {}).get("suspensions") or []
    if suspensions and not suspensions[-1].get("ended_on"):
        return suspensions[-1]
    return None


def has_open_suspension(ed):
    """Resuming needs a special procedure under way (declines: 409 with the allowed actions)."""
    return open_suspension(ed.model) is not None


def has_procedure_result(ed):
    """Ending a special procedure records its result."""
    require_text(ed, "result", "须记录特别程序的结果")
    return True


# 延期 (Art 42: +10 working days; joint handling, Art 26: +15) by the item's mode
EXTENSION_DAYS = {"single": 10, "parallel": 15, "bundle": 15}
LONGEST_EXTENSION = max(EXTENSION_DAYS.values())
# accepted and not yet decided: the case's clock is counting (or paused)
OPEN_AFTER_ACCEPTANCE = ("accepted", "in_progress", "suspended", "correction")


def never_extended(model) -> bool:
    """延期 is offered until the case has been extended once (Art 42)."""
    return model is None or not (model.details or {}).get("extension")


def check_extension(model, *, days=None, reason=None, approver=None, mode="single", **_):
    """延期: once only, by a named approver, with a reason, up to the item's maximum (Art 42).

    Callable before the transition fires (a page shows the new due date before confirming).
    """
    if not never_extended(model):
        raise GuardViolation("办理期限只能延长一次, 本件已经延长过", "days")
    maximum = EXTENSION_DAYS[mode]
    if not isinstance(days, int) or not 1 <= days <= maximum:
        raise GuardViolation(f"延长期限须为 1 至 {maximum} 个工作日", "days")
    if not _stripped(approver):
        raise GuardViolation("须写明批准人", "approver")
    if not _stripped(reason):
        raise GuardViolation("须说明延期理由 (将告知申请人)", "reason")
    return True


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def extension_allowed(ed):
    """The guard of 延期: ``check_extension`` on the event's model and arguments."""
    return check_extension(ed.model, **ed.kwargs)


def has_delivery_method(ed):
    """送达 by window pick-up, express (with a tracking number) or electronically (Art 44)."""
    method = ed.kwargs.get("method")
    if method not in DELIVERY_METHODS:
        raise GuardViolation(f"送达方式须为 {', '.join(DELIVERY_METHODS)} 之一", "method")
    if method == "express" and not text_argument(ed, "tracking"):
        raise GuardViolation("快递送达须填写运单号", "tracking")
    return True


TRANSITIONS = [
    # 前台受理 (Art 32)
    {
        "trigger": "accept",
        "source": ["submitted", "correction"],
        "dest": "accepted",
        "conditions": [materials_complete],
        "unless": [correction_came_from_department],
        "offered_when": not_yet_accepted,
        "actor": WINDOW,
    },
    {
        "trigger": "request_correction",
        "source": "submitted",
        "dest": "correction",
        "conditions": [lists_what_is_missing],
        "actor": WINDOW,
    },
    {
        "trigger": "supplement",
        "source": "correction",
        "dest": "in_progress",
        "conditions": [supplement_completes, correction_came_from_department],
        "actor": WINDOW,
    },
    {
        "trigger": "supplement",
        "source": "correction",
        "dest": "accepted",
        "conditions": [supplement_completes],
        "actor": WINDOW,
    },
    {"trigger": "supplement", "source": "correction", "dest": "=", "actor": WINDOW},
    {
        "trigger": "supplement",
        "source": ["accepted", "in_progress", "suspended"],
        "dest": "=",
        "conditions": [has_outstanding_deferrals],
        "offered_when": outstanding_deferrals,
        "actor": WINDOW,
    },
    {
        "trigger": "refuse",
        "source": ["submitted", "correction"],
        "dest": "not_accepted",
        "conditions": [has_reason_and_rights_notice],
        "unless": [correction_came_from_department],
        "offered_when": not_yet_accepted,
        "actor": WINDOW,
    },
    {
        "trigger": "deem_accepted",
        "source": ["submitted", "correction"],
        "dest": "accepted",
        "actor": SYSTEM,
    },
    # 后台办理
    {"trigger": "start", "source": "accepted", "dest": "in_progress", "actor": SYSTEM},
    {
        "trigger": "department_correction",
        "source": "in_progress",
        "dest": "correction",
        "actor": SYSTEM,
    },
    {
        "trigger": "suspend",
        "source": "in_progress",
        "dest": "suspended",
        "conditions": [is_special_procedure],
        "actor": [WINDOW, SUPERVISOR],
    },
    {
        "trigger": "resume",
        "source": "suspended",
        "dest": "in_progress",
        "conditions": [has_open_suspension, has_procedure_result],
        "offered_when": open_suspension,
        "actor": [WINDOW, SUPERVISOR],
    },
    {
        "trigger": "extend",
        "source": ["in_progress", "suspended"],
        "dest": "=",
        "conditions": [extension_allowed],
        "offered_when": never_extended,
        "actor": SUPERVISOR,
    },
    {"trigger": "approve", "source": "in_progress", "dest": "approved", "actor": SYSTEM},
    {
        "trigger": "deny",
        "source": "in_progress",
        "dest": "denied",
        "conditions": [has_reason_and_rights_notice],
        "actor": SYSTEM,
    },
    {
        "trigger": "issue_result",
        "source": ["approved", "denied"],
        "dest": "result_ready",
        "actor": SYSTEM,
    },
    # 出件, 撤回, 终止, 归档
    {
        "trigger": "deliver",
        "source": "result_ready",
        "dest": "delivered",
        "conditions": [has_delivery_method],
        "actor": WINDOW,
    },
    {
        "trigger": "withdraw",
        "source": UNDECIDED,
        "dest": "withdrawn",
        "conditions": [has_reason],
        "actor": WINDOW,
    },
    {
        "trigger": "terminate",
        "source": ["correction", "accepted", "in_progress", "suspended"],
        "dest": "terminated",
        "conditions": [has_reason],
        "actor": SYSTEM,
    },
    {
        "trigger": "archive",
        "source": ["delivered", "not_accepted", "withdrawn", "terminated"],
        "dest": "archived",
        "actor": WINDOW,
    },
]

LIFECYCLE = WorkflowDefinition("application", "submitted", STATES, TRANSITIONS)

STAFF_ACTIONS = sorted({t["trigger"] for t in TRANSITIONS if t["actor"] != SYSTEM})
