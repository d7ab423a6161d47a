"""异常处理 — the department's incidents (retries exhausted) and who resolved which, on the desk."""

from types import SimpleNamespace

from flask import flash, g, redirect, render_template, request, url_for

from ..platform.errors import ServiceError
from ..platform.policy import allow
from ..services.cases.event_labels import staff_label
from ..services.queue import tasks
from ..workflows import ActionNotAllowed
from . import desk_forms
from .desk import SUPERVISOR, bp

DEFAULT_RETRIES = 3

BATCH_MAX = 100  # incidents retried by one form (each in its own transaction)


@bp.get("/incidents", endpoint="incidents")
@allow(SUPERVISOR)
def incidents():
    """The department's incidents, and the latest incidents raised and resolved."""
    return _page()


def _page(errors=None, values=None, status=200):
    actor = g.actor
    rows = [incident_view(step) for step in tasks.incidents(actor)]
    history = [history_view(event, application) for event, application in _history(actor)]
    body = render_template(
        "web/desk/incidents.html",
        rows=rows,
        history=history,
        errors=errors or {},
        values=values or {},
        default_retries=DEFAULT_RETRIES,
    )
    return body, status


def _history(actor):
    """(event, case) of the latest incidents and retries set; isolated for a change of shape."""
    return tasks.incident_history(actor)


def incident_view(step) -> SimpleNamespace:
    """A failing step as the table shows it."""
    return SimpleNamespace(
        id=step.id,
        name=step.name,
        code=step.code,
        number=step.application.number,
        error_message=step.error_message,
        error_details=step.error_details,
        attempt=step.attempt,
    )


def history_view(event, application) -> SimpleNamespace:
    """A lifecycle event of an incident for ``ui.timeline``."""
    details = event.details or {}
    detail = f"受理号 {application.number} · 环节 {details.get('step', '')}"
    if event.type == "step.retries_set":
        detail += f" · 重试次数设为 {details.get('retries')}"
    elif details.get("error"):
        detail += f" · {details['error']}"
    return SimpleNamespace(
        at=event.at,
        title=staff_label(event.type),
        actor=event.actor_name,
        detail=detail,
    )


@bp.post("/incidents/<int:task_id>/retries", endpoint="retry")
@allow(SUPERVISOR)
def retry(task_id):
    """Give one failing step retries again."""
    retries, errors = desk_forms.retries(request.form)
    if errors:
        return _page({task_id: errors["retries"]}, {task_id: request.form.get("retries")}, 422)
    failure = _set_retries(task_id, retries)
    if failure:
        flash(f"任务 {task_id} 未能重试: {failure}", "error")
    else:
        flash(f"已为任务 {task_id} 设置重试次数 {retries}, 将重新派发给办理端。", "success")
    return redirect(url_for(".incidents"))


@bp.post("/incidents/retries", endpoint="retry_many")
@allow(SUPERVISOR)
def retry_many():
    """Give every selected failing step retries again; each one reports on its own."""
    retries, errors = desk_forms.retries({"retries": request.form.get("batch_retries")})
    chosen = list(dict.fromkeys(request.form.getlist("task_id")))
    if not chosen:
        errors["task_id"] = "请至少选择一项异常"
    elif len(chosen) > BATCH_MAX or not all(t.isdigit() and len(t) < 10 for t in chosen):
        errors["task_id"] = f"一次最多选择 {BATCH_MAX} 项异常"
    if errors:
        errors = {f"batch_{k}" if k == "retries" else k: v for k, v in errors.items()}
        return _page(errors, {"batch_retries": request.form.get("batch_retries")}, 422)
    done, failed = [], []
    for task_id in chosen:
        failure = _set_retries(task_id, retries)
        if failure:
            failed.append(f"任务 {task_id}: {failure}")
        else:
            done.append(task_id)
    if failed:
        flash(f"{len(failed)} 项未能重试 — " + "；".join(failed[:10]), "error")
    if done:
        flash(f"已为 {len(done)} 项异常设置重试次数 {retries}: 任务 {'、'.join(done)}。", "success")
    return redirect(url_for(".incidents"))


def _set_retries(task_id, retries) -> str | None:
    """Set retries in its own transaction; why it failed, or None."""
    try:
        tasks.set_retries(task_id, g.actor, retries)
    except ActionNotAllowed:
        return "该任务已不在异常状态 (可能已被他人处理)"
    except ServiceError as exc:
        return exc.detail
    return None
