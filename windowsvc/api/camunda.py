"""Camunda 7 compatible external-task facade, so existing Camunda workers connect unchanged.

Shapes follow Camunda's REST API: camelCase, milliseconds, typed variables, Camunda-style error
bodies ``{"type", "message"}``; fields Camunda clients send that we have no use for are ignored.
"""

import json
import math
from datetime import datetime

from flask import Blueprint, jsonify, request

from .. import clock
from ..platform.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from ..platform.policy import allow
from ..services.queue import claims, tasks
from ..workflows import GuardViolation
from ..workflows.step import OUTCOMES
from . import body
from .auth import RoleForbidden, Unauthorized, current_actor
from .body import RefusedInput

bp = Blueprint("camunda", __name__, url_prefix="/engine-rest/external-task")
MAX_ASYNC_SECONDS = 30.0
ERROR_TYPES = {
    400: "InvalidRequestException",
    401: "AuthenticationException",
    403: "AuthorizationException",
    404: "InvalidRequestException",
}


class CamundaError(Exception):
    """An error answered in Camunda's shape."""

    def __init__(self, status, message, type_=None):
        super().__init__(message)
        self.status, self.message = status, message
        self.type = type_ or ERROR_TYPES.get(status, "RestException")


def _error(status, message, type_=None):
    return jsonify(type=type_ or ERROR_TYPES.get(status, "RestException"), message=message), status


@bp.errorhandler(CamundaError)
def _camunda_error(error):
    return _error(error.status, error.message, error.type)


@bp.errorhandler(GuardViolation)
def _guard(error):
    # the step workflow's own rules: a DENY needs a reason, a CORRECTION its missing materials
    return _error(400, f"{error.field}: {error.message}" if error.field else error.message)


@bp.errorhandler(ServiceError)
def _service_error(error):
    if isinstance(error, Unauthorized):
        return _error(401, error.detail)
    if isinstance(error, RoleForbidden | Forbidden):
        return _error(403, error.detail)
    if isinstance(error, NotFound):
        return _error(404, error.detail)
    if isinstance(error, Conflict):
        # Camunda answers 400 when the caller does not hold the task's current lock.
        return _error(400, error.detail, "BadUserRequestException")
    return _error(400 if error.status < 500 else error.status, error.detail)


def _body() -> dict:
    data = request.get_json(silent=True)
    if data is None and request.get_data():
        raise CamundaError(400, "Request body is not valid JSON")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CamundaError(400, "Request body must be a JSON object")
    return data


def _required(data, name, kind):
    value = data.get(name)
    if value is None or not isinstance(value, kind) or isinstance(value, bool):
        raise CamundaError(
            400, f"'{name}' is required ({kind.__name__ if isinstance(kind, type) else 'value'})"
        )
    return value


MAX_MILLIS = 86_400_000  # a day: longer leases or retry timeouts are a client bug


def _millis(value, name, minimum=0):
    if value is None:
        return None
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not minimum <= value <= MAX_MILLIS
    ):
        raise CamundaError(400, f"'{name}' must be milliseconds from {minimum} to {MAX_MILLIS}")
    return value / 1000.0


def _text(value, name):
    """An optional free-text field: a string or nothing."""
    if value is not None and not isinstance(value, str):
        raise CamundaError(400, f"'{name}' must be a string")
    return value


def _camunda_time(value: datetime | None) -> str | None:
    """Camunda's date format: 2026-03-02T10:00:00.000+0800."""
    if value is None:
        return None
    return (
        clock.local(value).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}"
        + clock.local(value).strftime("%z")
    )


def _typed(value, type_):
    if type_ == "Json":
        return {"type": "Json", "value": json.dumps(value, ensure_ascii=False), "valueInfo": {}}
    return {"type": type_, "value": value, "valueInfo": {}}


def external_task(task: dict) -> dict:
    """One locked step in Camunda's LockedExternalTaskDto shape."""
    application, step = task["application"], task["step"]
    number = application["number"]
    return {
        "activityId": step["code"],
        "activityInstanceId": f"{step['code']}:{task['id']}",
        "errorMessage": None,
        "errorDetails": None,
        "executionId": task["id"],
        "id": task["id"],
        "lockExpirationTime": _camunda_time(task["lock_expires_at"]),
        "processDefinitionId": f"{application['item_code']}:{application['item_version']}",
        "processDefinitionKey": application["item_code"],
        "processDefinitionVersionTag": None,
        "processInstanceId": number,
        "tenantId": None,
        "retries": task["retries"],
        "workerId": task["worker_id"],
        "priority": task["priority"],
        "topicName": task["topic"],
        "businessKey": number,
        "extensionProperties": {},
        "variables": {
            "applicationNumber": _typed(number, "String"),
            "itemCode": _typed(application["item_code"], "String"),
            "itemName": _typed(application["item_name"], "String"),
            "stepCode": _typed(step["code"], "String"),
            "stepName": _typed(step["name"], "String"),
            "stage": _typed(step["stage"], "Integer"),
            "dueDate": _typed(task["due_date"].isoformat() if task["due_date"] else None, "String"),
            # 预计: the due date was counted over a year without the official holiday notice
            "dueDateProvisional": _typed(bool(task["due_date_provisional"]), "Boolean"),
            "applicant": _typed(application["applicant"], "Json"),
            "materials": _typed(application["materials"], "Json"),
        },
    }


@bp.post("/fetchAndLock")
@allow("backoffice")
def fetch_and_lock():
    """Camunda fetchAndLock: topics with lockDuration (ms), maxTasks, asyncResponseTimeout (ms)."""
    data = _body()
    worker_id = _required(data, "workerId", str)
    max_tasks = data.get("maxTasks", 10)
    if not isinstance(max_tasks, int) or isinstance(max_tasks, bool) or not 0 <= max_tasks <= 100:
        raise CamundaError(400, "'maxTasks' must be an integer from 0 to 100")
    topics = data.get("topics") or []
    if not isinstance(topics, list):
        raise CamundaError(400, "'topics' must be a list")
    leases = []
    for topic in topics:
        if not isinstance(topic, dict) or not isinstance(topic.get("topicName"), str):
            raise CamundaError(400, "each topic needs a 'topicName'")
        lock = _millis(topic.get("lockDuration"), "lockDuration", minimum=1)
        if lock is None:
            raise CamundaError(400, "'lockDuration' is required for every topic")
        leases.append(claims.Lease(worker_id, max_tasks, lock, (topic["topicName"],)))
    wait = _millis(data.get("asyncResponseTimeout"), "asyncResponseTimeout") or 0
    if max_tasks == 0 or not leases:
        return jsonify([])
    claimed = claims.fetch_and_lock(current_actor(), leases, min(wait, MAX_ASYNC_SECONDS))
    return jsonify([external_task(t) for t in claimed])


def _variables(data) -> dict:
    """Plain values of Camunda typed variables (``variables`` then ``localVariables``)."""
    values = {}
    for key in ("variables", "localVariables"):
        block = data.get(key) or {}
        if not isinstance(block, dict):
            raise CamundaError(400, f"'{key}' must be an object")
        for name, typed in block.items():
            if not isinstance(typed, dict) or "value" not in typed:
                raise CamundaError(400, f"variable '{name}' needs a 'value'")
            value = typed["value"]
            if str(typed.get("type", "")).lower() in ("json", "object") and isinstance(value, str):
                try:
                    value = body.loads(value)
                except ValueError as exc:
                    raise CamundaError(400, f"variable '{name}' is not valid JSON") from exc
                except RefusedInput as exc:
                    raise CamundaError(400, f"variable '{name}': {exc.detail}") from exc
            values[name] = value
    return values


def _missing_list(values) -> list:
    missing = values.get("missing")
    if isinstance(missing, str):
        try:
            missing = body.loads(missing)
        except ValueError:
            missing = [m.strip() for m in missing.split(",") if m.strip()]
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise CamundaError(400, "a CORRECTION needs a 'missing' variable: a list of material codes")
    return missing


def _report(task_id, worker_id, outcome, comment, values):
    comment = _text(comment, "comment")
    reserved = {"outcome", "comment", "missing", "result"}
    result = values.get("result") if isinstance(values.get("result"), dict) else {}
    result = {**result, **{k: v for k, v in values.items() if k not in reserved}}
    missing = _missing_list(values) if outcome == "correction" else []
    try:
        tasks.complete(
            task_id,
            current_actor(),
            worker_id,
            outcome,
            comment=comment,
            result=result,
            missing=missing,
        )
    except Invalid as exc:
        raise CamundaError(400, exc.detail) from exc


@bp.post("/<task_id>/complete")
@allow("backoffice")
def complete(task_id):
    """Camunda complete: an ``outcome`` variable approve|deny|correction; without one, approve."""
    data = _body()
    worker_id = _required(data, "workerId", str)
    values = _variables(data)
    outcome = values.get("outcome") or "approve"
    if outcome not in OUTCOMES:
        raise CamundaError(400, "'outcome' must be approve, deny or correction")
    _report(task_id, worker_id, outcome, values.get("comment"), values)
    return "", 204


@bp.post("/<task_id>/bpmnError")
@allow("backoffice")
def bpmn_error(task_id):
    """Camunda bpmnError: errorCode DENY or CORRECTION, errorMessage is the reason."""
    data = _body()
    worker_id = _required(data, "workerId", str)
    code = _required(data, "errorCode", str)
    outcomes = {"DENY": "deny", "CORRECTION": "correction"}
    if code not in outcomes:
        raise CamundaError(400, "errorCode must be DENY or CORRECTION")
    values = _variables(data)
    _report(
        task_id,
        worker_id,
        outcomes[code],
        _text(data.get("errorMessage"), "errorMessage") or values.get("comment"),
        values,
    )
    return "", 204


@bp.post("/<task_id>/failure")
@allow("backoffice")
def failure(task_id):
    """Camunda failure: retries left and retryTimeout (ms); retries 0 raises an incident."""
    data = _body()
    worker_id = _required(data, "workerId", str)
    retries = data.get("retries", 0)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 1000:
        raise CamundaError(400, "'retries' must be an integer from 0 to 1000")
    details = data.get("errorDetails")
    tasks.failure(
        task_id,
        current_actor(),
        worker_id,
        error_message=_text(data.get("errorMessage"), "errorMessage") or "failure reported",
        error_details=details if isinstance(details, str) else None,
        retries=retries,
        retry_seconds=_millis(data.get("retryTimeout"), "retryTimeout") or 0,
    )
    return "", 204


@bp.post("/<task_id>/extendLock")
@allow("backoffice")
def extend_lock(task_id):
    """Camunda extendLock: newDuration (ms) from now."""
    data = _body()
    worker_id = _required(data, "workerId", str)
    seconds = _millis(data.get("newDuration"), "newDuration", minimum=1)
    if seconds is None:
        raise CamundaError(400, "'newDuration' is required")
    tasks.extend_lock(task_id, current_actor(), worker_id, seconds)
    return "", 204


@bp.post("/<task_id>/unlock")
@allow("backoffice")
def unlock(task_id):
    """Camunda unlock: release the task's lock, whoever holds it."""
    tasks.unlock(task_id, current_actor())
    return "", 204
