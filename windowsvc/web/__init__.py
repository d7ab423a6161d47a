"""Pages for people: server-rendered Jinja, one blueprint per audience, on the same services.

The pages call the services directly (never the API over HTTP) and hold no rules. Forms post
and redirect to a GET; they work without JavaScript. Every asset is served from ``static/``.
"""

from datetime import timedelta

from flask import Blueprint, request

from . import auth, citizen, counter, desk, errors, filters, oversight, record, workbench
from .guard import PageSessions, csrf, signed_in
from .menu import ROLE_LABELS, menu_of

# the audiences' pages, a module each
AUDIENCES = (counter, workbench, citizen, desk, oversight, record)


def register(app):
    """Sessions, CSRF, the page blueprints and their error pages."""
    config = app.config
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(config["SESSION_MAX_HOURS"]))
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a token lives as long as its session
    config["WTF_CSRF_CHECK_DEFAULT"] = False  # only pages check it (web.guard); the API has none
    app.session_interface = PageSessions()
    csrf.init_app(app)
    app.register_blueprint(
        Blueprint(
            "web_assets",
            __name__,
            static_folder="static",
            template_folder="templates",
            static_url_path="/assets",
        )
    )
    app.register_blueprint(auth.bp)
    for module in AUDIENCES:
        app.register_blueprint(module.bp)
    filters.register(app)
    errors.register(app)

    @app.context_processor
    def _layout():
        actor = signed_in()
        role = actor.role if actor else None
        menu = menu_of(role)
        here = [url for url, _label in menu if request.path.startswith(url)]
        return {
            "actor": actor,
            "menu": menu,
            "menu_current": max(here, key=len) if here else None,
            "role_label": ROLE_LABELS.get(role),
            "has_page": lambda endpoint: endpoint in app.view_functions,
        }
