"""Wake long-polling fetches when tasks may have become available, without hammering the database.

One watcher thread per process notices commits by other processes — PostgreSQL LISTEN/NOTIFY, or
SQLite's ``PRAGMA data_version`` on a private connection — and wakes every waiting request.
Commits in this process wake waiters directly. Waits are capped, so leases that merely expire are
noticed within ``MAX_SLICE`` seconds.
"""

import logging
import sqlite3
import threading
import time

from sqlalchemy import text

from ..extensions import db

log = logging.getLogger(__name__)
CHANNEL = "windowsvc_tasks"
MAX_SLICE = 1.0
SQLITE_POLL = 0.005
SQLITE_IDLE_POLL = 0.05


class Wakeup:
    """A generation counter with a condition variable, fed by a watcher thread."""

    def __init__(self):
        self.condition = threading.Condition()
        self.generation = 0
        self.watcher = None
        self.watched_url = None
        self.stop = threading.Event()
        self.waiters = 0

    def notify(self):
        """Something changed: wake every waiter."""
        with self.condition:
            self.generation += 1
            self.condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Wait until the generation moves past ``seen`` or ``timeout``; return the generation."""
        with self.condition:
            self.waiters += 1
            try:
                self.condition.wait_for(lambda: self.generation != seen, min(timeout, MAX_SLICE))
            finally:
                self.waiters -= 1
            return self.generation

    def ensure_watcher(self, engine):
        """Watch ``engine``'s database (one watcher per process; a new database replaces it)."""
        url = engine.url.render_as_string(hide_password=False)
        with self.condition:
            if self.watcher is not None and self.watcher.is_alive() and self.watched_url == url:
                return
            self.stop.set()
            self.stop = threading.Event()
            self.watched_url = url
            target = _watch_postgres if engine.dialect.name == "postgresql" else _watch_sqlite
            self.watcher = threading.Thread(
                target=target,
                args=(self, engine, self.stop),
                name="windowsvc-wakeup",
                daemon=True,
            )
            self.watcher.start()


def _watch_sqlite(wakeup: Wakeup, engine, stop: threading.Event):
    path = engine.url.database
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    last = None
    while not stop.is_set():
        try:
            version = connection.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            log.exception("wakeup watcher: sqlite error")
            time.sleep(1)
            continue
        if last is not None and version != last:
            wakeup.notify()
        last = version
        # the baseline is kept while nobody waits, so a commit just before a wait is not missed
        time.sleep(SQLITE_POLL if wakeup.waiters else SQLITE_IDLE_POLL)
    connection.close()


def _watch_postgres(wakeup: Wakeup, engine, stop: threading.Event):
    import psycopg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    for _notice in connection.notifies(timeout=1.0):
                        wakeup.notify()
        except Exception:
            if stop.is_set():
                return
            log.exception("wakeup watcher: PostgreSQL connection lost, retrying")
            stop.wait(1)


WAKEUP = Wakeup()


def announce(department: str) -> None:
    """Inside a transaction that makes tasks available: tell other processes at commit."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_notify(:channel, :dep)"), {"channel": CHANNEL, "dep": department}
        )
