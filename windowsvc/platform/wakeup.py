"""Wake long-polling fetches when tasks of their department may have become available, without
hammering the database.

One watcher thread per process notices commits by other processes and wakes the waiting requests:
- PostgreSQL: LISTEN/NOTIFY; the payload names the department whose tasks changed
  (``announce``), and only that department's polls wake — a poll of department X is not woken
  by work for department Y, on this node or any other.
- SQLite (one host): ``PRAGMA data_version`` on a private connection; it says *that* the database
  changed, not what, so a change wakes the polls of every department.
Waits are capped, so leases that merely expire are noticed within ``MAX_SLICE`` seconds (that
is a timeout, not a wake-up).

``WAKEUP.woken`` counts, per department, the polls woken by a notification (not by a timeout).
With ``WINDOWSVC_WAKEUP_TRACE`` set to a file path, each wait and each such wake-up is also
appended there as a line ``<pid> wait|woken <department>`` — counters end-to-end tests read
across worker processes (unset in production: nothing is written).
"""

import logging
import os
import sqlite3
import threading
import time
from collections import Counter

from sqlalchemy import text

from ..extensions import db

log = logging.getLogger(__name__)
CHANNEL = "windowsvc_tasks"
MAX_SLICE = 1.0
SQLITE_POLL = 0.005
SQLITE_IDLE_POLL = 0.05
TRACE_ENV = "WINDOWSVC_WAKEUP_TRACE"
LISTEN_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
}


class Wakeup:
    """A generation counter and a condition variable per department, fed by a watcher thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.conditions: dict[str, threading.Condition] = {}
        self.generations: Counter = Counter()
        self.waiting: Counter = Counter()
        self.woken: Counter = Counter()
        self.watcher = None
        self.watched_url = None
        self.stop = threading.Event()

    @property
    def waiters(self) -> int:
        return sum(self.waiting.values())

    def _condition(self, department: str) -> threading.Condition:
        condition = self.conditions.get(department)
        if condition is None:
            condition = self.conditions.setdefault(department, threading.Condition(self.lock))
        return condition

    def generation(self, department: str) -> int:
        """The department's generation now: pass it to ``wait`` (registers the department, so a
        wake-up of every department between now and the wait is not missed)."""
        with self.lock:
            self._condition(department)
            return self.generations[department]

    def notify(self, department: str | None = None):
        """Tasks of ``department`` may have changed (None: of any department): wake its polls."""
        with self.lock:
            departments = list(self.conditions) if department is None else [department]
            for name in departments:
                self.generations[name] += 1
                self._condition(name).notify_all()

    def wait(self, department: str, seen: int, timeout: float) -> int:
        """Wait until the department's generation moves past ``seen`` or ``timeout``; return the
        generation."""
        _trace("wait", department)
        with self.lock:
            condition = self._condition(department)
            self.waiting[department] += 1
            try:
                woken = condition.wait_for(
                    lambda: self.generations[department] != seen, min(timeout, MAX_SLICE)
                )
            finally:
                self.waiting[department] -= 1
            if woken:
                self.woken[department] += 1
            generation = self.generations[department]
        if woken:
            _trace("woken", department)
        return generation

    def ensure_watcher(self, engine):
        """Watch ``engine``'s database (one watcher per process; a new database replaces it)."""
        url = engine.url.render_as_string(hide_password=False)
        with self.lock:
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

    args, kwargs = listen_connect_args(engine)
    while not stop.is_set():
        try:
            with psycopg.connect(*args, autocommit=True, **kwargs) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    for notice in connection.notifies(timeout=1.0):
                        wakeup.notify(notice.payload or None)
        except Exception:
            if stop.is_set():
                return
            log.exception("wakeup watcher: PostgreSQL connection lost, retrying")
            stop.wait(1)


def listen_connect_args(engine) -> tuple[list, dict]:
    """psycopg.connect's arguments for the engine's database, as the engine itself connects:
    a multi-host URL (``?host=a:5432&host=b:5432&target_session_attrs=read-write``) reaches
    the same primary, during and after a failover."""
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    kwargs = {k: v for k, v in kwargs.items() if k != "context"}
    # the connection only listens: without keepalives a server that vanished without closing
    # it (a lost host) would leave it waiting for ever, and polls woken only by their timeouts
    for name, value in LISTEN_KEEPALIVES.items():
        kwargs.setdefault(name, value)
    return list(args), kwargs


WAKEUP = Wakeup()


def _trace(what: str, department: str) -> None:
    path = os.environ.get(TRACE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(f"{os.getpid()} {what} {department}\n")


def announce(department: str) -> None:
    """Inside a transaction that makes tasks of ``department`` available: tell every process
    (this one included, through its watcher) at commit; the payload names the department."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_notify(:channel, :dep)"), {"channel": CHANNEL, "dep": department}
        )
