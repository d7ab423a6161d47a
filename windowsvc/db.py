"""Database plumbing: SQLite pragmas, the one transaction helper, and the UTC column type."""

import fcntl
import os
import threading
from contextlib import contextmanager, nullcontext
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


class WriterQueue:
    """SQLite has one writer at a time: writers of every process wait their turn here.

    A waiter blocks in the kernel (a thread lock, then ``flock`` on a file beside the database)
    and starts the moment the previous writer commits. Waiting inside SQLite's busy handler
    instead sleeps 1, 2, 5, 10... ms between attempts while the lock may already be free.
    SQLite's own locking still guards everything; this only orders the waiting. The lock file
    is opened for each turn: no descriptor is kept, shared with a forked child or leaked.
    """

    def __init__(self, database_path: str | None):
        self.path = f"{database_path}-writer.lock" if database_path else None
        self.thread_lock = threading.Lock()
        self.local = threading.local()

    @contextmanager
    def turn(self):
        if getattr(self.local, "holding", False):
            yield
            return
        with self.thread_lock:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600) if self.path else None
            try:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                self.local.holding = True
                try:
                    yield
                finally:
                    self.local.holding = False
            finally:
                if fd is not None:
                    os.close(fd)  # releases the flock


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def _writer_queue(engine) -> WriterQueue | None:
    """The queue of a SQLite database file (one per file and process), None for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    key = (
        os.path.abspath(database) if database and database != ":memory:" else f"memory:{id(engine)}"
    )
    queue = _queues.get(key)
    if queue is None:
        with _queues_lock:
            queue = _queues.setdefault(key, WriterQueue(None if key.startswith("memory:") else key))
    return queue


@contextmanager
def write_transaction():
    """Run the block as one write transaction: committed on success, rolled back on error."""
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("write_transaction() entered with unflushed changes")
        session.rollback()
    queue = _writer_queue(db.engine)
    with queue.turn() if queue is not None else nullcontext():
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
