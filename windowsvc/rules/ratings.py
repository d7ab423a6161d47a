"""好差评 rules: levels, the tags a channel offers, what a bad rating needs, and the rates.

Pure functions: no Flask, no database.
"""

from ..workflows.lifecycle import CONCLUDED

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_LEVELS = (1, 2)
GOOD_LEVELS = (4, 5)
DEFAULT_LEVEL = 4  # 默认好评: no rating within the configured working days counts as 满意

# The aspects a rater may name, per channel (the national 好差评 evaluation items).
ONLINE_TAGS = {
    "efficiency": "办事效率",
    "guide_accuracy": "办事指南准确性",
    "convenience": "便捷程度",
    "usability": "系统易用性",
}
WINDOW_TAGS = {
    "efficiency": "办事效率",
    "service_level": "服务水平",
    "attitude": "服务态度",
}
TAGS = {
    "window": WINDOW_TAGS,
    "online": ONLINE_TAGS,
    "mobile": ONLINE_TAGS,
    "self_service": ONLINE_TAGS,
}
ALL_TAGS = {**ONLINE_TAGS, **WINDOW_TAGS}

# The rater's verdict on a closed rectification (整改评价).
VERDICTS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}


def is_bad(level: int) -> bool:
    """差评: levels 1–2."""
    return level in BAD_LEVELS


def is_good(level: int) -> bool:
    """好评: levels 4–5."""
    return level in GOOD_LEVELS


def tags_for(channel: str) -> dict[str, str]:
    """Tag code → Chinese label offered to a case submitted through ``channel``."""
    return TAGS.get(channel, ONLINE_TAGS)


def tag_labels(tags) -> list[str]:
    """The Chinese labels of tag codes (unknown codes as they are)."""
    return [ALL_TAGS.get(t, t) for t in tags]


def is_concluded(state: str, details: dict | None) -> bool:
    """The case has ended and may be rated; a denial counts although the result is still out."""
    decision = (details or {}).get("decision") or {}
    return state in CONCLUDED or decision.get("outcome") == "deny"


def rating_problems(level, tags, comment, channel) -> dict[str, list[str]]:
    """Field → messages for a rating that breaks the rules (empty when it is acceptable)."""
    problems: dict[str, list[str]] = {}
    if level not in LEVELS:
        problems["level"] = ["评价等级须为 1 至 5 (level must be 1–5)"]
        return problems
    offered = tags_for(channel)
    unknown = [t for t in tags if t not in offered]
    if unknown:
        problems["tags"] = [
            f"该渠道的评价标签为 {', '.join(offered)} (unknown tag: {', '.join(unknown)})"
        ]
    if is_bad(level) and not tags and not (comment or "").strip():
        problems["comment"] = ["差评须选择标签或填写评价内容 (a bad rating needs a tag or text)"]
    return problems


def rate(numerator: int, denominator: int) -> float | None:
    """A share rounded to four places; None when there is nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None


def good_rating_rate(levels, excluded=()) -> float | None:
    """好评率: levels 4–5 over the valid ratings (those an upheld appeal excluded do not count).

    ``excluded`` holds, position by position, whether each rating was excluded.
    """
    flags = list(excluded) or [False] * len(levels)
    valid = [level for level, out in zip(levels, flags, strict=True) if not out]
    return rate(sum(is_good(level) for level in valid), len(valid))


def bad_rating_rate(levels, excluded=()) -> float | None:
    """差评率: levels 1–2 over the valid ratings."""
    flags = list(excluded) or [False] * len(levels)
    valid = [level for level, out in zip(levels, flags, strict=True) if not out]
    return rate(sum(is_bad(level) for level in valid), len(valid))
