"""The one clock. Everything asks here for "now" so tests can move time without sleeping."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_override = None


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return _override() if _override else datetime.now(UTC)


def today() -> date:
    """Today's date in Asia/Shanghai, the date all limits are counted in."""
    return local(now()).date()


def local(moment: datetime) -> datetime:
    """``moment`` expressed in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI)


def set_clock(fn):
    """Replace the clock with ``fn`` (a callable returning an aware datetime); None restores it."""
    global _override
    _override = fn
