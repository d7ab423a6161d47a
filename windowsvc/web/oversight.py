"""Pages: the oversight centre (电子监察中心) — warnings board, indicators with charts and CSV,
appeal decisions, the record's integrity and the access record, the calendar's coverage.

The shapes of the services' answers are read in ``oversight_views``; this module parses the
forms, calls the services and renders.
"""

from datetime import date

from flask import Response, flash, g, redirect, render_template, request, url_for

from ..platform.errors import Conflict, Invalid, NotFound
from ..platform.policy import allow
from ..rules.deadlines import EARLIEST, LATEST
from ..rules.ratings import LEVELS as RATING_LEVELS
from ..services.calendar import notices
from ..services.oversight import access, audit
from ..services.oversight import indicators as case_indicators
from ..services.ratings import rectifications
from ..workflows import ActionNotAllowed, GuardViolation
from . import charts
from . import oversight_views as views
from .guard import pages
from .menu import ROLE_LABELS

bp = pages("web_oversight", __name__, url_prefix="/oversight")
OVERSIGHT = "oversight"
DATE_ERROR = "日期格式应为 年-月-日, 例如 2026-12-01"


def _date(form_errors: dict, name: str):
    """A YYYY-MM-DD query argument; None when absent, an error noted when malformed."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        form_errors[name] = DATE_ERROR
        return None
    if not EARLIEST <= day <= LATEST:
        form_errors[name] = f"日期须在 {EARLIEST.year} 年至 {LATEST.year} 年之间"
        return None
    return day


@bp.get("/")
@allow(OVERSIGHT)
def index():
    """预警看板: open cases and steps near or past their limits, per department."""
    department = request.args.get("department") or None
    names = views.departments()
    if department not in names:
        department = None
    return render_template(
        "web/oversight/index.html",
        board=views.board(department),
        department=department,
        department_choices=names,
    )


def _period_form():
    """The period form of the indicators pages: (values, errors, from, to, group_by)."""
    errors: dict[str, str] = {}
    values = {k: request.args.get(k, "") for k in ("from", "to", "group_by")}
    date_from, date_to = _date(errors, "from"), _date(errors, "to")
    group_by = values["group_by"] or "department"
    if group_by not in case_indicators.GROUP_BY:
        errors["group_by"] = "请选择部门、事项、受理渠道或受理窗口"
    if not errors:
        try:
            date_from, date_to = views.period(date_from, date_to)
        except Invalid as exc:
            errors["from"] = exc.detail
    return values, errors, date_from, date_to, group_by


@bp.get("/indicators")
@allow(OVERSIGHT)
def indicators():
    """指标统计: the indicators of the period in a table, with charts and CSV downloads."""
    values, errors, date_from, date_to, group_by = _period_form()
    context = {
        "values": values,
        "errors": errors,
        "group_choices": views.GROUP_CHOICES,
        "columns": views.INDICATORS,
    }
    if errors:
        return render_template("web/oversight/indicators.html", **context), 422
    table = views.indicator_table(date_from, date_to, group_by)
    on_time_bars, good_bars = views.per_department(date_from, date_to, table, group_by)
    on_time_trend, good_trend = views.weekly_trend(date_from, date_to)
    csv_args = {"from": date_from.isoformat(), "to": date_to.isoformat(), "group_by": group_by}
    context.update(
        table=table,
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        values={**values, **csv_args},
        csv_args=csv_args,
        charts=[
            charts.bar_chart("各部门按时办结率", on_time_bars, "%", 100),
            charts.bar_chart("各部门好评率", good_bars, "%", 100),
            charts.trend_chart("按时办结率（按周）", on_time_trend, "%"),
            charts.trend_chart("好评率（按周）", good_trend, "%"),
            charts.distribution_chart("评价等级分布", table["distribution"], RATING_LEVELS),
        ],
    )
    return render_template("web/oversight/indicators.html", **context)


@bp.get("/indicators.csv")
@allow(OVERSIGHT)
def indicators_csv():
    """The CSV of the API's stats (or, with source=ratings, its ratings) for the period."""
    _values, errors, date_from, date_to, group_by = _period_form()
    if errors:
        raise Invalid("；".join(errors.values()), {k: [v] for k, v in errors.items()})
    source = "ratings" if request.args.get("source") == "ratings" else "cases"
    name = "oversight-ratings" if source == "ratings" else "oversight-stats"
    filename = f"{name}-{group_by}-{date_from}-{date_to}.csv"
    return Response(
        views.csv_of(source, date_from, date_to, group_by),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/appeals")
@allow(OVERSIGHT)
def appeals():
    """申诉复核: appeals of 差评整改 work orders awaiting oversight's decision."""
    return _appeals_page()


def _appeals_page(errors=None, values=None, status=200):
    return render_template(
        "web/oversight/appeals.html",
        pending=views.appeal_rows(decided=False),
        decided=views.appeal_rows(decided=True),
        good_rate=views.good_rate_this_month(),
        errors=errors or {},
        values=values or {},
    ), status


@bp.post("/appeals/<int:order_id>/decide")
@allow(OVERSIGHT)
def decide_appeal(order_id: int):
    """Uphold or reject an appeal, with a reason; back to the list."""
    reason = (request.form.get("reason") or "").strip()
    verdict = request.form.get("upheld")
    if verdict not in ("yes", "no"):
        errors = {order_id: "请选择申诉成立或驳回申诉"}
        return _appeals_page(errors, {order_id: reason}, 422)
    upheld = verdict == "yes"
    if len(reason) > 2000:
        return _appeals_page({order_id: "复核意见不超过 2000 字"}, {order_id: reason}, 422)
    try:
        _decide(order_id, upheld, reason)
    except GuardViolation as exc:
        return _appeals_page({order_id: exc.message}, {order_id: reason}, 422)
    except (ActionNotAllowed, Conflict, NotFound) as exc:
        flash(f"未能复核: {getattr(exc, 'detail', '该申诉已处理或不存在')}", "error")
        return redirect(url_for(".appeals"))
    flash("已复核: 申诉成立, 该评价不再计入统计" if upheld else "已复核: 申诉驳回", "success")
    return redirect(url_for(".appeals"))


def _decide(order_id: int, upheld: bool, reason: str) -> None:
    """rectifications.perform(decide_appeal); its answer is not read (its shape may change)."""
    rectifications.perform(order_id, "decide_appeal", g.actor, {"upheld": upheld, "reason": reason})


def _access_filters():
    errors: dict[str, str] = {}
    values = {k: request.args.get(k, "") for k in ("number", "principal", "from", "to")}
    date_from, date_to = _date(errors, "from"), _date(errors, "to")
    if date_from and date_to and date_from > date_to:
        errors["from"] = "起始日期不能晚于截止日期"
    principal = values["principal"]
    principal_id = int(principal) if principal.isdigit() and len(principal) < 10 else None
    if principal and principal_id is None:
        errors["principal"] = "请选择人员"
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < len(page) < 6 and int(page) > 0 else 1
    args = {
        "number": values["number"].strip().replace(" ", "").replace("-", "").upper() or None,
        "principal_id": principal_id,
        "date_from": date_from,
        "date_to": date_to,
        "page": page,
    }
    return values, errors, args


def _integrity_page(result=None):
    values, errors, args = _access_filters()
    records, total = ([], 0) if errors else access.listing(per_page=50, **args)
    who = access.principals()
    return render_template(
        "web/oversight/integrity.html",
        result=result,
        checkpoint=(result or {}).get("checkpoint") if result else audit.last_checkpoint(),
        records=records,
        total=total,
        page=args["page"],
        values=values,
        errors=errors,
        principals=[(pid, f"{name}（{ROLE_LABELS.get(role, role)}）") for pid, name, role in who],
        role_labels=ROLE_LABELS,
        pager_args={k: v for k, v in values.items() if v},
    ), (422 if errors else 200)


@bp.get("/integrity")
@allow(OVERSIGHT)
def integrity():
    """记录核验: verify the tamper-evident record on demand; the access record (行为监控)."""
    return _integrity_page()


@bp.post("/integrity/verify")
@allow(OVERSIGHT)
def verify():
    """Run the verification and show its result (it changes nothing, so no redirect)."""
    return _integrity_page(audit.verify())


@bp.get("/calendar")
@allow(OVERSIGHT)
def calendar():
    """节假日数据: which years are official or provisional, and open cases still provisional."""
    cases, total = notices.provisional_cases()
    return render_template(
        "web/oversight/calendar.html",
        coverage=notices.coverage(),
        cases=[views.case_label(c) for c in cases],
        total=total,
    )
