"""View models of the oversight pages: every service call whose return shape the pages read sits
here, in one small function each, so a change of shape is adapted in one place."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..catalog.versions import item_of
from ..rules.ratings import LEVELS as RATING_LEVELS
from ..rules.warnings import LEVEL_LABELS, LEVELS
from ..services.admin.catalog import department_names
from ..services.oversight import indicators as case_indicators
from ..services.oversight import warnings as oversight_warnings
from ..services.ratings import indicators as rating_indicators
from ..services.ratings import rectification_views
from ..workflows.lifecycle import LIFECYCLE
from ..workflows.step import STEP
from .labels import CHANNEL_LABELS

GROUP_CHOICES = {"department": "部门", "item": "事项", "channel": "受理渠道", "window": "受理窗口"}
MAX_WEEKS = 26

# (key, label, source, kind): the indicator table's columns in order
INDICATORS = (
    ("accepted", "受理量", "cases", "count"),
    ("concluded", "办结量", "cases", "count"),
    ("on_time_rate", "按时办结率", "cases", "rate"),
    ("average_working_days", "平均办理工作日", "cases", "days"),
    ("promised_compression", "承诺期限压缩比", "cases", "rate"),
    ("instant_share", "即办件比例", "cases", "rate"),
    ("zero_trip_rate", "跑零次率", "cases", "rate"),
    ("one_id_rate", "一证通办率", "cases", "rate"),
    ("online_rate", "网上受理率", "cases", "rate"),
    ("rating_rate", "主动评价率", "ratings", "rate"),
    ("good_rate", "好评率", "ratings", "rate"),
    ("rectification_rate", "差评整改率", "ratings", "rate"),
)


def percent(value) -> str:
    """A share as the pages write it: 0.935 → 93.5%; None → —."""
    return "—" if value is None else f"{value * 100:.1f}%"


def formatted(value, kind: str) -> str:
    """An indicator's cell text."""
    if value is None:
        return "—"
    if kind == "rate":
        return percent(value)
    if kind == "days":
        return f"{value:g}"
    return str(value)


# ---- warnings board ----------------------------------------------------------------------


@dataclass
class DepartmentBoard:
    code: str
    name: str
    cases: list = field(default_factory=list)
    steps: list = field(default_factory=list)


def board(department: str | None = None) -> dict:
    """The warnings of ``services.oversight.warnings`` grouped by department."""
    found = oversight_warnings.warnings(department)
    names = department_names()
    groups: dict[str, DepartmentBoard] = {}

    def group(code):
        if code not in groups:
            groups[code] = DepartmentBoard(code, names.get(code, code or "—"))
        return groups[code]

    for case in found["cases"]:
        group(case["department"]).cases.append(
            {**case, "state_label": LIFECYCLE.labels.get(case["state"], case["state"])}
        )
    for step in found["steps"]:
        group(step["department"]).steps.append(
            {**step, "state_label": STEP.labels.get(step["state"], step["state"])}
        )
    summary = found["summary"]
    return {
        "as_of": found["as_of"],
        "warning_days": found["warning_days"],
        "red_card_days": found["red_card_days"],
        "levels": [(level, LEVEL_LABELS[level], summary.get(level, 0)) for level in LEVELS],
        "summary": summary,
        "departments": sorted(groups.values(), key=lambda g: g.name),
        "refusals": found["refusals_without_reason"],
        "rectifications_overdue": found["rectifications_overdue"],
        "names": names,
    }


def departments() -> dict[str, str]:
    """Department code → name (the board's filter)."""
    return department_names()


# ---- indicators --------------------------------------------------------------------------


def period(date_from=None, date_to=None) -> tuple[date, date]:
    """The period asked for with the services' defaults (Invalid when from is after to)."""
    return case_indicators.period(date_from, date_to)


def group_label(group_by: str, value, names: dict) -> str:
    if value is None:
        return "（未分组）"
    if group_by == "department":
        return names.get(value, value)
    if group_by == "channel":
        return CHANNEL_LABELS.get(value, value)
    return str(value)


def indicator_table(date_from: date, date_to: date, group_by: str) -> dict:
    """Rows (one per group, then the total) of the case and rating indicators of the period."""
    cases = case_indicators.stats(date_from, date_to, group_by)
    ratings = rating_indicators.stats(date_from, date_to, group_by)
    names = department_names()
    by_case = {g["group"]: g for g in cases["groups"]}
    by_rating = {g["group"]: g for g in ratings["groups"]}
    order = list(by_case) + [g for g in by_rating if g not in by_case]

    def row(label, case_values, rating_values):
        sources = {"cases": case_values or {}, "ratings": rating_values or {}}
        return {
            "label": label,
            "cells": [
                formatted(sources[source].get(key), kind)
                for key, _label, source, kind in INDICATORS
            ],
        }

    return {
        "rows": [
            row(group_label(group_by, g, names), by_case.get(g), by_rating.get(g)) for g in order
        ],
        "total": row("合计", cases["total"], ratings["total"]),
        "distribution": ratings["total"]["distribution"],
        "cases": cases,
        "ratings": ratings,
    }


def per_department(date_from: date, date_to: date, table: dict, group_by: str):
    """(department name, on-time rate %) and (department name, good rate %) for the bars."""
    names = department_names()
    if group_by == "department":
        cases, ratings = table["cases"], table["ratings"]
    else:
        cases = case_indicators.stats(date_from, date_to, "department")
        ratings = rating_indicators.stats(date_from, date_to, "department")

    def bars(result, key):
        return [
            (group_label("department", g["group"], names), _pct(g[key])) for g in result["groups"]
        ]

    return bars(cases, "on_time_rate"), bars(ratings, "good_rate")


def weeks(date_from: date, date_to: date) -> list[tuple[date, date]]:
    """The weeks (Monday to Sunday, cut to the period) of the period, the last MAX_WEEKS."""
    found = []
    end = date_to
    while end >= date_from and len(found) < MAX_WEEKS:
        start = max(date_from, end - timedelta(days=end.weekday()))
        found.append((start, end))
        if start == date.min or start <= date_from:
            break
        end = start - timedelta(days=1)
    return list(reversed(found))


def weekly_trend(date_from: date, date_to: date):
    """Per week of the period: (label, on-time rate %) and (label, good rate %)."""
    on_time, good = [], []
    for start, end in weeks(date_from, date_to):
        label = f"{start:%m-%d}"
        on_time.append(
            (label, _pct(case_indicators.stats(start, end, "department")["total"]["on_time_rate"]))
        )
        good.append(
            (label, _pct(rating_indicators.stats(start, end, "department")["total"]["good_rate"]))
        )
    return on_time, good


def _pct(value):
    return None if value is None else round(value * 100, 1)


def csv_of(source: str, date_from: date, date_to: date, group_by: str) -> str:
    """The CSV text of the API's stats (``cases``) or ratings (``ratings``) endpoint."""
    service = rating_indicators if source == "ratings" else case_indicators
    return service.stats_csv(date_from, date_to, group_by)


def good_rate_this_month() -> str:
    """好评率 of the default period (this month up to today), as the pages write it."""
    start, end = period()
    return percent(rating_indicators.stats(start, end, "department")["total"]["good_rate"])


# ---- appeals -----------------------------------------------------------------------------


def appeal_rows(decided: bool) -> list[dict]:
    """Work orders whose appeal awaits a decision (or was decided), as the appeals page reads
    them: the case, the department, the rating (no rater's personal data) and the appeal."""
    names = department_names()
    rows = []
    for order in rectification_views.appeals(decided=decided):
        application, rating = order.application, order.rating
        rows.append(
            {
                "id": order.id,
                "number": application.number,
                "item_name": item_of(application).name,
                "department": names.get(order.department, order.department),
                "level": rating.level,
                "level_label": RATING_LEVELS.get(rating.level, str(rating.level)),
                "comment": rating.comment,
                "excluded": rating.excluded,
                "reason": order.appeal_reason,
                "appealed_at": order.appealed_at,
                "upheld": order.appeal_upheld,
                "decision": order.appeal_decision,
                "decided_at": order.appeal_decided_at,
            }
        )
    return rows


def case_label(application) -> dict:
    """A case of the calendar page's list."""
    return {
        "number": application.number,
        "item_name": item_of(application).name,
        "state_label": LIFECYCLE.labels.get(application.state, application.state),
        "due_date": application.due_date,
        "due_date_provisional": application.due_date_provisional,
        "legal_due_date": application.legal_due_date,
        "legal_due_date_provisional": application.legal_due_date_provisional,
    }
