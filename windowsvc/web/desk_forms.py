"""The desk's forms: read and check what a supervisor typed; (values, errors by field).

The bounds are the API's payload schemas' (api/applications.py ExtendIn, api/tasks.py
RetriesIn, api/rectifications.py); the rules behind them stay in the workflows' guards.
"""

from datetime import datetime

from .. import clock
from ..rules.deadlines import EARLIEST, LATEST
from ..workflows.lifecycle import LONGEST_EXTENSION


def text(form, name: str, label: str, longest: int, errors: dict) -> str:
    """A required text field, stripped; an error when blank or too long."""
    value = (form.get(name) or "").strip()
    if not value:
        errors[name] = f"请填写{label}"
    elif len(value) > longest:
        errors[name] = f"{label}不能超过 {longest} 个字"
    return value


def whole_number(form, name: str, label: str, lowest: int, highest: int, errors: dict):
    """A required whole number within bounds; None (and an error) otherwise."""
    raw = (form.get(name) or "").strip()
    try:
        value = int(raw)
    except ValueError:
        errors[name] = f"{label}须为整数"
        return None
    if not lowest <= value <= highest:
        errors[name] = f"{label}须在 {lowest} 至 {highest} 之间"
        return None
    return value


def version_of(form) -> int | None:
    """The case version the form was rendered at (hidden field); None when missing or bad."""
    try:
        return int(form.get("version", ""))
    except ValueError:
        return None


def extension(form) -> tuple[dict, dict]:
    """延期: days, reason, approver (ExtendIn)."""
    errors = {}
    values = {
        "days": whole_number(form, "days", "延长工作日", 1, LONGEST_EXTENSION, errors),
        "reason": text(form, "reason", "延期理由", 2000, errors),
        "approver": text(form, "approver", "批准人", 100, errors),
    }
    return values, errors


def retries(form) -> tuple[int | None, dict]:
    """重试次数 (RetriesIn: 1–1000)."""
    errors = {}
    return whole_number(form, "retries", "重试次数", 1, 1000, errors), errors


def contacted_at(form, errors: dict):
    """回访时间 from a datetime-local field, read in the hall's time zone."""
    raw = (form.get("contacted_at") or "").strip()
    if not raw:
        errors["contacted_at"] = "请填写回访时间"
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        errors["contacted_at"] = "回访时间格式应为 2026-12-01T09:30"
        return None
    if not EARLIEST.year <= moment.year <= LATEST.year:
        errors["contacted_at"] = f"回访时间须在 {EARLIEST.year} 年至 {LATEST.year} 年之间"
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.SHANGHAI)
    return moment


def order_payload(action: str, form) -> tuple[dict, dict]:
    """The payload of a work-order action (api/rectifications.py's schemas)."""
    errors = {}
    if action == "follow_up":
        payload = {
            "contacted_at": contacted_at(form, errors),
            "summary": text(form, "summary", "回访情况", 2000, errors),
        }
    elif action == "rectify":
        payload = {"measures": text(form, "measures", "整改措施", 4000, errors)}
    elif action == "explain":
        payload = {"explanation": text(form, "explanation", "解释说明", 4000, errors)}
    elif action == "appeal":
        payload = {"reason": text(form, "reason", "申诉理由", 2000, errors)}
    else:
        payload = {}
    return payload, errors
