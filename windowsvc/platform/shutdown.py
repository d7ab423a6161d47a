"""Draining: a worker told to stop (SIGTERM) lets its long polls answer at once.

gunicorn gives a stopping worker ``graceful_timeout`` seconds to finish its requests, then kills
it; a long poll may wait longer than that. ``begin`` (called by the worker's SIGTERM handler,
``windowsvc.gunicorn_worker``) marks the process as draining and wakes every waiting poll: each
answers its normal empty answer (``[]``) and a poll that arrives meanwhile does not wait either,
so a rolling restart drops no request. ``/readyz`` answers 503 while draining.
"""

import threading

from .wakeup import WAKEUP

_DRAINING = threading.Event()


def begin() -> None:
    """This process is stopping: no poll waits any more, and the waiting ones wake now."""
    _DRAINING.set()
    WAKEUP.notify()  # every department's waiters see a new generation and look again


def draining() -> bool:
    """True once ``begin`` was called in this process."""
    return _DRAINING.is_set()


def reset() -> None:
    """Serve again (tests that drained an in-process app)."""
    _DRAINING.clear()
