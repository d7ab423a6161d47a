"""Database plumbing: SQLite pragmas, the one transaction helper, and the UTC column type."""

import fcntl
import os
import threading
import time
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC

from flask import g, has_request_context
from sqlalchemy import DateTime, event
from sqlalchemy.types import TypeDecorator

from . import clock
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
    SQLite's own locking still guards everything; this only orders the waiting:
    - the lock file is opened read-only for each turn (no descriptor kept, shared after a fork
      or leaked; flock needs no write access, so a file another user created still works), and
      a file that cannot be opened at all leaves the waiting to SQLite;
    - the wait is bounded: after ``wait_seconds`` the writer goes ahead to SQLite's own busy
      timeout, as without the queue, so a stuck holder cannot block writers for ever.
    """

    def __init__(self, database_path: str | None, wait_seconds: float = 10.0):
        self.path = f"{database_path}-writer.lock" if database_path else None
        self.wait_seconds = wait_seconds
        self.thread_lock = threading.Lock()
        self.local = threading.local()

    @contextmanager
    def turn(self):
        if getattr(self.local, "holding", False):
            yield
            return
        deadline = time.monotonic() + self.wait_seconds
        queued = self.thread_lock.acquire(timeout=self.wait_seconds)
        fd = None
        try:
            if queued and self.path:
                fd = self._lock_file(deadline)
            self.local.holding = True
            try:
                yield
            finally:
                self.local.holding = False
        finally:
            if fd is not None:
                os.close(fd)  # releases the flock
            if queued:
                self.thread_lock.release()

    def _lock_file(self, deadline) -> int | None:
        """The lock file, flocked; None when it cannot be had (SQLite's busy handler waits)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:
            return None
        pause = 0.0001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                # another process writes and usually commits within a millisecond: look again
                # every 0.2 ms at most (one polling thread per process; the others wait on the
                # thread lock, which wakes them at once)
                time.sleep(pause)
                pause = min(pause * 2, 0.0002)
            except OSError:
                os.close(fd)
                return None


_queues: dict[str, WriterQueue] = {}  # by the database file's real path
_queue_of: dict[str, WriterQueue] = {}  # by the engine's database string: no path resolution
_queues_lock = threading.Lock()  # taken only the first time a database is seen


def _writer_queue(engine) -> WriterQueue | None:
    """The queue of a SQLite database file (one per file and process), None for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    in_memory = not database or database == ":memory:"
    name = f"memory:{id(engine)}" if in_memory else database
    queue = _queue_of.get(name)
    if queue is None:
        with _queues_lock:
            key = name if in_memory else os.path.realpath(database)
            queue = _queues.setdefault(key, WriterQueue(None if in_memory else key))
            _queue_of[name] = queue
    return queue


@contextmanager
def write_transaction(*, keep_loaded: bool = False):
    """Run the block as one write transaction: committed on success, rolled back on error.

    ``keep_loaded``: the rows loaded in the block keep what they read there after the commit
    (no reload in a later transaction), for a read that is recorded in the same transaction
    (the access record says exactly what was shown).
    """
    if has_request_context():
        g.windowsvc_wrote = True  # a GET that writes is not run again (platform/outage.py)
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
            expiring = session.expire_on_commit
            session.expire_on_commit = expiring and not keep_loaded
            try:
                session.commit()
            finally:
                session.expire_on_commit = expiring
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
    return clock.now()
