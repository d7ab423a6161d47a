"""电子监察 indicators: accepted, concluded, on time, average working days, compression, instant,
zero-trip, one-ID and online shares — SQL aggregates grouped by department, item, channel or
window, never every row loaded into Python."""

import csv
import io
from datetime import date

from sqlalchemy import and_, case, func, or_, select

from ... import clock
from ...extensions import db
from ...models import Application, CatalogItem, Principal
from ...platform.errors import Invalid

GROUP_BY = {
    "department": CatalogItem.department,
    "item": CatalogItem.code,
    "channel": Application.channel,
    "window": Principal.name,
}
ONLINE = ("online", "mobile")
CONTACTLESS_DELIVERY = ("express", "electronic")
COLUMNS = (
    "accepted",
    "concluded",
    "concluded_with_limit",
    "on_time",
    "on_time_rate",
    "average_working_days",
    "promised_compression",
    "instant_share",
    "zero_trip_rate",
    "one_id_rate",
    "online_rate",
)


def _aggregates(date_from, date_to):
    accepted = Application.acceptance_date.between(date_from, date_to)
    concluded = Application.concluded_on.between(date_from, date_to)
    online = Application.channel.in_(ONLINE)

    def count(*conditions):
        return func.sum(case((and_(*conditions), 1), else_=0))

    def total(condition, value):
        return func.sum(case((condition, value), else_=0))

    columns = [
        count(accepted).label("accepted"),
        count(concluded).label("concluded"),
        count(concluded, Application.due_date.is_not(None)).label("concluded_with_limit"),
        count(concluded, Application.concluded_on <= Application.due_date).label("on_time"),
        func.avg(case((concluded, Application.working_days_used))).label("average"),
        total(accepted, CatalogItem.promised_days).label("promised_days"),
        total(accepted, CatalogItem.legal_days).label("legal_days"),
        count(accepted, CatalogItem.instant.is_(True)).label("instant"),
        count(accepted, online, Application.delivery_method.in_(CONTACTLESS_DELIVERY)).label(
            "zero_trip"
        ),
        count(accepted, Application.one_id.is_(True)).label("one_id"),
        count(accepted, online).label("online"),
    ]
    return columns, or_(accepted, concluded)


def _rate(numerator, denominator):
    return round(numerator / denominator, 4) if denominator else None


def _indicators(row) -> dict:
    accepted = int(row.accepted or 0)
    legal_days = int(row.legal_days or 0)
    return {
        "accepted": accepted,
        "concluded": int(row.concluded or 0),
        "concluded_with_limit": int(row.concluded_with_limit or 0),
        "on_time": int(row.on_time or 0),
        "on_time_rate": _rate(int(row.on_time or 0), int(row.concluded_with_limit or 0)),
        "average_working_days": None if row.average is None else round(float(row.average), 2),
        "promised_compression": (
            round(1 - int(row.promised_days or 0) / legal_days, 4) if legal_days else None
        ),
        "instant_share": _rate(int(row.instant or 0), accepted),
        "zero_trip_rate": _rate(int(row.zero_trip or 0), accepted),
        "one_id_rate": _rate(int(row.one_id or 0), accepted),
        "online_rate": _rate(int(row.online or 0), accepted),
    }


def period(date_from=None, date_to=None) -> tuple[date, date]:
    """The date range asked for; by default from the 1st of the month up to today."""
    date_to = date_to or clock.today()
    date_from = date_from or date_to.replace(day=1)
    if date_from > date_to:
        raise Invalid("起始日期不能晚于截止日期", {"from": ["must not be after 'to'"]})
    return date_from, date_to


def stats(date_from=None, date_to=None, group_by="department") -> dict:
    """The indicators of DESIGN §1 for cases accepted or concluded in the range, per group.

    ``on_time_rate`` is over the concluded cases that had a promised limit: a refusal to accept
    (不予受理) or a withdrawal before acceptance ends a case that never had one.
    """
    date_from, date_to = period(date_from, date_to)
    if group_by not in GROUP_BY:
        raise Invalid("不支持的分组", {"group_by": [f"one of {', '.join(GROUP_BY)}"]})
    key = GROUP_BY[group_by]
    columns, in_range = _aggregates(date_from, date_to)
    base = (
        select(*columns)
        .select_from(Application)
        .join(CatalogItem, Application.item_id == CatalogItem.id)
    )
    if group_by == "window":
        base = base.join(Principal, Application.received_by_id == Principal.id)
    base = base.where(in_range)
    rows = db.session.execute(base.add_columns(key.label("group")).group_by(key).order_by(key))
    return {
        "date_from": date_from,
        "date_to": date_to,
        "group_by": group_by,
        "groups": [{"group": row.group, **_indicators(row)} for row in rows],
        "total": _indicators(db.session.execute(base).one()),
    }


def stats_csv(date_from=None, date_to=None, group_by="department") -> str:
    """The per-group indicators as CSV text with a header row (empty cells for no value)."""
    result = stats(date_from, date_to, group_by)
    return csv_table(result["group_by"], result["groups"], COLUMNS)


def csv_table(group_by: str, groups: list[dict], columns) -> str:
    """Rows of indicators (one per group) as CSV with a header row; None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([group_by, *columns])
    for group in groups:
        writer.writerow([group["group"], *("" if group[c] is None else group[c] for c in columns)])
    return out.getvalue()
