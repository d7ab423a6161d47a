"""Item versions by id, cached per process: a loaded version never changes, so it is read once."""

import weakref
from dataclasses import dataclass
from functools import lru_cache

from ..extensions import db
from ..models import CatalogItem


@dataclass(frozen=True)
class ItemVersion:
    """One immutable version of a service item, as an application pins it."""

    id: int
    code: str
    version: int
    name: str
    department: str
    mode: str
    legal_days: int
    promised_days: int
    instant: bool
    definition: dict


def item_version(item_id: int) -> ItemVersion:
    """The item version with this id in the bound database."""
    return _cached(_database_of(db.engine), item_id)


_DATABASES = weakref.WeakKeyDictionary()  # engine → its URL as text


def _database_of(engine) -> str:
    """The engine's database URL, rendered once per engine (several item reads per request)."""
    name = _DATABASES.get(engine)
    if name is None:
        name = _DATABASES[engine] = engine.url.render_as_string(hide_password=False)
    return name


def item_of(application) -> ItemVersion:
    """The item version an application was accepted under (pinned; never changes)."""
    return item_version(application.item_id)


@lru_cache(maxsize=4096)
def _cached(_database: str, item_id: int) -> ItemVersion:
    row = db.session.get(CatalogItem, item_id)
    if row is None:
        raise LookupError(f"no catalog item version {item_id}")
    return ItemVersion(
        row.id,
        row.code,
        row.version,
        row.name,
        row.department,
        row.mode,
        row.legal_days,
        row.promised_days,
        row.instant,
        row.definition,
    )
