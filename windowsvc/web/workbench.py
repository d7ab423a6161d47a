"""我的工作台: the window clerk's queues, the search by acceptance number, and the case page with
the actions the clerk may take on it (each a form that posts and redirects back: PRG)."""

from flask import flash, g, redirect, render_template, request, url_for

from ..platform.errors import Forbidden, Invalid, NotFound, PreconditionFailed, ServiceError
from ..platform.policy import allow
from ..services.cases import actions, applications, queues
from ..services.cases.lookup import parse_number
from ..workflows.engine import ActionNotAllowed, GuardViolation
from ..workflows.lifecycle import LIFECYCLE
from . import workbench_view as view
from .guard import pages
from .workbench_forms import FORMS, FormErrors, payload_of

bp = pages("web_workbench", __name__, url_prefix="/workbench")
PER_PAGE = 20
STALE = "该办件已被他人更新，请刷新后重试"
LIST_FIELDS = ("missing", "materials")  # checkbox groups


def _page_number() -> int:
    text = request.args.get("page", "1")
    return min(int(text), 100_000) if text.isascii() and text.isdigit() and int(text) else 1


@bp.get("/", endpoint="index")
@allow("window")
def index():
    actor = g.actor
    number_text = (request.args.get("number") or "").strip()
    search_error, status = None, 200
    if number_text:
        try:
            number = parse_number(number_text)
            applications.find(number, actor)
        except NotFound:
            search_error, status = f"未找到受理号为 {number} 的办件, 请核对后重新输入。", 404
        except ServiceError:
            search_error, status = "受理号有误 (位数或校验位不对), 请核对后重新输入。", 422
        else:
            return redirect(url_for(".case", number=number))
    queue = queues.queue_of(request.args.get("queue"))
    page = _page_number()
    rows, total = queues.cases_in(actor, queue, page, PER_PAGE)
    body = render_template(
        "web/workbench/index.html",
        queues=queues.QUEUES,
        counts=queues.counts(actor),
        queue=queue,
        rows=[view.queue_row(a) for a in rows],
        page=page,
        total=total,
        per_page=PER_PAGE,
        number=number_text,
        search_error=search_error,
    )
    return body, status


@bp.get("/cases/<number>", endpoint="case")
@allow("window")
def case(number):
    return _case_page(number)


def _case_page(number, *, errors=None, values=None, open_action=None, status=200):
    actor = g.actor
    application = view.read_case(number, actor)
    data = view.case_page(application, actor)
    body = render_template(
        "web/workbench/case.html",
        **data,
        forms=view.action_forms(application, actor.role, values, open_action),
        open_action=open_action,
        errors=errors or {},
    )
    return body, status


@bp.post("/cases/<number>/actions/<action>", endpoint="act")
@allow("window")
def act(number, action):
    form = FORMS.get(action)
    if form is None:
        raise NotFound(f"没有“{action}”这个操作")
    back = redirect(url_for(".case", number=number))
    version = (request.form.get("version") or "").strip()
    if not (version.isascii() and version.isdigit() and len(version) < 10):
        flash(STALE, "warning")
        return back
    values = {
        k: request.form.getlist(k) if k in LIST_FIELDS else request.form.get(k)
        for k in request.form
    }
    try:
        payload = payload_of(action, request.form)
        actions.perform(number, action, g.actor, int(version), payload)
    except FormErrors as error:
        return _refused(number, action, values, error.errors)
    except GuardViolation as error:
        return _refused(number, action, values, {error.field or "_form": error.message})
    except Invalid as error:
        fields = {
            k: "；".join(map(str, v)) if isinstance(v, list) else str(v)
            for k, v in (error.extra.get("errors") or {}).items()
        }
        return _refused(number, action, values, {"_form": error.detail, **fields})
    except PreconditionFailed:
        flash(STALE, "warning")
        return back
    except ActionNotAllowed as error:
        state = LIFECYCLE.labels.get(error.state, error.state)
        flash(
            f"本件当前状态为“{state}”, 不能{form.label}。页面已刷新, 请按当前状态办理。", "warning"
        )
        return back
    except Forbidden:
        flash(f"您的角色不能{form.label}。", "error")
        return back
    state = LIFECYCLE.labels[applications.find(number, g.actor).state]
    flash(f"{form.done}。办件 {number} 当前状态: {state}。", "success")
    return back


def _refused(number, action, values, errors):
    """The case page again, the form open with what was typed and the message at its fields."""
    return _case_page(number, errors=errors, values=values, open_action=action, status=422)
