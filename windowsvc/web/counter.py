"""综合受理 — the counter: find an item, read its guide, take an application in, print notices.

One case per rendered form: every render of the intake form carries its own Idempotency-Key, so a
double click or the browser's back-and-resubmit replays the first receipt. The query code travels
from the POST to the receipt only in the session, sealed, and is shown on that page once.
"""

import uuid

from flask import current_app, redirect, render_template, request, session, url_for

from ..platform.errors import Conflict, Invalid, NotFound
from ..platform.policy import allow
from ..security import seal_query_code, unseal_query_code
from ..services.admin import catalog
from ..services.cases import intake
from .counter_forms import (
    APPLICANT_TYPES,
    ID_TYPE_LABELS,
    MODE_LABELS,
    blank_form,
    intake_request,
    material_rows,
    read_form,
    service_errors,
)
from .counter_notices import NOTICE_TITLES, qr_svg, read_case, status_url
from .guard import pages, signed_in
from .labels import DELIVERY_LABELS

bp = pages("web_counter", __name__, url_prefix="/counter")
WINDOW = "window"
CODES_KEY = "counter_codes"  # number → sealed query code, until its receipt is shown
SHOWN_KEY = "counter_shown"  # numbers whose receipt showed the code (the latest few)
SHOWN_KEPT = 20
KEY_FIELD = "idempotency_key"


@bp.get("/", endpoint="index")
@allow(WINDOW)
def index():
    """Find a service item by name, code or department."""
    query = request.args.get("q", "").strip()[:50]
    names = catalog.department_names()
    items = [row for row in catalog.current_items() if _matches(row, query, names)]
    return render_template(
        "web/counter/index.html", q=query, items=items, names=names, modes=MODE_LABELS
    )


def _matches(row, query, names) -> bool:
    if not query:
        return True
    text = query.casefold()
    haystack = (row.name, row.code, row.department, names.get(row.department, ""))
    return any(text in value.casefold() for value in haystack)


@bp.get("/items/<code>", endpoint="guide")
@allow(WINDOW)
def guide(code):
    """办事指南: materials, limits, the departments and stages."""
    item = catalog.get(code)
    definition = item.definition
    return render_template(
        "web/counter/guide.html",
        item=item,
        definition=definition,
        materials=material_rows(definition),
        names=catalog.department_names(),
        modes=MODE_LABELS,
        deliveries=DELIVERY_LABELS,
    )


@bp.route("/items/<code>/apply", methods=["GET", "POST"], endpoint="apply")
@allow(WINDOW)
def apply(code):
    """收件: the intake form; a valid POST creates the case (once) and shows its receipt."""
    item = catalog.get(code)
    definition = item.definition
    if request.method == "GET":
        return _form(item, blank_form(definition), uuid.uuid4().hex)
    entered = read_form(request.form, definition)
    key = request.form.get(KEY_FIELD, "").strip()
    if not 1 <= len(key) <= 200:
        entered.general.append("表单缺少提交标识, 请核对后重新提交。")
        return _form(item, entered, uuid.uuid4().hex, 422)
    body = intake_request(entered, item.code)
    if body is None:
        return _form(item, entered, key, 422)
    try:
        number, query_code, replayed = _submit(signed_in(), key, body)
    except Invalid as exc:
        errors = exc.extra.get("errors") or {}
        if "Idempotency-Key" in errors:
            entered.general.append(
                "此表单已提交过并生成了办件, 提交的内容却已改动, 未再生成办件。"
                "如需办理新的申请, 请重新打开受理表单。"
            )
        else:
            service_errors(entered, errors, definition)
            if not entered.errors and not entered.general:
                entered.general.append(exc.detail)
        return _form(item, entered, key, 422)
    except Conflict as exc:
        entered.general.append(f"{exc.detail}。请稍候, 不要重复点击提交。")
        return _form(item, entered, key, 409)
    _hand_over_code(number, query_code, replayed)
    return redirect(url_for(".receipt", number=number), code=303)


def _submit(actor, key, body) -> tuple[str, str, bool]:
    """Submit through the intake service: (number, query code, whether it was a replay)."""
    result = intake.submit(actor, key, body, _receipt_kept)
    return result.number, result.query_code, result.replayed


def _receipt_kept(application) -> dict:
    """What the page stores with its key for a replay: only the number (the query code is
    stored sealed beside it by the service)."""
    return {"number": application.number}


def _form(item, entered, key, status=200):
    page = render_template(
        "web/counter/apply.html",
        item=item,
        definition=item.definition,
        materials=material_rows(item.definition),
        form=entered,
        key=key,
        applicant_types=APPLICANT_TYPES,
        id_types=ID_TYPE_LABELS,
        deliveries=DELIVERY_LABELS,
    )
    return page, status


def _hand_over_code(number, query_code, replayed):
    """Keep the code, sealed, for the receipt; a replay only if the receipt has not shown it."""
    if replayed and number in session.get(SHOWN_KEY, []):
        return
    sealed = seal_query_code(current_app.config["SECRET_KEY"], number, query_code)
    session[CODES_KEY] = {**session.get(CODES_KEY, {}), number: sealed}


def _take_code(number) -> str | None:
    """The query code for the receipt, once: afterwards it is gone from the session."""
    codes = dict(session.get(CODES_KEY, {}))
    sealed = codes.pop(number, None)
    if sealed is None:
        return None
    session[CODES_KEY] = codes
    session[SHOWN_KEY] = [*session.get(SHOWN_KEY, []), number][-SHOWN_KEPT:]
    return unseal_query_code(current_app.config["SECRET_KEY"], number, sealed)


@bp.get("/cases/<number>/receipt", endpoint="receipt")
@allow(WINDOW)
def receipt(number):
    """The receipt after intake, with the notices handed over at the window, ready to print."""
    case = read_case(number, signed_in(), "receipt")
    query_code = _take_code(case.number)
    at_intake = [k for k in case.kinds if k in ("receipt", "correction", "deferral")]
    return render_template(
        "web/counter/receipt.html",
        case=case,
        kinds=at_intake,
        query_code=query_code,
        qr=qr_svg(status_url(case.number)),
        status_url=status_url(case.number),
    )


@bp.get("/cases/<number>/notices/<kind>", endpoint="notice")
@allow(WINDOW)
def notice(number, kind):
    """One printable notice of a case (reprints never show the query code)."""
    if kind not in NOTICE_TITLES:
        raise NotFound("没有此类告知书")
    case = read_case(number, signed_in())
    if kind not in case.kinds:
        raise NotFound(f"办件 {case.number} 没有此类告知书")
    return render_template(
        "web/counter/notice.html",
        case=case,
        kind=kind,
        qr=qr_svg(status_url(case.number)),
        status_url=status_url(case.number),
    )
