"""Errors on pages: a friendly page in Chinese instead of problem+json, with the same status."""

from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError

from .guard import NotYours, SignInRequired, sign_in_page

API_PREFIXES = ("/api/", "/engine-rest", "/healthz", "/readyz")
FRIENDLY = {
    400: "请求有误",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的操作",
    409: "操作冲突",
    412: "办件已被更新",
    413: "提交内容过大",
    422: "填写内容有误",
    429: "操作过于频繁",
    500: "系统内部错误",
    503: "系统暂时不可用",
}


def is_page_request() -> bool:
    """A request for a page: one of the page blueprints, or a browser asking for an unknown
    address outside the API (the API and the Camunda facade always answer problem+json)."""
    if request.blueprint in current_app.extensions.get("windowsvc.pages", ()):
        return True
    if request.path.startswith(API_PREFIXES) or request.endpoint is not None:
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_page(status: int, title: str, detail: str, headers=None):
    """The page for an error, or None when the request is not a page request."""
    if not is_page_request():
        return None
    if status >= 500:
        detail = "请稍后重试; 如仍有问题, 请联系系统管理员。"
    body = render_template(
        "web/error.html", status=status, title=FRIENDLY.get(status, title), detail=detail
    )
    return body, status, {k: v for k, v in (headers or {}).items() if k != "WWW-Authenticate"}


def register(app):
    app.extensions["windowsvc.error_page"] = error_page

    @app.errorhandler(SignInRequired)
    def _sign_in(_error):
        return sign_in_page()

    @app.errorhandler(NotYours)
    def _not_yours(error):
        return render_template(
            "web/error.html", status=403, title=FRIENDLY[403], detail=str(error)
        ), 403

    @app.errorhandler(CSRFError)
    def _csrf(_error):
        detail = "页面已过期或来源无法确认, 表单未提交。请返回上一页, 刷新后重新提交。"
        return render_template("web/error.html", status=400, title="表单已过期", detail=detail), 400
