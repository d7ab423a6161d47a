"""The back-office step lifecycle (办理环节): one small machine per step row.

pending ─fetch→ locked ─complete→ completed
locked ─failure(retries>0)→ pending (after retry_seconds) · ─failure(retries=0)→ incident
incident ─set_retries→ pending · locked ─unlock→ pending
locked ─ask_correction→ awaiting_supplement ─reopen→ pending
pending/locked/incident/awaiting_supplement ─cancel→ cancelled
An expired lock needs no transition: a locked step whose lease ran out is fetchable again.
"""

from .engine import GuardViolation, WorkflowDefinition, require_text

OUTCOMES = ("approve", "deny", "correction")
OPEN_STATES = ["pending", "locked", "incident", "awaiting_supplement"]

STATES = [
    {"name": "pending", "label": "待办"},
    {"name": "locked", "label": "办理中"},
    {"name": "awaiting_supplement", "label": "待补正"},
    {"name": "incident", "label": "异常"},
    {"name": "completed", "label": "已办结", "final": True},
    {"name": "cancelled", "label": "已取消", "final": True},
]


def outcome_is_complete(ed):
    """A deny carries a reason; a correction lists what is missing."""
    outcome = ed.kwargs.get("outcome")
    if outcome not in OUTCOMES:
        raise GuardViolation(f"outcome 须为 {', '.join(OUTCOMES)} 之一", "outcome")
    if outcome == "deny":
        require_text(ed, "comment", "不予许可须在 comment 中说明理由")
    return True


def lease_refusal(step, worker_id: str, now, attempt: int | None = None) -> str | None:
    """The fence: why the worker may not report on the step, or None when it holds a live lease
    (of the attempt it was handed, when it says which). Duck-typed over a step row."""
    if step.state != "locked":
        return f"任务 {step.id} 当前状态为 {step.state}, 未被锁定 (not locked)"
    if step.lock_owner != worker_id:
        return f"任务 {step.id} 由其他办理端锁定 (locked by another worker)"
    if step.lock_expires_at <= now:
        return f"任务 {step.id} 的锁已过期, 请重新获取 (lock expired)"
    if attempt is not None and attempt != step.attempt:
        return f"任务 {step.id} 已被重新分派 (attempt {step.attempt}, not {attempt})"
    return None


def lists_missing(ed):
    """A department's correction lists what is missing (一次性告知)."""
    if not ed.kwargs.get("missing"):
        raise GuardViolation("补正须列明所缺材料", "missing")
    return True


def retries_left(ed):
    """Branch: the worker reported retries left (otherwise the failure is an incident)."""
    return (ed.kwargs.get("retries") or 0) > 0


TRANSITIONS = [
    {"trigger": "fetch", "source": "pending", "dest": "locked", "actor": "backoffice"},
    {
        "trigger": "complete",
        "source": "locked",
        "dest": "completed",
        "conditions": [outcome_is_complete],
        "actor": "backoffice",
    },
    {
        "trigger": "ask_correction",
        "source": "locked",
        "dest": "awaiting_supplement",
        "conditions": [lists_missing],
        "actor": "backoffice",
    },
    {
        "trigger": "fail",
        "source": "locked",
        "dest": "pending",
        "conditions": [retries_left],
        "actor": "backoffice",
    },
    {"trigger": "fail", "source": "locked", "dest": "incident", "actor": "backoffice"},
    {"trigger": "unlock", "source": "locked", "dest": "pending", "actor": "backoffice"},
    {"trigger": "extend_lock", "source": "locked", "dest": "=", "actor": "backoffice"},
    {
        "trigger": "set_retries",
        "source": "incident",
        "dest": "pending",
        "actor": ["supervisor", "admin"],
    },
    {"trigger": "reopen", "source": "awaiting_supplement", "dest": "pending", "actor": "system"},
    {"trigger": "cancel", "source": OPEN_STATES, "dest": "cancelled", "actor": "system"},
]

STEP = WorkflowDefinition("step", "pending", STATES, TRANSITIONS)
# The Core fast paths (fetch-and-lock, the sweep's lease release) write states in bulk; they take
# them from the machine: a claim is its `fetch`, a lapsed lease goes back as an `unlock` would.
FETCHABLE = STEP.initial
LOCKED = STEP.destination("fetch", FETCHABLE)
RELEASED = STEP.destination("unlock", LOCKED)
