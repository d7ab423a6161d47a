"""Claims that die with their holder: one runner per name, freed the moment the runner is gone.

A request that must not run twice at once (an Idempotency-Key) needs a mark others can see while
it runs. A row marked "in flight" outlives a killed worker or a dropped connection and strands
every retry until some timeout; these claims are locks that the operating system or the database
frees by itself when their holder can no longer finish:

- PostgreSQL: a session advisory lock on a connection of the claim's own (not the request's
  transaction: no snapshot or row lock is held while the request calls outside systems). The
  server frees it when that connection ends: the process died, the server restarted. Server-side
  TCP keepalives bound how long a client that vanished without a word keeps it.
- SQLite: an open-file-description lock on one byte of a file beside the database, at an offset
  taken from the name's hash; the kernel frees it when the descriptor closes, on SIGKILL too.
  Unlike classic POSIX locks it also excludes other threads of the same process.
- An in-memory SQLite database lives in one process: a set of names is enough.

A claim only says who is running. It never decides what was done: that is the business of the
rows written in the runner's transaction (a claim can be lost, e.g. in a database restart).
"""

import fcntl
import hashlib
import os
import struct
import threading
import weakref
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text

from .extensions import db

# offsets stay below 2**62: far inside off_t, and a collision of two names is ~2**-62
_OFFSET_MASK = (1 << 62) - 1
_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", None)  # Linux ≥ 3.15
_KEEPALIVES = (
    "SELECT set_config('tcp_keepalives_idle', '5', false),"
    " set_config('tcp_keepalives_interval', '2', false),"
    " set_config('tcp_keepalives_count', '3', false)"
)
_engines = weakref.WeakKeyDictionary()  # PostgreSQL: the claim connections' own pool, per engine
_engines_lock = threading.Lock()
_in_memory: set[str] = set()
_in_memory_lock = threading.Lock()


@contextmanager
def claim(name: str):
    """Hold ``name`` for the block if nobody else holds it; yields whether this caller does."""
    engine = db.engine
    number = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, number) as held:
            yield held
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _process_local(f"{id(engine)}:{name}") as held:
            yield held
        return
    with _byte_lock(f"{os.path.realpath(database)}-claims.lock", number & _OFFSET_MASK) as held:
        yield held


def _claim_engine(engine):
    """A pool of its own for claim connections, never exhausted: a request holds one claim
    connection and then asks the main pool for another, so sharing one pool could deadlock."""
    found = _engines.get(engine)
    if found is None:
        with _engines_lock:
            found = _engines.get(engine)
            if found is None:
                url = engine.url.render_as_string(hide_password=False)
                found = create_engine(url, pool_size=4, max_overflow=-1, pool_pre_ping=True)
                event.listen(found, "connect", _with_keepalives)
                # disposed with the app's engine (tests, a worker's shutdown): no stray sockets
                event.listen(engine, "engine_disposed", lambda _engine: found.dispose())
                _engines[engine] = found
    return found


def _with_keepalives(dbapi_connection, _record):
    # the server notices a client that vanished without closing within ~11 s, not 2 hours
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_KEEPALIVES)
    dbapi_connection.commit()


@contextmanager
def _advisory_lock(engine, number):
    connection = _claim_engine(engine).connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        held = connection.execute(text("SELECT pg_try_advisory_lock(:n)"), {"n": number}).scalar()
        try:
            yield bool(held)
        finally:
            if held:
                _unlock(connection, number)
    finally:
        connection.close()


def _unlock(connection, number):
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:n)"), {"n": number})
    except Exception:
        # a connection that cannot unlock must not go back to the pool still holding the lock
        connection.invalidate()
        raise


@contextmanager
def _byte_lock(path, offset):
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        # no lock file: nobody can be told apart, but a second runner still creates nothing
        # twice (the transaction decides), it only waits its turn instead of hearing 409
        yield True
        return
    try:
        if _OFD_SETLK is None:
            with _process_local(f"{path}:{offset}") as held:
                yield held
            return
        request = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0)
        try:
            fcntl.fcntl(fd, _OFD_SETLK, request)
            held = True
        except (BlockingIOError, PermissionError):  # EAGAIN / EACCES: someone holds it
            held = False
        yield held
    finally:
        os.close(fd)  # frees the lock


@contextmanager
def _process_local(name):
    with _in_memory_lock:
        held = name not in _in_memory
        if held:
            _in_memory.add(name)
    try:
        yield held
    finally:
        if held:
            with _in_memory_lock:
                _in_memory.discard(name)
