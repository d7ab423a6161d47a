"""Sign-in, sign-out and the front door (``/``): staff to their home, citizens to 办件查询."""

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, url_for

from ..extensions import limiter
from ..platform.context import setting
from ..platform.policy import PUBLIC, allow
from ..services.admin import staff
from .guard import pages, sign_in, sign_out, signed_in
from .menu import home_of

bp = pages("web_auth", __name__)


def _failed(_response):
    return bool(g.get("sign_in_failed"))


def _client_limit():
    return setting("SIGN_IN_FAILURES_PER_CLIENT")


@bp.get("/")
@allow(PUBLIC)
def front_door():
    actor = signed_in()
    if actor is not None:
        home = home_of(actor.role)
        if home:
            return redirect(home)
    return render_template("web/front_door.html", actor=actor)


@bp.route("/signin", methods=["GET", "POST"], endpoint="sign_in")
@allow(PUBLIC)
@limiter.limit(_client_limit, methods=["POST"], deduct_when=_failed)
def sign_in_form():
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("web/sign_in.html", next=target, expired=g.get("session_expired"))
    username = request.form.get("username", "")[:40]
    password = request.form.get("password", "")[:200]
    try:
        actor = staff.authenticate(username, password)
    except staff.Locked:
        actor, error = None, f"该账号连续登录失败次数过多, 请 {staff.LOCK_MINUTES} 分钟后再试。"
    else:
        error = None if actor else "用户名或密码不正确。"
    if actor is None:
        g.sign_in_failed = True
        page = render_template("web/sign_in.html", next=target, error=error, username=username)
        return page, 401
    sign_in(actor)
    flash(f"欢迎, {actor.name}。", "success")
    return redirect(target or home_of(actor.role) or url_for("web_auth.front_door"))


@bp.post("/signout", endpoint="sign_out")
@allow(PUBLIC)
def sign_out_form():
    sign_out()
    flash("您已安全退出。", "success")
    return redirect(url_for("web_auth.sign_in"))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative ``//``, and no
    whitespace or control character (browsers drop a tab or a newline, so ``/\t/evil`` would
    become ``//evil``)."""
    if not target or len(target) > 500 or any(c <= " " or c == "\x7f" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target:
        return None
    return target
