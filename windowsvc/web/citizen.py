"""Pages: the citizen's 办件查询 and 好差评 — no account, number + query code, mobile first.

The query code (查询密码) travels only in a POST body: never in a URL, never in the session
cookie (signed, not encrypted: the visitor can read it), never in a log (the access log names
the path only). A successful lookup leaves a proof in the session — this browser knew the code
for this number — for PROOF_MINUTES of wall time; the progress page needs it. Rating asks for
the code again, since the rating services authenticate every rating with number + code.

Every POST taking a query code draws on the API's failure budget (platform.throttle). A wrong
code and an unknown number read the same (one message, 404). A malformed number is named next
to its field: the check runs before any lookup, on the number's shape and check character alone,
so it tells nothing about which cases exist (the API answers 400 with that reason too).
"""

import dataclasses
import math
import re
import time
from types import SimpleNamespace

from flask import flash, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded

from ..platform.errors import BadNumber, Conflict, Invalid, NotFound
from ..platform.policy import PUBLIC, allow
from ..platform.throttle import (
    MALFORMED,
    NO_MATCH,
    failed,
    query_code_limited,
    refused_for_seconds,
)
from ..rules import acceptance_number
from ..rules import ratings as rating_rules
from ..services.cases import status
from ..services.cases.lookup import parse_number
from ..services.ratings import ratings, rectification_views
from ..workflows.rectification import RECTIFICATION
from .guard import pages
from .labels import DELIVERY_LABELS

bp = pages("web_citizen", __name__, url_prefix="/query")

PROOF_KEY = "citizen_cases"  # session: {number: wall-time expiry}
PROOF_MINUTES = 30
PROOF_MAX = 10  # numbers one browser keeps proofs for at once
NO_MATCH_MESSAGE = "未查到办件，请核对受理号和查询密码。"
WRONG_CODE = "查询密码不正确，请核对受理通知书上的查询密码。"
_CODE = re.compile(r"[0-9]{6}")
_ENGLISH_TAIL = re.compile(r"\s*\([^()]*[A-Za-z][^()]*\)\s*$")


@bp.get("/")
@allow(PUBLIC)
def index():
    """The form; the receipt's QR code opens it with ``?number=`` (never with the code)."""
    number = acceptance_number.normalise(request.args.get("number", ""))[:30]
    return render_template("web/citizen/query.html", number=number, errors={})


@bp.post("/", endpoint="find")
@allow(PUBLIC)
@query_code_limited
def find():
    typed = request.form.get("number", "")
    number_text = typed[:60]  # shown again in the form
    code = request.form.get("query_code", "").strip()[:20]
    errors = {}
    number = None
    try:
        # the whole text, as the budgets count it: a valid number padded past 60 characters is
        # no number here either (cut first, it was looked up under another budget's key)
        number = parse_number(typed)
    except BadNumber as exc:
        errors["number"] = exc.detail
        failed(MALFORMED)
    if problem := _code_problem(code):
        errors["query_code"] = problem
    if errors:
        page = render_template("web/citizen/query.html", number=number_text, errors=errors)
        return page, 422
    try:
        status.lookup(number, code)
    except NotFound:
        failed(NO_MATCH)
        page = render_template(
            "web/citizen/query.html", number=number_text, errors={}, message=NO_MATCH_MESSAGE
        )
        return page, 404
    _prove(number)
    return redirect(url_for(".progress", number=number))


@bp.get("/cases/<number>")
@allow(PUBLIC)
def progress(number):
    if not _proven(number):
        return _ask_for_code(number)
    return _progress_page(number)


@bp.post("/cases/<number>/rating", endpoint="rate")
@allow(PUBLIC)
@query_code_limited
def rate(number):
    """好差评: the service authenticates with number + code, so the form asks for the code."""
    if not _proven(number):
        return _ask_for_code(number)
    form = request.form
    code = form.get("query_code", "").strip()[:20]
    level = {str(n): n for n in rating_rules.LEVELS}.get(form.get("level", ""))
    tags = list(dict.fromkeys(form.getlist("tags")))[:10]
    comment = form.get("comment", "")
    values = {"level": level, "tags": tags, "comment": comment[:1000]}
    errors = {}
    if level is None:
        errors["level"] = "请选择评价等级。"
    if len(comment) > 1000:
        errors["comment"] = "评价内容不能超过 1000 字。"
    if problem := _code_problem(code):
        errors["query_code"] = problem
    if not errors:
        try:
            ratings.give(number, code, level, tags, comment)
        except NotFound:
            failed(NO_MATCH)
            errors["query_code"] = WRONG_CODE
        except Invalid as exc:
            errors = {k: _chinese("；".join(v)) for k, v in exc.extra["errors"].items()}
        except Conflict as exc:
            flash(_chinese(exc.detail), "warning")
            return redirect(url_for(".progress", number=number))
    if errors:
        return _progress_page(number, rating_form=values, errors=errors, status=422)
    flash("评价已提交，感谢您的反馈。", "success")
    return redirect(url_for(".progress", number=number))


@bp.post("/cases/<number>/rectification", endpoint="assess")
@allow(PUBLIC)
@query_code_limited
def assess(number):
    """整改评价: the rater's verdict on the closed rectification of their bad rating."""
    if not _proven(number):
        return _ask_for_code(number)
    code = request.form.get("query_code", "").strip()[:20]
    verdict = request.form.get("verdict", "")
    errors = {}
    if verdict not in rating_rules.VERDICTS:
        errors["verdict"] = "请选择对整改结果的评价。"
    if problem := _code_problem(code):
        errors["query_code"] = problem
    rating_id = _rateable_rectification(_case_view(number))
    if rating_id is None:
        flash("本件目前没有可以评价的整改结果。", "warning")
        return redirect(url_for(".progress", number=number))
    if not errors:
        try:
            ratings.rate_rectification(rating_id, number, code, verdict)
        except NotFound:
            failed(NO_MATCH)
            errors["query_code"] = WRONG_CODE
        except Conflict as exc:
            flash(_chinese(exc.detail), "warning")
            return redirect(url_for(".progress", number=number))
    if errors:
        values = {"verdict": verdict if verdict in rating_rules.VERDICTS else None}
        return _progress_page(number, verdict_form=values, errors=errors, status=422)
    flash("已收到您对整改结果的评价。", "success")
    return redirect(url_for(".progress", number=number))


@bp.errorhandler(RateLimitExceeded)
def _throttled(_error):
    seconds = refused_for_seconds()
    seconds = 600 if seconds is None else seconds
    minutes = max(1, math.ceil(seconds / 60))
    return render_template("web/citizen/throttled.html", minutes=minutes), 429


# --- the case as the citizen sees it: the one place that reads the service's answer ---------


def _case_view(number: str) -> dict:
    """The public, masked view of a proven case (services.cases.status) and what the page
    needs besides: the timeline in the layout's shape, the rating form's tags, the rating."""
    found = status.proven(number)
    view = {f.name: getattr(found, f.name) for f in dataclasses.fields(found)}
    view["timeline_entries"] = [{"at": e.at, "title": e.label} for e in found.timeline]
    channel = acceptance_number.parse(found.number).channel
    view["tags_offered"] = rating_rules.tags_for(channel)
    view["delivery_label"] = DELIVERY_LABELS.get(found.result.method) if found.result else None
    view["rating"] = _rating_seen_by_rater(found.rating) if found.rating else None
    return view


def _rating_seen_by_rater(rating) -> SimpleNamespace:
    """The rating as its rater sees it: never the applicant row it hangs on."""
    order = rating.rectification
    return SimpleNamespace(
        id=rating.id,
        level_label=rating_rules.LEVELS[rating.level],
        tag_labels=rating_rules.tag_labels(rating.tags),
        comment=rating.comment,
        at=rating.rated_at,
        default=rating.is_default,
        rectification=_order_seen_by_rater(order) if order else None,
    )


def _order_seen_by_rater(order) -> SimpleNamespace:
    shown = rectification_views.result_shown(order)
    return SimpleNamespace(
        state_label=RECTIFICATION.labels[order.state],
        due_date=order.due_date,
        due_date_provisional=order.due_date_provisional,
        measures=order.measures if shown else None,
        explanation=order.explanation if shown else None,
        closed_at=order.closed_at,
        can_rate=rectification_views.rater_may_assess(order),
        verdict_label=rating_rules.VERDICTS.get(order.verdict),
    )


def _rateable_rectification(view: dict) -> int | None:
    """The id of the rating whose closed rectification awaits the rater's verdict, if any."""
    rating = view.get("rating")
    order = rating.rectification if rating else None
    return rating.id if order and order.can_rate else None


def _progress_page(number, *, rating_form=None, verdict_form=None, errors=None, status=200):
    view = _case_view(number)
    page = render_template(
        "web/citizen/progress.html",
        case=view,
        levels=rating_rules.LEVELS,
        verdicts=rating_rules.VERDICTS,
        rating_form=rating_form or {"level": None, "tags": [], "comment": ""},
        verdict_form=verdict_form or {"verdict": None},
        errors=errors or {},
    )
    return page, status


# --- the session's proof that this browser knew the code ------------------------------------


def _prove(number: str) -> None:
    now = time.time()
    held = {n: t for n, t in _proofs().items() if t > now}
    held[number] = now + PROOF_MINUTES * 60
    session[PROOF_KEY] = dict(sorted(held.items(), key=lambda kv: kv[1])[-PROOF_MAX:])


def _proven(number: str) -> bool:
    return _proofs().get(number, 0) > time.time()


def _proofs() -> dict:
    held = session.get(PROOF_KEY)
    return held if isinstance(held, dict) else {}


def _ask_for_code(number: str):
    flash("为保护您的信息，请输入查询密码后查看办件。", "warning")
    return redirect(url_for(".index", number=acceptance_number.normalise(number)[:30]))


def _code_problem(code: str) -> str | None:
    if not code:
        return "请输入查询密码。"
    if not _CODE.fullmatch(code):
        return "查询密码为 6 位数字，见受理通知书。"
    return None


def _chinese(detail: str) -> str:
    """A service message without its English gloss: 'X (y)' → 'X'."""
    return _ENGLISH_TAIL.sub("", detail or "")
