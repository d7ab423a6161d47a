"""综合受理 pages: the catalog item as the counter reads it, and the intake form.

The form is turned into the same intake request the API takes (``IntakeIn``), so the request's
shape is checked in one place; the rules behind it (identity check digits, 容缺, delivery) stay in
the services and rules, which report their findings as field errors.
"""

from dataclasses import dataclass, field

from marshmallow import ValidationError

from ..api.applications import IntakeIn
from ..rules.identity import identity_problem

APPLICANT_TYPES = {"person": "自然人", "organization": "法人或其他组织"}
ID_TYPE_LABELS = {  # the order of api.schemas.ID_TYPES, person first
    "resident_id": "居民身份证",
    "uscc": "统一社会信用代码",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "other": "其他证件",
}
MODE_LABELS = {"single": "单部门办理", "parallel": "多部门并联审批", "bundle": "“一件事”联办"}
# what the clerk reads instead of marshmallow's English, by form field
FIELD_MESSAGES = {
    "applicant.type": "请选择申请人类型",
    "applicant.name": "请填写申请人名称（1–100字）",
    "applicant.id_type": "请选择证件类型",
    "applicant.id_number": "证件号码只能包含数字、大写字母、括号和连字符（1–40位）",
    "applicant.phone": "请填写联系电话（5–20位数字, 可含 + - 空格）",
    "delivery.method": "请选择送达方式",
    "delivery.address": "收件地址不超过300字",
}


@dataclass
class MaterialRow:
    """One material of an item, as the checklist shows it."""

    code: str
    name: str
    required: bool
    shared: bool  # 共享获取: fetched from shared data (一证通办), no paper needed
    deferrable: bool  # 容缺: may be handed in later against a commitment date


@dataclass
class IntakeForm:
    """What the clerk entered (kept on a re-render) and the errors by field."""

    values: dict = field(default_factory=dict)
    handed_in: set = field(default_factory=set)
    deferred: dict = field(default_factory=dict)  # code → commitment date text
    errors: dict = field(default_factory=dict)
    general: list = field(default_factory=list)  # errors that belong to no one field

    def error(self, name):
        """The messages for one field, or None."""
        return self.errors.get(name)


def material_rows(definition: dict) -> list[MaterialRow]:
    """The item's materials in catalog order."""
    return [
        MaterialRow(
            m["code"],
            m["name"],
            bool(m.get("required", True)),
            bool(m.get("evidence")),
            bool(m.get("deferrable")),
        )
        for m in definition["materials"]
    ]


def blank_form(definition: dict) -> IntakeForm:
    """A new form: a person with a resident ID, the first delivery method offered."""
    methods = definition.get("delivery_methods") or ["window"]
    return IntakeForm(
        values={
            "applicant.type": "person",
            "applicant.id_type": "resident_id",
            "delivery.method": methods[0],
        }
    )


def read_form(form, definition: dict) -> IntakeForm:
    """The submitted form's values, unchecked."""
    names = (
        "applicant.type",
        "applicant.name",
        "applicant.id_type",
        "applicant.id_number",
        "applicant.phone",
        "delivery.method",
        "delivery.address",
    )
    known = {m["code"] for m in definition["materials"]}
    deferrable = {m["code"] for m in definition["materials"] if m.get("deferrable")}
    return IntakeForm(
        values={n: form.get(n, "").strip()[:400] for n in names},
        handed_in={c for c in form.getlist("materials") if c in known},
        deferred={
            c: form.get(f"commit_date.{c}", "").strip()[:20]
            for c in form.getlist("defer")
            if c in deferrable
        },
    )


def intake_request(entered: IntakeForm, item_code: str) -> dict | None:
    """The intake request for the form, or None with ``entered.errors`` filled in."""
    v = entered.values
    delivery = {"method": v.get("delivery.method", "")}
    if delivery["method"] == "express":
        delivery["address"] = v.get("delivery.address", "")
    raw = {
        "item_code": item_code,
        "channel": "window",
        "applicant": {
            "type": v.get("applicant.type", ""),
            "name": v.get("applicant.name", ""),
            "id_type": v.get("applicant.id_type", ""),
            "id_number": v.get("applicant.id_number", ""),
            "phone": v.get("applicant.phone", ""),
        },
        # a material handed in on paper counts as handed in, even when it is also deferred
        "materials": [{"code": c} for c in sorted(entered.handed_in)],
        "deferred": [
            {"code": c, "commit_date": d}
            for c, d in sorted(entered.deferred.items())
            if c not in entered.handed_in
        ],
        "delivery": delivery,
    }
    try:
        return IntakeIn().load(raw)
    except ValidationError as exc:
        entered.errors = _field_errors(exc.messages, raw)
        applicant = raw["applicant"]
        if "applicant.id_number" not in entered.errors and applicant["id_number"]:
            problem = identity_problem(applicant["id_type"], applicant["id_number"].upper())
            if problem:
                entered.errors["applicant.id_number"] = [problem]
        return None


def service_errors(entered: IntakeForm, errors: dict, definition: dict) -> None:
    """Place the intake service's field errors (``Invalid.errors``) next to the form's fields."""
    deferrable = {m["code"] for m in definition["materials"] if m.get("deferrable")}
    for name, messages in errors.items():
        if name == "deferred":
            for message in messages:
                code, _, text = message.partition(": ")
                if code in deferrable and text:
                    entered.errors.setdefault(f"commit_date.{code}", []).append(text)
                else:
                    entered.errors.setdefault("deferred", []).append(message)
        elif name in ("applicant.id_number", "materials", "delivery.method", "delivery.address"):
            entered.errors.setdefault(name, []).extend(messages)
        else:
            entered.general.extend(messages)


def _field_errors(messages: dict, raw: dict) -> dict:
    errors = {}
    for name, found in _flatten(messages):
        if name.startswith("deferred."):
            index = int(name.split(".")[1])
            given = raw["deferred"][index].get("commit_date")
            message = "承诺补交日期无效, 请按 年-月-日 填写" if given else "请填写承诺补交日期"
            errors[f"commit_date.{raw['deferred'][index]['code']}"] = [message]
        elif name in FIELD_MESSAGES:
            errors[name] = [FIELD_MESSAGES[name]]
        else:
            errors.setdefault(name, []).extend(found)
    return errors


def _flatten(messages, prefix=""):
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), list(messages)
