"""Checks on applicants' identity numbers (居民身份证号码, 统一社会信用代码)."""

import re

from .acceptance_number import check_character

_RESIDENT_ID = re.compile(r"^[0-9]{17}[0-9X]$")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def resident_id_problem(value: str) -> str | None:
    """Why a resident ID number is wrong, or None when its shape and check digit are valid."""
    if not _RESIDENT_ID.match(value):
        return "居民身份证号码应为18位 (17位数字 + 校验位)"
    if check_character(value[:17]) != value[17]:
        return "居民身份证号码校验位不正确"
    return None


def uscc_problem(value: str) -> str | None:
    """Why a unified social credit code (统一社会信用代码) is malformed, or None."""
    return None if _USCC.match(value) else "统一社会信用代码应为18位"


def identity_problem(id_type: str, value: str) -> str | None:
    """Why an ID number of the given type is wrong, or None; other types are only length-checked."""
    if id_type == "resident_id":
        return resident_id_problem(value)
    if id_type == "uscc":
        return uscc_problem(value)
    return None if 3 <= len(value) <= 40 else "证件号码长度不正确"
