"""科室负责人 — the supervisor's desk: the department's cases, 延期, incidents, work orders.

Everything here is confined to the supervisor's department (``actor.department``): the cases
with a step of it (``to_act``: the cases the supervisor may act on), its incidents and its
差评整改 work orders. Another department's case or order answers the 404 page.

The incidents pages are in ``desk_incidents``, the work orders in ``desk_orders``.
"""

from types import SimpleNamespace

from flask import flash, g, redirect, render_template, request, url_for

from ..catalog.versions import item_of
from ..platform.errors import PreconditionFailed
from ..platform.policy import allow
from ..rules.masking import mask_applicant
from ..rules.warnings import LEVEL_LABELS, LEVELS
from ..services.cases import actions, applications
from ..workflows import ActionNotAllowed, GuardViolation
from ..workflows.lifecycle import EXTENSION_DAYS, LIFECYCLE
from ..workflows.step import STEP
from . import desk_forms
from .guard import pages

bp = pages("web_desk", __name__, url_prefix="/desk")
SUPERVISOR = "supervisor"
PER_PAGE = 20
STALE = "该办件已被他人更新，请刷新后重试"


@bp.get("/", endpoint="index")
@allow(SUPERVISOR)
def index():
    """科室办件: the department's cases, by state and warning level."""
    args = request.args
    state, warning = args.get("state", ""), args.get("warning", "")
    errors = {}
    if state and state not in LIFECYCLE.labels:
        errors["state"] = "没有这个办件状态"
    if warning and warning not in LEVELS:
        errors["warning"] = "没有这个预警等级"
    page = desk_forms.whole_number({"page": args.get("page", "1")}, "page", "页码", 1, 100_000, {})
    if errors or page is None:
        rows, total, page = [], 0, 1
    else:
        rows, total = _cases_page(g.actor, state or None, warning or None, page)
    body = render_template(
        "web/desk/index.html",
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        state=state,
        warning=warning,
        errors=errors,
        states=LIFECYCLE.labels,
        levels=[(level, LEVEL_LABELS[level]) for level in LEVELS],
    )
    return body, 422 if errors else 200


def _cases_page(actor, state, warning, page):
    """One page of the department's cases as rows for the table, and the total."""
    cases, total = applications.listing(
        actor, state=state, warning=warning, page=page, per_page=PER_PAGE, to_act=True
    )
    rows = [
        SimpleNamespace(
            number=a.number,
            item_name=item_of(a).name,
            applicant=mask_applicant(a.applicant)["name"],
            state_label=LIFECYCLE.labels[a.state],
            due_date=a.due_date,
            due_date_provisional=a.due_date_provisional,
            warning_level=a.warning_level,
        )
        for a in cases
    ]
    return rows, total


@bp.get("/cases/<number>", endpoint="case")
@allow(SUPERVISOR)
def case(number):
    """One case of the department: its deadlines, steps, and the 延期 form."""
    return _case_page(number)


def _case_page(number, form=None, errors=None, status=200):
    """The case page (the full case, personal data included: the read is recorded)."""
    actor = g.actor
    application = applications.read_for_staff(number, actor, purpose="desk", to_act=True)
    view = case_view(application)
    defaults = {"days": "", "reason": "", "approver": actor.name, "version": view.version}
    return render_template(
        "web/desk/case.html",
        case=view,
        form={**defaults, **(form or {})},
        errors=errors or {},
    ), status


def case_view(application) -> SimpleNamespace:
    """What the case page shows, read from the model (no presentation service)."""
    item = item_of(application)
    details = application.details or {}
    flags = applications.deadline_flags(application)
    return SimpleNamespace(
        number=application.number,
        item_name=item.name,
        item_code=application.item_code,
        mode=item.mode,
        state=application.state,
        state_label=LIFECYCLE.labels[application.state],
        applicant=mask_applicant(application.applicant),
        received_at=application.received_at,
        acceptance_date=application.acceptance_date,
        due_date=application.due_date,
        due_date_provisional=application.due_date_provisional,
        legal_due_date=application.legal_due_date,
        legal_due_date_provisional=application.legal_due_date_provisional,
        provisional_note=flags["provisional_note"],
        warning_level=application.warning_level,
        extension=details.get("extension"),
        longest_extension=EXTENSION_DAYS[item.mode],
        can_extend="extend" in applications.allowed_actions(application, SUPERVISOR),
        steps=[
            SimpleNamespace(
                stage=s.stage + 1,
                name=s.name,
                department=s.department,
                state_label=STEP.labels[s.state],
                due_date=s.due_date,
                due_date_provisional=s.due_date_provisional,
                attempt=s.attempt,
                error_message=s.error_message if s.state == "incident" else None,
            )
            for s in sorted(application.steps, key=lambda s: s.id)
        ],
        version=application.version,
    )


@bp.post("/cases/<number>/extend/preview", endpoint="extend_preview")
@allow(SUPERVISOR)
def extend_preview(number):
    """延期, step one: the new due dates, computed as the extension will, before confirming."""
    values, errors = desk_forms.extension(request.form)
    version = desk_forms.version_of(request.form)
    if errors:
        return _case_page(number, {**request.form}, errors, 422)
    try:
        application, moved = actions.preview_extension(number, g.actor, **values)
    except GuardViolation as exc:
        return _case_page(number, {**request.form}, {exc.field or "days": exc.message}, 422)
    except ActionNotAllowed:
        flash("该办件当前不能延长办理期限。", "error")
        return redirect(url_for(".case", number=number))
    if application.version != version:
        flash(STALE, "error")
        return redirect(url_for(".case", number=number))
    return render_template(
        "web/desk/extend_confirm.html",
        case=SimpleNamespace(
            number=application.number,
            item_name=item_of(application).name,
            due_date=application.due_date,
            due_date_provisional=application.due_date_provisional,
            legal_due_date=application.legal_due_date,
            legal_due_date_provisional=application.legal_due_date_provisional,
        ),
        moved=moved,
        values=values,
        version=version,
    )


@bp.post("/cases/<number>/extend", endpoint="extend")
@allow(SUPERVISOR)
def extend(number):
    """延期, step two: grant it at the version the supervisor saw."""
    values, errors = desk_forms.extension(request.form)
    version = desk_forms.version_of(request.form)
    if errors:
        return _case_page(number, {**request.form}, errors, 422)
    if version is None:
        flash(STALE, "error")
        return redirect(url_for(".case", number=number))
    try:
        actions.perform(number, "extend", g.actor, if_match=version, payload=values)
    except PreconditionFailed:
        flash(STALE, "error")
        return redirect(url_for(".case", number=number))
    except GuardViolation as exc:
        return _case_page(number, {**request.form}, {exc.field or "days": exc.message}, 422)
    except ActionNotAllowed:
        flash("该办件当前不能延长办理期限。", "error")
        return redirect(url_for(".case", number=number))
    flash(f"已批准延长办理期限 {values['days']} 个工作日。", "success")
    return redirect(url_for(".case", number=number))


from . import desk_incidents, desk_orders  # noqa: E402, F401  (their pages join ``bp``)
