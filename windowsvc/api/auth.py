"""Who may call what: bearer tokens, roles, and deny-by-default for every endpoint."""

from flask import current_app, g, request

from ..platform.errors import ServiceError
from ..platform.policy import PUBLIC, policy_of
from ..services.admin import credentials

# Endpoints of libraries (OpenAPI JSON, docs UI, static files) are public by nature.
EXEMPT_BLUEPRINTS = {"api-docs", "api-docs-assets", "web_assets"}
EXEMPT_ENDPOINTS = {"static"}


class Unauthorized(ServiceError):
    status, title, type = 401, "Unauthorized", "/problems/unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="windowsvc"'}


class RoleForbidden(ServiceError):
    status, title, type = 403, "Forbidden", "/problems/forbidden"


def is_exempt(endpoint: str | None) -> bool:
    """Library endpoints that need no declaration."""
    if endpoint is None or endpoint in EXEMPT_ENDPOINTS:
        return True
    return endpoint.split(".", 1)[0] in EXEMPT_BLUEPRINTS


def enforce():
    """before_request: authenticate, then allow only what the endpoint declares."""
    if request.method == "OPTIONS" or is_exempt(request.endpoint):
        return
    if request.blueprint in current_app.extensions.get("windowsvc.pages", ()):
        return  # a page: its blueprint checks the signed-in session (web.guard)
    roles = policy_of(request.endpoint, request.method)
    if roles is None:
        raise RoleForbidden("该接口未声明访问权限, 默认拒绝 (endpoint has no access policy)")
    if PUBLIC in roles:
        return
    actor = _actor_from_header()
    if actor.role not in roles:
        raise RoleForbidden(f"角色 {actor.role} 无权访问此接口")


def _actor_from_header():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("需要 Authorization: Bearer <token>")
    actor = credentials.authenticate(token.strip())
    if actor is None:
        raise Unauthorized("令牌无效或已吊销 (invalid or revoked token)")
    g.actor = actor
    return actor


def current_actor(optional=False):
    """The authenticated actor of this request."""
    actor = g.get("actor")
    if actor is None and not optional:
        raise Unauthorized("需要 Authorization: Bearer <token>")
    return actor
