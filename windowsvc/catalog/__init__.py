"""The service-item catalog: reading, validating and composing item files (no database here)."""

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path

import jsonschema

from ..rules.chain import canonical

DEMO_DIR = Path(__file__).parent / "demo"


class CatalogError(ValueError):
    """A catalog file is invalid; the message names the file and the problem."""


@cache
def item_schema() -> dict:
    """The JSON Schema every item file must satisfy."""
    text = resources.files(__package__).joinpath("catalog-item.schema.json").read_text("utf-8")
    return json.loads(text)


def digest(document: dict) -> str:
    """Content digest of an item file, to tell an unchanged reload from a changed one."""
    return hashlib.sha256(canonical(document)).hexdigest()


def read_directory(path) -> tuple[list[dict], list[dict]]:
    """Departments and item documents of a catalog directory, each item schema-validated."""
    path = Path(path)
    if not path.is_dir():
        raise CatalogError(f"{path}: not a directory")
    departments_file = path / "departments.json"
    departments = _read_json(departments_file) if departments_file.exists() else []
    items_dir = path / "items" if (path / "items").is_dir() else path
    items = []
    validator = jsonschema.Draft202012Validator(item_schema())
    for file in sorted(items_dir.glob("*.json")):
        if file.name == "departments.json":
            continue
        document = _read_json(file)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "(root)"
            raise CatalogError(f"{file.name}: {where}: {errors[0].message}")
        items.append(document)
    return departments, items


def _read_json(file: Path):
    try:
        return json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{file.name}: {exc}") from exc


def check_item(document: dict, department_codes: set[str]) -> None:
    """Rules a schema cannot say: known departments, unique step codes, limits that fit."""
    code = document["code"]
    if document["department"] not in department_codes:
        raise CatalogError(f"{code}: unknown department {document['department']!r}")
    if document["promised_days"] > document["legal_days"]:
        raise CatalogError(f"{code}: promised_days exceeds legal_days")
    if document.get("instant") and document["promised_days"] != 0:
        raise CatalogError(f"{code}: an instant item (即办件) has promised_days 0")
    seen = set()
    for stage in document.get("stages", []):
        for step in stage:
            if step["department"] not in department_codes:
                raise CatalogError(f"{code}: step {step['code']}: unknown department")
            if step["code"] in seen:
                raise CatalogError(f"{code}: duplicate step code {step['code']!r}")
            seen.add(step["code"])
    material_codes = [m["code"] for m in document.get("materials", [])]
    if len(material_codes) != len(set(material_codes)):
        raise CatalogError(f"{code}: duplicate material code")


def normalise(document: dict) -> dict:
    """Fill the schema defaults so stored definitions are explicit."""
    out = dict(document)
    out.setdefault("instant", False)
    out.setdefault("delivery_methods", ["window", "express", "electronic"])
    out["materials"] = [
        {"required": True, "evidence": None, "deferrable": False, **m}
        for m in document.get("materials", [])
    ]
    return out


def compose_bundle(document: dict, members: list[dict]) -> dict:
    """一件事: stage i runs stage i of every member; materials are the union by code."""
    out = normalise(document)
    materials, stages = {}, []
    for member in members:
        for m in member["materials"]:
            materials.setdefault(m["code"], m)
        for i, stage in enumerate(member["stages"]):
            if len(stages) <= i:
                stages.append([])
            stages[i].extend(
                {**step, "code": f"{member['code']}/{step['code']}", "item": member["code"]}
                for step in stage
            )
    out["materials"] = list(materials.values())
    out["stages"] = stages
    out["members"] = [
        {"code": m["code"], "version": m["version"], "name": m["name"]} for m in members
    ]
    return out


def departments_of(definition: dict) -> set[str]:
    """Every department with a step in the item (plus the lead department)."""
    found = {definition["department"]}
    for stage in definition.get("stages", []):
        found.update(step["department"] for step in stage)
    return found
