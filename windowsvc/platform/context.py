"""What services need from the running app: settings and the configured adapters."""

from dataclasses import dataclass

from flask import current_app

from ..adapters.evidence import EvidenceSource


@dataclass
class Adapters:
    """The adapters wired for this app (replaced in tests by fakes)."""

    calendar: object
    evidence: EvidenceSource


def adapters() -> Adapters:
    """The adapters of the current app."""
    return current_app.extensions["windowsvc.adapters"]


def setting(name: str):
    """A configuration value of the current app."""
    return current_app.config[name]
