"""Who may call a view: every API operation and every page declares its roles (deny by default).

The API checks a bearer token against the declaration (``api.auth``), the pages a signed-in
session (``web.guard``); both read the same mark.
"""

from flask import current_app

PUBLIC = "public"


def allow(*roles):
    """Declare who may call a view method: role names, or PUBLIC."""

    def mark(func):
        func.allowed_roles = frozenset(roles)
        return func

    return mark


def policy_of(endpoint: str | None, method: str):
    """The roles declared for an endpoint and method, or None when nothing is declared."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    target = getattr(view_class, method.lower(), None) if view_class else view
    if target is None and method == "HEAD" and view_class is not None:
        target = getattr(view_class, "get", None)
    return getattr(target, "allowed_roles", None)
