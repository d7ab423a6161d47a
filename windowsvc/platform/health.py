"""Readiness: the database answers at the newest migration, the throttle's Redis answers (when
the limiter stores in Redis), and the process is not stopping."""

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from ..extensions import db, limiter
from . import shutdown

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
REDIS_SCHEMES = ("redis", "rediss", "redis+sentinel", "redis+cluster")


def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def database_ready() -> tuple[bool, str]:
    """(ready, detail) for /readyz."""
    try:
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # any driver error means "not ready", with the reason
        db.session.rollback()
        return False, f"database unreachable or not initialised: {type(exc).__name__}"
    db.session.rollback()  # end the read: the probe holds no transaction
    head = head_revision()
    if current != head:
        return False, f"database at migration {current}, code expects {head}: run `windowsvc init`"
    return True, f"{db.engine.dialect.name} at {current}"


def throttle_storage_ready() -> tuple[bool, str] | None:
    """(ready, detail) of the limiter's Redis; None when the limiter does not use Redis."""
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "")
    if uri.split("://", 1)[0] not in REDIS_SCHEMES:
        return None
    try:
        answered = limiter.storage.check()
    except Exception as exc:  # a client error is an outage to report, not a 500
        return False, f"redis unreachable: {type(exc).__name__}"
    return (True, "redis answers") if answered else (False, "redis does not answer")


def readiness() -> tuple[dict, list[str]]:
    """Every check's detail by name, and the names of those that failed."""
    checks, down = {}, []
    ok, checks["database"] = database_ready()
    if not ok:
        down.append("migrations" if "code expects" in checks["database"] else "database")
    redis = throttle_storage_ready()
    if redis is not None:
        ok, checks["redis"] = redis
        if not ok:
            down.append("redis")
    if shutdown.draining():
        checks["process"] = "shutting down (SIGTERM): send new requests elsewhere"
        down.append("process")
    return checks, down
