"""Fixtures shared by every layer: databases (SQLite and PostgreSQL), app, client, credentials."""

import os
import shutil
import uuid
from datetime import datetime

import pytest

from tests.fakes import FakeClock
from windowsvc import clock

POSTGRES_REQUIRED = os.environ.get("WINDOWSVC_TEST_POSTGRES") == "required"
TABLES = (
    "rectifications",
    "ratings",
    "outbox",
    "steps",
    "events",
    "idempotency_keys",
    "applications",
    "number_sequences",
    "staff_accounts",
    "principals",
    "catalog_items",
    "departments",
    "calendar_days",
    "calendar_years",
    "calendar_loads",
    "access_records",
    "audit_checkpoints",
)


def postgres_server_url():
    """The PostgreSQL server given by PG* variables (pg_virtualenv sets them), or None."""
    if not os.environ.get("PGHOST"):
        return None
    user = os.environ.get("PGUSER", "postgres")
    password = os.environ.get("PGPASSWORD", "")
    host = os.environ["PGHOST"]
    port = os.environ.get("PGPORT", "5432")
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}"


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this test session, migrated and loaded with the demo."""
    server = postgres_server_url()
    if server is None:
        if POSTGRES_REQUIRED:
            pytest.fail("WINDOWSVC_TEST_POSTGRES=required but no PGHOST: run through `make test`")
        pytest.skip("no PostgreSQL server (run `make test`, which starts a throwaway cluster)")
    import psycopg

    name = f"windowsvc_test_{uuid.uuid4().hex[:8]}"
    admin = server.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    _migrate_and_seed(url)
    yield url
    from sqlalchemy import create_engine

    create_engine(url).dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file with the demo catalog, copied for every test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate_and_seed(f"sqlite:///{path}")
    return path


def _migrate_and_seed(url):
    from flask_migrate import upgrade

    from windowsvc import create_app
    from windowsvc.catalog import DEMO_DIR
    from windowsvc.extensions import db
    from windowsvc.services.admin import catalog

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        catalog.load(DEMO_DIR)
        db.session.remove()
        db.engine.dispose()


def _reset_postgres(url):
    """Empty the mutable tables of the session database, keeping schema and the demo catalog."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        mutable = [t for t in TABLES if t not in ("catalog_items", "departments")]
        conn.execute(text(f"TRUNCATE {', '.join(mutable)} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE calendar_state SET revision = 0"))
        # item versions a test loaded on top of the demo catalog
        conn.execute(text("DELETE FROM catalog_items WHERE version > 1"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """Each integration test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "windowsvc.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def config(database_url):
    """App configuration for a test."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_STORAGE_URI": "memory://",
        "TESTING": True,
    }


@pytest.fixture
def app(config):
    """The app under test, bound to this test's database."""
    from windowsvc import create_app
    from windowsvc.extensions import db

    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def frozen_clock():
    """Freeze time at 2026-03-02 10:00 Asia/Shanghai (a Monday); tests move it by hand."""
    fixed = FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=clock.SHANGHAI))
    clock.set_clock(fixed)
    yield fixed
    clock.set_clock(None)


@pytest.fixture
def tokens(app):
    """A bearer token per role (backoffice/supervisor of scjg, plus a zjj backoffice)."""
    from windowsvc.services.admin import credentials

    made = {}
    with app.app_context():
        for key, role, department in [
            ("window", "window", None),
            ("window2", "window", None),
            ("supervisor", "supervisor", "scjg"),
            ("oversight", "oversight", None),
            ("admin", "admin", None),
            ("scjg", "backoffice", "scjg"),
            ("zjj", "backoffice", "zjj"),
            ("gaj", "backoffice", "gaj"),
        ]:
            _principal, token = credentials.create(role, f"测试{key}", department)
            made[key] = token
    return made


@pytest.fixture
def decide(app):
    """Have every department complete the case's steps, stage after stage, through the queue."""
    from datetime import timedelta

    from windowsvc import clock
    from windowsvc.db import write_transaction
    from windowsvc.models import Application, Step
    from windowsvc.services.cases.records import Actor
    from windowsvc.services.queue import tasks

    def _open_steps(number):
        with app.app_context():
            application = Application.query.filter_by(number=number).one()
            return [(s.id, s.department) for s in application.steps if s.state == "pending"]

    def _decide(number, outcome="approve", reason="不符合法定条件"):
        first = True
        while steps := _open_steps(number):
            for step_id, department in steps:
                with app.app_context():
                    with write_transaction() as session:
                        step = session.get(Step, step_id)
                        step.state, step.lock_owner = "locked", "test-worker"
                        step.lock_expires_at = clock.now() + timedelta(minutes=5)
                    actor = Actor(None, f"{department}-system", "backoffice", department)
                    this = outcome if first else "approve"
                    tasks.complete(
                        step_id,
                        actor,
                        "test-worker",
                        this,
                        comment=reason if this == "deny" else None,
                    )
                first = False

    return _decide
