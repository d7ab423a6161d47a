"""The one problem+json handler (RFC 9457): every error leaves the server in this shape."""

import logging

from flask import Response, current_app, json, make_response, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from ..platform.errors import ServiceError
from ..platform.outage import UNAVAILABLE
from ..workflows import ActionNotAllowed, GuardViolation
from ..workflows.lifecycle import LIFECYCLE, STAFF_ACTIONS
from .auth import current_actor
from .schemas import PROBLEM_JSON

log = logging.getLogger(__name__)
# A database outage (restart, failover, a full disk) usually ends within seconds.
DATABASE_RETRY_SECONDS = 5


def problem(
    status: int, title: str, detail: str = "", type_: str = "about:blank", headers=None, **extra
) -> Response:
    """A problem+json response (on a page, the friendly error page the pages install)."""
    page = current_app.extensions.get("windowsvc.error_page")
    if page is not None:
        answer = page(status, title, detail, headers)
        if answer is not None:
            return make_response(answer)
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    body.setdefault("instance", request.path)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages) -> dict:
    """webargs nests messages by location ({"json": {...}}); clients want {field: [messages]}."""
    if not isinstance(messages, dict):
        return {"_body": _as_list(messages)}
    if set(messages) <= {"json", "query", "headers", "form", "view_args", "path", "files"}:
        merged = {}
        for location_messages in messages.values():
            merged.update(flatten_messages(location_messages))
        return merged
    return {field: _messages(value) for field, value in messages.items()}


def _messages(value):
    if isinstance(value, dict):
        # nested field errors: {"applicant": {"name": [...]}} → keep the structure readable
        return [f"{k}: {'; '.join(_messages(v))}" for k, v in value.items()]
    return _as_list(value)


def _as_list(value):
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def from_http_exception(error: HTTPException) -> Response:
    """Werkzeug/flask-smorest aborts (404 route, 405, 413, webargs 422/400...).

    The exception's own headers stay with the answer (``Allow`` on 405, ``Retry-After`` on 429
    and 503, ``WWW-Authenticate``...); only its HTML content type is replaced.
    """
    data = getattr(error, "data", None) or {}
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    messages = data.get("messages")
    if error.code == 422 and messages is not None:
        return problem(
            422,
            "Validation failed",
            "请求内容校验失败 (the request body is invalid)",
            "/problems/validation",
            headers,
            errors=flatten_messages(messages),
        )
    detail = error.description or ""
    if messages is not None:
        detail = "; ".join(sum(flatten_messages(messages).values(), [])) or detail
    return problem(error.code or 500, error.name, detail, headers=headers)


def register(app):
    """Install the handlers on ``app`` (flask-smorest's own HTTP handler is replaced in api/)."""

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        headers = getattr(error, "headers", None)
        return problem(error.status, error.title, error.detail, error.type, headers, **error.extra)

    @app.errorhandler(ActionNotAllowed)
    def _not_allowed(error: ActionNotAllowed):
        actor = current_actor(optional=True)
        allowed = [
            a
            for a in error.allowed
            if a in STAFF_ACTIONS and (actor is None or actor.role in LIFECYCLE.actors_of(a))
        ]
        return problem(
            409,
            "Action not allowed",
            f"当前状态 {error.state} 下不能执行 {error.action}",
            "/problems/action-not-allowed",
            state=error.state,
            allowed_actions=allowed,
        )

    @app.errorhandler(GuardViolation)
    def _guard(error: GuardViolation):
        field = error.field or "_action"
        return problem(
            422,
            "Validation failed",
            error.message,
            "/problems/validation",
            errors={field: [error.message]},
        )

    @app.errorhandler(ValidationError)
    def _validation(error: ValidationError):
        return problem(
            422,
            "Validation failed",
            "请求内容校验失败 (the request body is invalid)",
            "/problems/validation",
            errors=flatten_messages(error.messages),
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return from_http_exception(error)

    def _database_unreachable(error: Exception):
        log.error("database unavailable on %s %s: %s", request.method, request.path, error)
        return problem(
            503,
            "Database unavailable",
            "数据库暂时无法访问, 请稍后重试 (the database cannot be reached; retry later)",
            "/problems/database-unavailable",
            {"Retry-After": str(DATABASE_RETRY_SECONDS)},
        )

    for unavailable in UNAVAILABLE:  # a lost, refused or exhausted database connection
        app.register_error_handler(unavailable, _database_unreachable)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal server error", "服务器内部错误, 已记录 (logged)")

    app.after_request(_no_sniffing)


def _no_sniffing(response: Response) -> Response:
    """Browsers take every answer for the content type it declares (no MIME sniffing)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
