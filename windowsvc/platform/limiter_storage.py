"""Where the limiter counts: a store all workers and nodes share, or an acknowledged memory://.

Flask-Limiter's ``memory://`` counts in each worker process, so every budget (5 failed
query-code guesses per number per hour...) is multiplied by workers × nodes: measured, 5 became
30 on three nodes of two workers. gunicorn's master checks the storage before any worker starts
(``gunicorn.conf.py`` ``on_starting``) and refuses to start with ``memory://`` and more than one
worker unless ``RATELIMIT_MEMORY_ACKNOWLEDGED`` says the multiplied budgets are accepted (the
SQLite demo of ``make run``). Several nodes of one worker each cannot be seen from here: the
documentation says to use Redis for any deployment of more than one process.
"""

import logging

PER_PROCESS_SCHEMES = ("memory", "async+memory")
ACKNOWLEDGEMENT = "RATELIMIT_MEMORY_ACKNOWLEDGED"
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")
REDIS_TIMEOUT_SECONDS = 1.0

log = logging.getLogger(__name__)


class UnsharedStorage(SystemExit):
    """gunicorn would count every budget once per worker: refuse to start (exit status 1)."""

    def __init__(self, message: str):
        super().__init__(1)
        self.message = message


def configure(config) -> None:
    """The limiters' behaviour when the shared store fails: no request answers 500 for it.

    While Redis is unreachable each worker counts in memory (the budgets hold per worker, as with
    ``memory://``) and looks for Redis again with a growing back-off; an error the fallback does
    not cover (a deduction after the answer) is logged, not raised. A lost Redis host costs one
    second per attempt, not a hung request.
    """
    # Flask-Limiter keeps the last app's switch as its default: each app says its own
    config.setdefault("RATELIMIT_ENABLED", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    scheme = str(config["RATELIMIT_STORAGE_URI"]).split("://", 1)[0].strip().lower()
    if scheme in REDIS_SCHEMES:
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        )


def per_process(storage_uri: str) -> bool:
    """Whether this storage counts in each process (memory://) rather than in a shared store."""
    return storage_uri.split("://", 1)[0].strip().lower() in PER_PROCESS_SCHEMES


def acknowledged(value) -> bool:
    """An environment flag as ``from_prefixed_env`` leaves it (true, 1, "yes", "on")."""
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def unshared_budgets(storage_uri: str, workers: int) -> str | None:
    """Why these budgets would not hold across the server's processes; None when they do."""
    if workers <= 1 or not per_process(storage_uri):
        return None
    return (
        f"RATELIMIT_STORAGE_URI={storage_uri} counts in each of the {workers} gunicorn workers: "
        f"every throttle (failed query codes, sign-ins) allows {workers}× its budget, and more "
        "with more nodes. Set WINDOWSVC_RATELIMIT_STORAGE_URI=redis://… (shared by every worker "
        f"and node), or WINDOWSVC_{ACKNOWLEDGEMENT}=true to accept per-process budgets."
    )


def check_server(settings, workers: int) -> None:
    """At gunicorn's start: raise UnsharedStorage, or log a warning when acknowledged."""
    problem = unshared_budgets(str(settings["RATELIMIT_STORAGE_URI"]), workers)
    if problem is None:
        return
    if acknowledged(settings.get(ACKNOWLEDGEMENT)):
        log.warning("%s (acknowledged by %s)", problem, ACKNOWLEDGEMENT)
        return
    log.error("refusing to start: %s", problem)
    raise UnsharedStorage(problem)


def check_in_views_only(app, limiter) -> bool:
    """Drop Flask-Limiter's before-request check when every limit is a view's decorator.

    The decorated limit (the sign-in budget) is checked when its view runs, whatever this does,
    and so are the query-code budgets (platform.throttle, outside Flask-Limiter). The
    before-request check looks for default, application, blueprint and meta limits; with none
    configured it finds nothing, at a cost on every request (a tenth of ``/healthz``, measured
    in bench/profiles/). Called once the blueprints are registered; True when the check was
    dropped, False when some limit needs it (it is kept) or the limiter
    is switched off. It reads Flask-Limiter's private names, hence the pinned 4.1 in
    pyproject.toml (its tests below fail if they move).
    """
    checks = app.before_request_funcs.get(None, [])
    if not limiter.enabled or limiter._check_request_limit not in checks:
        return False  # RATELIMIT_ENABLED=false: Flask-Limiter registered nothing
    manager = limiter.limit_manager
    if (
        manager.default_limits
        or manager.application_limits
        or any(manager._blueprint_limits.values())
        or limiter._meta_limits
        # RATELIMIT_IN_MEMORY_FALLBACK: limits for every route while the store is down
        or limiter._in_memory_fallback
    ):
        return False
    checks.remove(limiter._check_request_limit)
    return True
