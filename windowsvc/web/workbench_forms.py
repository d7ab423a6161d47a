"""The workbench's action forms: labels, and reading a posted form into an action's payload.

The payload fields and their limits are those of the API's action schemas
(``api.applications``); the rules behind them (a reason is required, express needs a tracking
number, a correction lists every missing material...) stay with the lifecycle and the services,
whose messages the page shows next to the field they name.
"""

from dataclasses import dataclass

from ..services.cases.decisions import DEFAULT_RIGHTS_NOTICE
from ..workflows.lifecycle import DELIVERY_METHODS, SUSPENSION_KINDS
from .labels import DELIVERY_LABELS

SUSPENSION_LABELS = {
    "hearing": "听证",
    "testing": "检验检测",
    "inspection": "现场核查",
    "appraisal": "鉴定",
    "expert_review": "专家评审",
}
assert set(DELIVERY_LABELS) == set(DELIVERY_METHODS)
assert set(SUSPENSION_LABELS) == set(SUSPENSION_KINDS)


@dataclass(frozen=True)
class ActionForm:
    """How an action is offered on the case page: its button, and whether it asks for input."""

    action: str
    label: str
    done: str  # the success message's first words
    kind: str = "secondary"  # button style: primary, secondary, danger
    confirm: str | None = None  # the question asked before a one-click action
    has_fields: bool = True


FORMS = {
    f.action: f
    for f in (
        ActionForm(
            "accept", "受理", "已受理", "primary", "确认材料齐全, 予以受理?", has_fields=False
        ),
        ActionForm("request_correction", "一次性告知补正", "已发出一次性补正告知"),
        ActionForm("supplement", "登记补交材料", "已登记补交的材料", "primary"),
        ActionForm("refuse", "不予受理", "已作出不予受理决定", "danger"),
        ActionForm("suspend", "进入特别程序", "已进入特别程序, 办理时限暂停计算"),
        ActionForm("resume", "结束特别程序", "特别程序已结束, 恢复计时"),
        ActionForm("deliver", "送达结果", "已送达办理结果", "primary"),
        ActionForm("withdraw", "撤回申请", "已撤回申请", "danger"),
        ActionForm("archive", "归档", "已归档", "secondary", "确认归档本件?", has_fields=False),
    )
}


class FormErrors(Exception):
    """The posted form is incomplete: ``errors`` maps a field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def defaults(action: str, application) -> dict:
    """What a form shows before anything was typed: the standard wording, the usual choices."""
    if action == "refuse":
        return {"rights_notice": DEFAULT_RIGHTS_NOTICE}
    if action == "request_correction":
        return {"missing": [m["code"] for m in application.missing or []]}
    if action == "deliver":
        return {"method": (application.delivery or {}).get("method") or "window"}
    return {}


def payload_of(action: str, form) -> dict:
    """The action's payload from a posted form (a werkzeug MultiDict); FormErrors if unusable."""
    errors: dict[str, str] = {}
    payload = READERS[action](form, errors)
    if errors:
        raise FormErrors(errors)
    return payload


def _text(form, name, label, errors, *, required=True, longest=2000):
    value = (form.get(name) or "").strip()
    if required and not value:
        errors[name] = f"请填写{label}"
    elif len(value) > longest:
        errors[name] = f"{label}不能超过 {longest} 字"
    return value


def _ticked(form, name, label, errors):
    codes = [c for c in dict.fromkeys(form.getlist(name)) if c]
    if not codes:
        errors[name] = f"请至少勾选一项{label}"
    return codes


def _choice(form, name, label, choices, errors):
    value = form.get(name) or ""
    if value not in choices:
        errors[name] = f"请选择{label}"
    return value


def _nothing(_form, _errors):
    return {}


def _request_correction(form, errors):
    return {
        "missing": _ticked(form, "missing", "需补正的材料", errors),
        "note": _text(form, "note", "补正说明", errors, required=False, longest=1000),
    }


def _supplement(form, errors):
    return {"materials": _ticked(form, "materials", "补交的材料", errors)}


def _refuse(form, errors):
    return {
        "reason": _text(form, "reason", "不予受理的理由", errors),
        "rights_notice": _text(form, "rights_notice", "权利告知", errors),
    }


def _suspend(form, errors):
    kind = _choice(form, "kind", "特别程序类型", SUSPENSION_KINDS, errors)
    reason = _text(form, "reason", "特别程序的理由", errors)
    text = (form.get("expected_days") or "").strip()
    days = int(text) if text.isascii() and text.isdigit() and len(text) < 4 else None
    if days is None or not 1 <= days <= 365:
        errors["expected_days"] = "预计所需工作日须为 1 至 365 之间的整数"
    return {"kind": kind, "reason": reason, "expected_days": days}


def _resume(form, errors):
    return {"result": _text(form, "result", "特别程序的结果", errors)}


def _withdraw(form, errors):
    return {"reason": _text(form, "reason", "撤回理由", errors)}


def _deliver(form, errors):
    payload = {"method": _choice(form, "method", "送达方式", DELIVERY_METHODS, errors)}
    tracking = _text(form, "tracking", "运单号", errors, required=False, longest=100)
    if tracking:
        payload["tracking"] = tracking
    return payload


READERS = {
    "accept": _nothing,
    "request_correction": _request_correction,
    "supplement": _supplement,
    "refuse": _refuse,
    "suspend": _suspend,
    "resume": _resume,
    "withdraw": _withdraw,
    "deliver": _deliver,
    "archive": _nothing,
}
assert set(READERS) == set(FORMS)
