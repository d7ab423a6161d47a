"""The SQL floor of a lifecycle: windowsvc's own statements replayed through plain sqlite3.

``measure`` snapshots the database (WAL checkpointed into the main file), runs lifecycles while
recording, from SQLAlchemy's engine events, every statement and its DBAPI parameters exactly as
they reached sqlite3 (the ``BEGIN`` / ``BEGIN IMMEDIATE`` windowsvc emits itself included), the
transaction ends (``commit`` / ``rollback`` events, replayed as ``COMMIT`` / ``ROLLBACK``) and the
pool's pre-ping ``SELECT 1`` when the engine pre-pings (not on SQLite), each on the DBAPI
connection it ran on. It then replays that sequence on a copy of the snapshot with bare sqlite3
connections set up as windowsvc sets its own, times only the replay loop, and checks that the
replay left the same tables behind.

What the replay costs is what SQLite itself needs for these statements (parse from its statement
cache, plan, b-tree work, WAL writes at commit) plus the thinnest Python loop calling sqlite3: a
floor for the engine's per-lifecycle cost on this database, whatever the Python above it does.

For reference, the same sequence is also replayed on another copy through SQLAlchemy's engine
(``Connection.exec_driver_sql``: pooled connections, execution context, cursor results, but no
statement compilation, no ORM): what the thinnest use of the stack windowsvc is built on costs
above bare sqlite3 for the same SQL. It is checked to leave the same tables too.
"""

import hashlib
import shutil
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine.interfaces import ExecuteStyle

# what windowsvc.db.install_engine_behaviour sets on every connection (isolation_level=None too)
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)
PING = "SELECT 1"  # SQLAlchemy's pool_pre_ping statement, when the engine pre-pings
COMMIT, ROLLBACK = "COMMIT", "ROLLBACK"
# compared in full after the replay: everything a lifecycle writes
CHECKED_TABLES = (
    "applications",
    "events",
    "steps",
    "outbox",
    "access_records",
    "idempotency_keys",
    "number_sequences",
)
FIRST_SERIAL = 30_000_000  # clear of the serials (and idempotency keys) the timed runs use


@dataclass
class Floor:
    """The replay's rate and what one lifecycle sent to SQLite."""

    lifecycles: int
    seconds: float  # the replay loop alone
    statements: int  # cursor executions incl. BEGIN, excl. COMMIT/ROLLBACK and pings
    executemany: int  # of them sent with cursor.executemany()
    insertmanyvalues: int  # of them multi-row INSERT batches (cursor.execute())
    commits: int
    rollbacks: int
    pings: int
    connections: int  # distinct DBAPI connections the statements ran on
    capture_seconds: float  # the recorded windowsvc run (listeners attached, not a benchmark)
    engine_seconds: float  # the same replay through SQLAlchemy's engine (exec_driver_sql)
    rows: dict  # table -> row count after the replay (identical to windowsvc's)
    last_event_hash: str

    @property
    def rate(self) -> float:
        return self.lifecycles / self.seconds

    @property
    def ms_per_lifecycle(self) -> float:
        return 1000 * self.seconds / self.lifecycles

    @property
    def engine_ms_per_lifecycle(self) -> float:
        return 1000 * self.engine_seconds / self.lifecycles

    def per_lifecycle(self, total: int) -> float:
        return total / self.lifecycles


class _Recorder:
    """Engine listeners appending (connection index, sql, params, executemany) in order."""

    def __init__(self):
        self.ops: list[tuple[int, str, object, bool]] = []
        self._index: dict[int, int] = {}
        self._keep: list[object] = []  # the DBAPI connections seen, so their ids stay unique
        self._fresh: set[int] = set()  # connected but not yet checked out: no pre-ping
        self._pre_ping = False  # the engine's pool_pre_ping (windowsvc sets it for PostgreSQL)
        self.statements = self.executemany = self.insertmanyvalues = 0
        self.commits = self.rollbacks = self.pings = 0
        self._listeners = (
            ("connect", self._on_connect),
            ("checkout", self._on_checkout),
            ("before_cursor_execute", self._on_execute),
            ("commit", self._on_commit),
            ("rollback", self._on_rollback),
        )

    def attach(self, engine) -> None:
        from sqlalchemy import event

        self._pre_ping = bool(getattr(engine.pool, "_pre_ping", False))
        for name, listener in self._listeners:
            event.listen(engine, name, listener)

    def detach(self, engine) -> None:
        from sqlalchemy import event

        for name, listener in self._listeners:
            event.remove(engine, name, listener)

    def _connection(self, dbapi_connection) -> int:
        key = id(dbapi_connection)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self._keep)
            self._keep.append(dbapi_connection)
        return index

    def _on_connect(self, dbapi_connection, _record):
        self._fresh.add(id(dbapi_connection))

    def _on_checkout(self, dbapi_connection, _record, _proxy):
        # a pre-pinging pool pings a connection on checkout unless it was just opened
        if not self._pre_ping:
            return
        if id(dbapi_connection) in self._fresh:
            self._fresh.discard(id(dbapi_connection))
            return
        self.pings += 1
        self.ops.append((self._connection(dbapi_connection), PING, (), False))

    def _on_execute(self, _conn, cursor, statement, parameters, context, executemany):
        # the flag is also set for each batch of an "insertmanyvalues" INSERT, which SQLAlchemy
        # sends with cursor.execute() (one multi-row statement); only EXECUTEMANY is executemany
        many = executemany and context.execute_style is ExecuteStyle.EXECUTEMANY
        if many:
            params = [_frozen(p) for p in parameters]
            self.executemany += 1
        else:
            params = _frozen(parameters)
            self.insertmanyvalues += executemany
        self.statements += 1
        self.ops.append((self._connection(cursor.connection), statement, params, many))

    def _on_commit(self, conn):
        self.commits += 1
        self.ops.append((self._connection(conn.connection.dbapi_connection), COMMIT, (), False))

    def _on_rollback(self, conn):
        self.rollbacks += 1
        self.ops.append((self._connection(conn.connection.dbapi_connection), ROLLBACK, (), False))

    @property
    def connections(self) -> int:
        return len(self._keep)

    def check(self) -> None:
        """Every COMMIT/ROLLBACK ends a BEGIN on its connection, and no transaction is left open."""
        open_on: set[int] = set()
        for index, sql, _params, _many in self.ops:
            verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
            if verb == "BEGIN":
                if index in open_on:
                    raise RuntimeError(f"SQL floor: nested BEGIN on connection {index}")
                open_on.add(index)
            elif sql in (COMMIT, ROLLBACK):
                if index not in open_on:
                    raise RuntimeError(f"SQL floor: {sql} without BEGIN on connection {index}")
                open_on.discard(index)
        if open_on:
            raise RuntimeError(f"SQL floor: transactions left open on connections {open_on}")


def _frozen(parameters):
    """A copy of the DBAPI parameters (a sequence for qmark, a mapping for named)."""
    if parameters is None:
        return ()
    if isinstance(parameters, Mapping):
        return dict(parameters)
    return tuple(parameters)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        connection.execute(pragma).fetchall()
    return connection


def _checkpoint(app, path: Path) -> None:
    """Close the app's pooled connections and fold the WAL into the main database file."""
    from windowsvc.extensions import db

    with app.app_context():
        db.engine.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy:
        raise RuntimeError(f"SQL floor: WAL checkpoint of {path} blocked by another connection")


def _state(path: Path) -> tuple[dict, dict, str]:
    """(row counts, content digests, last event hash) of the tables a lifecycle writes."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        counts, digests = {}, {}
        for table in CHECKED_TABLES:
            digest = hashlib.sha256()
            rows = 0
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                digest.update(repr(row).encode())
                rows += 1
            counts[table], digests[table] = rows, digest.hexdigest()
        last = connection.execute("SELECT hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        connection.close()
    return counts, digests, last[0] if last else ""


def _replay(path: Path, recorder: _Recorder) -> float:
    """Run the recorded sequence on ``path``; seconds spent in the statement loop alone."""
    connections = [_connect(path) for _ in range(recorder.connections)]
    cursors = [connection.cursor() for connection in connections]
    program = [(cursors[index], sql, params, many) for index, sql, params, many in recorder.ops]
    try:
        started = time.perf_counter()
        for cursor, sql, params, many in program:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params).fetchall()  # every row, as the ORM reads them
        return time.perf_counter() - started
    finally:
        for connection in connections:
            connection.close()


def _replay_through_engine(path: Path, recorder: _Recorder) -> float:
    """The same sequence through SQLAlchemy's engine on ``path``; seconds in the loop alone."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    # one connection per recorded one, however many: no pool limit to wait on
    engine = create_engine(f"sqlite:///{path}", isolation_level="AUTOCOMMIT", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _set_up(dbapi_connection, _record):
        for pragma in PRAGMAS:
            dbapi_connection.execute(pragma).fetchall()

    connections = [engine.connect() for _ in range(recorder.connections)]
    program = [(connections[index], sql, params, many) for index, sql, params, many in recorder.ops]
    try:
        started = time.perf_counter()
        for connection, sql, params, many in program:
            if many:
                connection.exec_driver_sql(sql, list(params))
            else:
                result = connection.exec_driver_sql(sql, params)
                if result.returns_rows:
                    result.fetchall()
        return time.perf_counter() - started
    finally:
        for connection in connections:
            connection.close()
        engine.dispose()


def measure(app, database: Path, run_one: Callable[[int], None], count: int) -> Floor:
    """Record ``count`` lifecycles of ``run_one`` on ``app`` and time their SQL replayed raw.

    ``database`` is the app's SQLite file; the snapshot and replay copies go next to it. Raises
    if the replay does not end in exactly the state windowsvc left.
    """
    from windowsvc.extensions import db

    database = Path(database)
    with app.app_context():
        bound = db.engine.url.database
    if bound is None or Path(bound).resolve() != database.resolve():
        raise ValueError(f"SQL floor: the app is bound to {bound!r}, not {database}")
    snapshot = database.with_name(f"{database.stem}-floor-snapshot.db")
    replica = database.with_name(f"{database.stem}-floor-replay.db")
    through_engine = database.with_name(f"{database.stem}-floor-engine.db")

    _checkpoint(app, database)
    shutil.copyfile(database, snapshot)
    before = _state(snapshot)[0]

    recorder = _Recorder()
    with app.app_context():
        recorder.attach(db.engine)
    try:
        started = time.perf_counter()
        for serial in range(FIRST_SERIAL, FIRST_SERIAL + count):
            run_one(serial)
        capture_seconds = time.perf_counter() - started
    finally:
        with app.app_context():
            recorder.detach(db.engine)
    recorder.check()
    _checkpoint(app, database)
    expected = _state(database)
    if expected[0]["applications"] - before["applications"] != count:
        raise RuntimeError(f"SQL floor: {count} lifecycles did not add {count} applications")

    try:
        shutil.copyfile(snapshot, replica)
        shutil.copyfile(snapshot, through_engine)
        seconds = _replay(replica, recorder)
        got = _state(replica)
        engine_seconds = _replay_through_engine(through_engine, recorder)
        got_through_engine = _state(through_engine)
    finally:
        for path in (snapshot, replica, through_engine):
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
    if got != expected:
        differs = [t for t in CHECKED_TABLES if got[1][t] != expected[1][t]]
        raise RuntimeError(
            f"SQL floor: the replay differs from windowsvc's run in {differs or 'last event'}: "
            f"rows {got[0]} vs {expected[0]}"
        )
    if got_through_engine != got:
        raise RuntimeError("SQL floor: the replay through SQLAlchemy's engine left other rows")
    return Floor(
        lifecycles=count,
        seconds=seconds,
        statements=recorder.statements,
        executemany=recorder.executemany,
        insertmanyvalues=recorder.insertmanyvalues,
        commits=recorder.commits,
        rollbacks=recorder.rollbacks,
        pings=recorder.pings,
        connections=recorder.connections,
        capture_seconds=capture_seconds,
        engine_seconds=engine_seconds,
        rows=got[0],
        last_event_hash=got[2],
    )
