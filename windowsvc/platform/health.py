"""Readiness: the database answers and its schema is at the newest migration."""

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from ..extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


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
    head = head_revision()
    if current != head:
        return False, f"database at migration {current}, code expects {head}: run `windowsvc init`"
    return True, f"{db.engine.dialect.name} at {current}"
