"""统一受理号 — the 22-character unified acceptance number.

Layout: region (6) + desk date YYYYMMDD (8) + channel (1) + sequence (6) + check character (1).
The check character is ISO 7064 MOD 11-2 over the first 21 digits, as on a resident ID card.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

CHANNEL_DIGITS = {"window": "1", "online": "2", "mobile": "3", "self_service": "4"}
CHANNELS_BY_DIGIT = {digit: name for name, digit in CHANNEL_DIGITS.items()}
MAX_SEQUENCE = 999_999
# region (6) + desk date (8) + channel 1-4 + sequence (6) + check character, once normalised
PATTERN = r"^[0-9]{14}[1-4][0-9]{6}[0-9X]$"
_SHAPE = re.compile(PATTERN)


class InvalidNumber(ValueError):
    """The text is not a well-formed acceptance number (shape or check character)."""


def check_character(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character over a string of decimal digits ('X' stands for 10)."""
    if not digits.isdigit():
        raise ValueError("check character is computed over digits only")
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2 % 11
    value = (12 - total) % 11
    return "X" if value == 10 else str(value)


def compose(region_code: str, desk_date: date, channel: str, sequence: int) -> str:
    """The acceptance number for a region, desk date, channel name and sequence."""
    if not (len(region_code) == 6 and region_code.isdigit()):
        raise ValueError("region code must be 6 digits")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError("sequence out of range")
    body = f"{region_code}{desk_date:%Y%m%d}{CHANNEL_DIGITS[channel]}{sequence:06d}"
    return body + check_character(body)


def normalise(text: str) -> str:
    """Full-width digits to ASCII, spaces and dashes removed, x upper-cased: as people type."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\-‐-―]", "", text).upper()


@dataclass(frozen=True)
class AcceptanceNumber:
    """The parts of a valid acceptance number."""

    text: str
    region_code: str
    desk_date: date
    channel: str
    sequence: int


def parse(text: str) -> AcceptanceNumber:
    """Normalise and validate ``text``; raise InvalidNumber before any lookup is made."""
    value = normalise(text)
    if not _SHAPE.match(value):
        raise InvalidNumber("受理号应为22位: 6位行政区划 + 8位日期 + 1位渠道 + 6位序号 + 1位校验码")
    if check_character(value[:21]) != value[21]:
        raise InvalidNumber("受理号校验位不正确, 请核对后重新输入")
    try:
        desk_date = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidNumber("受理号中的日期无效") from exc
    sequence = int(value[15:21])
    if sequence == 0:
        raise InvalidNumber("受理号序号无效")
    return AcceptanceNumber(value, value[:6], desk_date, CHANNELS_BY_DIGIT[value[14]], sequence)
