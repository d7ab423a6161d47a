"""Jinja filters the pages share: dates in the hall's time zone, Chinese date forms."""

from datetime import date, datetime

from .. import clock

WEEKDAYS = "一二三四五六日"


def local_time(value) -> str:
    """An instant as the hall reads it: 2026-12-01 09:30 (Asia/Shanghai)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return clock.local(value).strftime("%Y-%m-%d %H:%M")


def cn_date(value) -> str:
    """A date as printed on notices: 2026年12月1日."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = clock.local(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def with_weekday(value) -> str:
    """2026-12-01（周二）: a due date with its weekday, for the desk."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value:%Y-%m-%d}（周{WEEKDAYS[value.weekday()]}）"


def register(app):
    app.add_template_filter(local_time)
    app.add_template_filter(cn_date)
    app.add_template_filter(with_weekday)
