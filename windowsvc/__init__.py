"""windowsvc — a one-window (一窗受理) government service workflow engine."""

from flask import Flask

__version__ = "0.1.0"


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, database, adapters, API and CLI. Nothing at import time."""
    from . import api, cli, clock, logs, web
    from .adapters import evidence
    from .adapters.calendar import ChineseWorkingCalendar, NoticeCalendar
    from .api.body import BodyFlask
    from .config import load_config
    from .db import install_engine_behaviour
    from .extensions import db, limiter, migrate
    from .platform import limiter_storage, metrics, outage, proxies, throttle
    from .platform.context import Adapters

    app = BodyFlask(__name__)
    load_config(app, config)
    logs.configure(app.config["LOG_LEVEL"])
    proxies.install(app)  # the client's address for every per-client budget, API and pages
    db.init_app(app)
    outage.install(app)  # after db.init_app: its teardown runs first
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    limiter_storage.configure(app.config)
    limiter.init_app(app)
    throttle.init_app(app)  # the query-code budgets: Flask-Limiter's settings, counted directly
    with app.app_context():
        install_engine_behaviour(db.engine)
    metrics.init_app(app)
    app.extensions["windowsvc.adapters"] = Adapters(
        # stored notices are read in on first use (services.calendar.working_calendar)
        calendar=NoticeCalendar(
            ChineseWorkingCalendar.from_config(app.config["CALENDAR_OVERRIDES"]), revision=None
        ),
        evidence=app.config.get("EVIDENCE_ADAPTER")
        or evidence.from_config(
            app.config["EVIDENCE_SOURCE"],
            clock.now,
            app.config["EVIDENCE_TOKEN"],
            float(app.config["EVIDENCE_TIMEOUT"]),
        ),
    )
    logs.init_app(app)  # before the API's hooks, so that even a refused request has its id
    api.register(app)
    web.register(app)
    cli.register(app)
    limiter_storage.check_in_views_only(app, limiter)
    return app


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent / "migrations"
