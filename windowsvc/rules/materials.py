"""Completeness of an application's materials against its catalog item (材料齐全性)."""

from datetime import date


def required_materials(definition: dict) -> list[dict]:
    """The item's required materials, in catalog order."""
    return [m for m in definition["materials"] if m.get("required", True)]


def unknown_codes(definition: dict, codes) -> list[str]:
    """Material codes the item does not list (a clerk's typo, or another item's material)."""
    known = {m["code"] for m in definition["materials"]}
    return sorted({c for c in codes if c not in known})


def name_materials(definition: dict, codes) -> tuple[list[dict], list[str]]:
    """The item's materials named by ``codes`` (once each, in order), and the unknown codes."""
    by_code = {m["code"]: m for m in definition["materials"]}
    named = [{"code": c, "name": by_code[c]["name"]} for c in dict.fromkeys(codes) if c in by_code]
    return named, sorted(set(codes) - set(by_code))


def check_deferrals(
    definition: dict,
    deferred: list[dict],
    promised_due: date | None,
    today: date | None = None,
    provisional: bool = False,
) -> dict:
    """Field errors for 容缺 commitments: only deferrable materials, once each, dated from today
    up to the promised limit (``provisional``: that limit is an estimate, 预计)."""
    by_code = {m["code"]: m for m in definition["materials"]}
    errors = {}
    seen = set()
    for entry in deferred:
        material = by_code.get(entry["code"])
        if entry["code"] in seen:
            errors[entry["code"]] = "同一材料只能承诺一次"
            continue
        seen.add(entry["code"])
        if today is not None and entry["commit_date"] < today:
            errors[entry["code"]] = f"承诺补交日期不能早于今天 {today.isoformat()}"
        elif material is None:
            errors[entry["code"]] = "该事项没有此材料"
        elif not material.get("deferrable"):
            errors[entry["code"]] = f"{material['name']} 是关键材料, 不可容缺"
        elif promised_due is not None and entry["commit_date"] > promised_due:
            estimate = "（预计）" if provisional else ""
            errors[entry["code"]] = (
                f"承诺补交日期不得晚于承诺办结日期 {promised_due.isoformat()}{estimate}"
            )
    return errors


def missing_materials(
    definition: dict, handed_in: set[str], fetched: set[str], deferred: set[str], reasons=None
) -> list[dict]:
    """Every required material that was neither handed in, fetched, nor deferred — all at once."""
    reasons = reasons or {}
    missing = []
    for material in required_materials(definition):
        code = material["code"]
        if code in handed_in or code in fetched or code in deferred:
            continue
        entry = {"code": code, "name": material["name"]}
        if code in reasons:
            entry["reason"] = reasons[code]
        missing.append(entry)
    return missing
