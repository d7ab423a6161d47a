"""Database plumbing: SQLite pragmas, the one transaction helper, and the UTC column type."""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC

from sqlalchemy import DateTime, event
from sqlalchemy.types import TypeDecorator

from .extensions import db

_immediate = ContextVar("windowsvc_sqlite_immediate", default=False)


def install_engine_behaviour(engine):
    """SQLite: WAL, busy timeout, foreign keys, and BEGIN IMMEDIATE for write transactions."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling is switched off so that we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A deferred transaction that later writes fails with "database is locked" when another
        # process holds the write lock; an immediate one waits its turn instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


@contextmanager
def write_transaction():
    """Run the block as one write transaction: committed on success, rolled back on error."""
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("write_transaction() entered with unflushed changes")
        session.rollback()
    token = _immediate.set(True)
    try:
        session.connection()  # begins now, while the flag is set
    finally:
        _immediate.reset(token)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def is_postgres() -> bool:
    """True when the bound database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow_column_default():
    """Default for created_at columns (the injectable clock)."""
    from . import clock

    return clock.now()
