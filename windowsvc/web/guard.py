"""The pages' gate: a signed session cookie for staff, CSRF on every form, roles per view.

Every page blueprint is made by ``pages()``: its views must declare their roles with
``platform.policy.allow`` (deny by default, like the API), a POST must carry the form's CSRF
token, and a signed-in person is re-read from the database on every request, so revoking the
principal (``windowsvc credentials revoke``) ends the session at once.

Session expiry runs on wall time, not on ``windowsvc.clock``: it is about the person at the
desk, not about the legal time limits the engine's clock counts (tests move that clock by days).
"""

import time

from flask import Blueprint, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from ..platform.policy import PUBLIC, policy_of
from ..services.admin import staff

csrf = CSRFProtect()
SESSION_KEY = "staff"


class PageSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over https
    (behind a proxy: as ProxyFix reports it from the trusted hops)."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def open_session(self, app, request):
        """Flask's, without building a signing serializer for a request that brings no cookie
        (every API call): Flask makes one per request before it looks for the cookie."""
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


class SignInRequired(Exception):
    """No valid staff session: the person is sent to the sign-in page."""


class NotYours(Exception):
    """A signed-in person opened a page of another role."""


def pages(name: str, import_name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint of pages, guarded as described above."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, template_folder="templates")
    blueprint.before_request(_guard)
    blueprint.after_request(_private)
    blueprint.record_once(
        lambda state: state.app.extensions.setdefault("windowsvc.pages", set()).add(name)
    )
    return blueprint


def _guard():
    roles = policy_of(request.endpoint, request.method)
    if roles is None:
        raise NotYours("该页面未声明访问权限, 默认拒绝")
    if request.method == "POST":
        csrf.protect()
    actor = signed_in()
    if PUBLIC in roles:
        return None
    if actor is None:
        raise SignInRequired()
    if actor.role not in roles:
        raise NotYours(f"角色 {actor.role} 无权访问此页面")
    return None


def _private(response):
    """Pages hold personal data and one-time query codes: never cached (Back after 退出 shows
    nothing), never framed (no clickjacking of the one-click action buttons)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def signed_in():
    """The signed-in person's actor (also set as ``g.actor``), or None."""
    if "staff_checked" in g:
        return g.get("actor")
    g.staff_checked = True
    held = session.get(SESSION_KEY)
    if not held:
        return None
    now = time.time()
    idle = float(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    longest = float(current_app.config["SESSION_MAX_HOURS"]) * 3600
    if now - held.get("since", 0) > longest or now - held.get("seen", 0) > idle:
        session.pop(SESSION_KEY, None)
        g.session_expired = True
        return None
    actor = staff.actor_of(held["id"])
    if actor is None:
        session.pop(SESSION_KEY, None)
        return None
    if now - held["seen"] > 30:  # refresh the idle mark, not a new cookie on every request
        session[SESSION_KEY] = {**held, "seen": now}
    g.actor = actor
    return actor


def sign_in(actor) -> None:
    """Start a session for the actor: a fresh session (no fixation) with its own CSRF secret."""
    session.clear()
    session.permanent = True
    now = time.time()
    session[SESSION_KEY] = {"id": actor.id, "since": now, "seen": now}
    g.actor = actor
    g.staff_checked = True


def sign_out() -> None:
    session.clear()
    g.pop("actor", None)


def sign_in_page():
    """Where an anonymous request for a staff page is sent, remembering where it wanted to go."""
    target = request.full_path if request.method == "GET" else None
    if target and target.endswith("?"):
        target = target[:-1]
    return redirect(
        url_for("web_auth.sign_in", next=target) if target else url_for("web_auth.sign_in")
    )
