"""Database outages (a restart, a failover): what the app and its services do meanwhile.

- A request that cannot reach the database is answered 503 problem+json with Retry-After
  (api/problems.py); a write is never retried here: the client retries it, with the same
  Idempotency-Key for an intake, which replays or creates exactly once.
- A read (GET, HEAD) that has not begun writing and whose connection broke under it is run
  once more on a fresh connection (a staff read that records its access is answered 503):
  the pool has already discarded its connections to the old server (a restarted one, or the
  old primary after a failover), so the second attempt either succeeds or fails at once.
- A request whose connection died after its answer was made still gets that answer: closing
  the session at the end of the request does not raise (``install``).
- The long-running commands (``windowsvc dispatch``, ``sweep --every``) wait and try again
  instead of exiting: ``survive``.
"""

import logging
import time
from contextlib import suppress

from flask import Flask, g, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..extensions import db

log = logging.getLogger(__name__)
# what a lost, refused or exhausted database connection raises through SQLAlchemy
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
SAFE_METHODS = ("GET", "HEAD")


def connection_lost(error: BaseException) -> bool:
    """True when SQLAlchemy found the connection dead while using it (not a refused connect,
    not a query error)."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class RetriedReads(Flask):
    """Flask whose GET and HEAD views run once more when their connection was lost midway."""

    def dispatch_request(self):
        if request.method not in SAFE_METHODS:
            return super().dispatch_request()
        try:
            return super().dispatch_request()
        except DBAPIError as error:
            # a GET that began writing (the access record of a staff read) may have committed
            # before its connection was lost: run again, it would write twice
            if not connection_lost(error) or g.get("windowsvc_wrote"):
                raise
            db.session.rollback()  # forget the dead connection's transaction
            log.warning(
                "database connection lost on %s %s; reading once more: %s",
                request.method,
                request.path,
                error.orig,
            )
            return super().dispatch_request()


def install(app) -> None:
    """End each request's session without letting a dead connection turn its answer into a
    500: call right after ``db.init_app`` (teardowns run in reverse order, so this one runs
    before Flask-SQLAlchemy's, which then finds nothing left to close)."""
    app.teardown_appcontext(_end_session)


def _end_session(_error) -> None:
    # closing rolls back a transaction still open (a read after the commit, or the one a
    # failed request left); on a connection the server dropped meanwhile that rollback raises
    try:
        db.session.remove()
    except UNAVAILABLE as error:
        log.warning("database connection lost while closing the session: %s", error)
        db.session.registry.clear()  # the session is done with; its connection is discarded


def survive(what: str, round_, pause: float = 1.0):
    """Run one round of a long-running command; on a database outage log it, wait ``pause``
    seconds and return None, so the loop goes on and tries again."""
    try:
        return round_()
    except UNAVAILABLE as error:
        log.warning("%s: database unavailable, trying again in %s s: %s", what, pause, error)
        with suppress(*UNAVAILABLE):
            db.session.remove()  # the next round starts on a fresh session and connection
        time.sleep(pause)
        return None
