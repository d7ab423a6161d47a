"""The published contract files under schemas/, generated from the code (``windowsvc openapi``)."""

import json
from importlib import resources

from .workflows.lifecycle import LIFECYCLE
from .workflows.rectification import RECTIFICATION

WORKFLOWS = [LIFECYCLE, RECTIFICATION]


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def generate(app) -> dict[str, str]:
    """Relative path → file content for every generated artefact."""
    api = app.extensions["windowsvc.api"]
    files = {"openapi.json": _json(api.spec.to_dict())}
    schema = resources.files("windowsvc.catalog").joinpath("catalog-item.schema.json")
    files["catalog-item.schema.json"] = _json(json.loads(schema.read_text("utf-8")))
    for workflow in WORKFLOWS:
        files[f"workflows/{workflow.name}.json"] = _json(workflow.describe())
        files[f"workflows/{workflow.name}.mmd"] = workflow.mermaid()
    return files
