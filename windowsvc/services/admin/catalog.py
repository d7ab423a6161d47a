"""Catalog use cases: load item files into versioned rows, list and read items."""

from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select

from ... import catalog
from ...catalog.versions import item_version
from ...db import write_transaction
from ...extensions import db
from ...models import CatalogItem, Department
from ...platform.errors import NotFound


@dataclass
class LoadReport:
    """What a catalog load did."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    departments: int = 0


def load(path) -> LoadReport:
    """Load a catalog directory; a changed item needs a new version, old versions stay."""
    departments, documents = catalog.read_directory(path)
    report = LoadReport()
    with write_transaction():
        for d in departments:
            db.session.merge(Department(code=d["code"], name=d["name"]))
        report.departments = len(departments)
        db.session.flush()
        known = set(db.session.scalars(select(Department.code)))
        by_code = {d["code"]: d for d in documents}
        for document in sorted(documents, key=lambda d: d["mode"] == "bundle"):
            catalog.check_item(document, known)
            definition = _definition(document, by_code)
            if definition["mode"] != "bundle":
                by_code[document["code"]] = definition
            _store(document, definition, report)
    return report


def _definition(document, by_code):
    if document["mode"] != "bundle":
        return catalog.normalise(document)
    members = []
    for code in document["members"]:
        member = by_code.get(code) or _latest_definition(code)
        if member is None:
            raise catalog.CatalogError(f"{document['code']}: unknown member item {code}")
        if member["mode"] == "bundle":
            raise catalog.CatalogError(f"{document['code']}: a bundle cannot contain a bundle")
        members.append(catalog.normalise(member))
    return catalog.compose_bundle(document, members)


def _latest_definition(code):
    row = latest(code)
    return row.definition if row else None


def _store(document, definition, report):
    code, version = document["code"], document["version"]
    digest = catalog.digest(document)  # the file as written: a bundle keeps its composition
    existing = db.session.scalar(
        select(CatalogItem).where(CatalogItem.code == code, CatalogItem.version == version)
    )
    label = f"{code}@{version}"
    if existing is not None:
        if existing.digest != digest:
            raise catalog.CatalogError(
                f"{label}: already loaded with different content; raise 'version' to change it"
            )
        report.unchanged.append(label)
        return
    db.session.add(
        CatalogItem(
            code=code,
            version=version,
            name=definition["name"],
            department=definition["department"],
            mode=definition["mode"],
            legal_days=definition["legal_days"],
            promised_days=definition["promised_days"],
            instant=definition["instant"],
            definition=definition,
            digest=digest,
        )
    )
    db.session.flush()
    report.added.append(label)


# built once (intake and every item lookup run it with the code bound)
_LATEST_ID = (
    select(CatalogItem.id)
    .where(CatalogItem.code == bindparam("code"))
    .order_by(CatalogItem.version.desc())
    .limit(1)
)


def latest(code: str):
    """The newest version of an item (an ItemVersion), or None."""
    item_id = db.session.scalar(_LATEST_ID, {"code": code})
    return None if item_id is None else item_version(item_id)


def current_items() -> list[CatalogItem]:
    """The newest version of every item, by code."""
    newest = (
        select(CatalogItem.code, func.max(CatalogItem.version).label("version"))
        .group_by(CatalogItem.code)
        .subquery()
    )
    query = (
        select(CatalogItem)
        .join(
            newest,
            (CatalogItem.code == newest.c.code) & (CatalogItem.version == newest.c.version),
        )
        .order_by(CatalogItem.code)
    )
    return list(db.session.scalars(query))


def get(code: str) -> CatalogItem:
    """The newest version of an item; NotFound when the catalog has no such code."""
    item = latest(code)
    if item is None:
        raise NotFound(f"事项 {code} 不存在 (no service item with code {code})")
    return item


def is_empty() -> bool:
    """True when no item has been loaded yet."""
    return db.session.scalar(select(func.count()).select_from(CatalogItem)) == 0


def department_names() -> dict[str, str]:
    """Department code → name."""
    return dict(db.session.execute(select(Department.code, Department.name)).all())
