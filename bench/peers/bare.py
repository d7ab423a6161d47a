"""The bare peer of bench (e): Flask + Flask-SQLAlchemy and nothing else, on windowsvc's settings.

Three endpoints, each the least a web app must do for the request windowsvc's endpoint is
measured against:
- ``GET /hello``: a JSON answer, no database (the peer of ``/healthz``);
- ``GET /rows/<key>``: one row read by a unique indexed key (the peer of the citizen's status
  lookup, which reads an application by its unique number);
- ``POST /rows`` with an ``Idempotency-Key`` header: the key and the request body inserted as one
  row and committed in a write transaction (the peer of a window intake, which must be durable
  before it is answered).

The database connection is set up as windowsvc sets its own (windowsvc/db.py and
windowsvc/config.py): SQLite in WAL mode with ``synchronous=NORMAL``, a 30 s busy timeout,
foreign keys on, ``BEGIN IMMEDIATE`` for the write, the same pool sizes; PostgreSQL through
psycopg 3 with the same pool and pre-ping. gunicorn runs it with ``bench.peers.bare:create_app()``
and the database URL in ``BARE_DATABASE_URL``.
"""

import os
from contextvars import ContextVar

from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SQLITE_PRAGMAS = (  # windowsvc.db.install_engine_behaviour
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


_immediate = ContextVar("bare_immediate", default=False)


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Row(db.Model):
    __tablename__ = "bare_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(db.String(64), unique=True)
    payload: Mapped[str] = mapped_column(db.Text)


def _engine_options(url: str) -> dict:
    """windowsvc.config.engine_options, restated so the peer stands on its own."""
    if url.startswith("sqlite"):
        return {
            "connect_args": {"timeout": 30, "check_same_thread": False},
            "pool_size": 20,
            "max_overflow": 20,
        }
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}


def _sqlite_behaviour(engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, as windowsvc does
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def create_app(database_url: str | None = None) -> Flask:
    """The bare app on ``database_url`` (default: the BARE_DATABASE_URL environment variable)."""
    url = database_url or os.environ["BARE_DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(url)
    db.init_app(app)
    if url.startswith("sqlite"):
        with app.app_context():
            _sqlite_behaviour(db.engine)

    @app.get("/hello")
    def hello():
        return jsonify(status="ok")

    @app.get("/rows/<key>")
    def read(key):
        row = db.session.scalar(select(Row).where(Row.key == key))
        if row is None:
            abort(404)
        return jsonify(key=row.key, payload=row.payload)  # the session ends at teardown

    @app.post("/rows")
    def insert():
        key = request.headers.get("Idempotency-Key")
        body = request.get_data(as_text=True)  # stored as it came: one row per request
        if not key or not body:
            abort(400)
        flag = _immediate.set(True)
        try:
            db.session.connection()  # begins now: BEGIN IMMEDIATE on SQLite, like windowsvc
        finally:
            _immediate.reset(flag)
        db.session.add(Row(key=key, payload=body))
        db.session.commit()
        return jsonify(key=key), 201

    return app


def prepare(database_url: str, rows: int) -> list[str]:
    """Create the table with ``rows`` rows to read; their keys."""
    app = create_app(database_url)
    keys = [f"read-{n:07d}" for n in range(rows)]
    with app.app_context():
        db.create_all()
        db.session.execute(
            Row.__table__.insert(),
            [{"key": key, "payload": f"示范数据 {key}"} for key in keys],
        )
        db.session.commit()
        db.engine.dispose()
    return keys
