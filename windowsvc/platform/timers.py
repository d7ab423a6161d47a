"""One runner per timer at a time, across processes and nodes: concurrent sweeps divide the
timers between them instead of repeating each other's work or queueing behind each other.

``only_one(name)`` tries to take the timer's lock without waiting and tells whether it got it:
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection of its
  own, held while the timer runs its transactions and released after (or when the process dies
  and its connection closes);
- SQLite (one host): ``flock`` on a file beside the database, without waiting;
- an in-memory SQLite database has one process: always granted.

The lock saves repeated work; it is not what keeps a timer from acting twice. Each timer
re-checks a case under the case's row lock (and SQLite's writer lock) before acting, so a
second runner — an older process, or `windowsvc audit checkpoint` by hand — changes nothing.
"""

import fcntl
import hashlib
import logging
import os
from contextlib import contextmanager

from sqlalchemy import text

from ..extensions import db

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a timer name."""
    digest = hashlib.sha256(f"windowsvc.timer.{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def only_one(name: str):
    """Yield True when this process runs timer ``name`` now, False when another one does."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with _advisory(engine, lock_key(name)) as held:
            yield held
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    with _flocked(f"{database}-timer-{name}.lock") as held:
        yield held


@contextmanager
def _advisory(engine, key: int):
    connection = engine.connect()
    try:
        held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        connection.commit()
        try:
            yield held
        finally:
            if held:
                try:
                    connection.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    connection.commit()
                except Exception:  # a lost connection took the lock with it
                    log.warning("timer lock %s: unlock failed; the connection is dropped", key)
                    connection.invalidate()
    finally:
        connection.close()


@contextmanager
def _flocked(path: str):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        log.warning("timer lock %s cannot be opened: running without it", path)
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the flock
