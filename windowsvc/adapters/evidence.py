"""一证通办: the EvidenceSource port and its adapters.

An evidence source answers "does shared data hold material X for this applicant?" by ID number.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Evidence:
    """A material fetched from shared data."""

    kind: str
    evidence_id: str
    source: str
    fetched_at: datetime


class EvidenceUnavailable(Exception):
    """The material could not be fetched; ``reason`` is shown to the clerk."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class EvidenceSource(Protocol):
    """Port: fetch a kind of material for an applicant, or raise EvidenceUnavailable."""

    def fetch(self, kind: str, applicant: dict) -> Evidence: ...


class NoEvidenceSource:
    """No shared-data source is configured: every evidence-backed material must be handed in."""

    def fetch(self, kind: str, applicant: dict) -> Evidence:
        """Always unavailable, with a reason that says why."""
        raise EvidenceUnavailable("未接入共享数据源, 请申请人提交纸质材料 (no evidence source)")


class InMemoryEvidenceSource:
    """Holds evidence in a dict keyed by (kind, id_number): for tests and the simulator."""

    def __init__(self, records: dict[tuple[str, str], str], clock, name="simulated"):
        self.records = dict(records)
        self.clock = clock
        self.name = name

    def fetch(self, kind: str, applicant: dict) -> Evidence:
        """The stored evidence, or EvidenceUnavailable when the applicant is unknown."""
        evidence_id = self.records.get((kind, applicant.get("id_number", "")))
        if evidence_id is None:
            raise EvidenceUnavailable(f"共享数据中未查到申请人的{kind}记录 (not found)")
        return Evidence(kind, evidence_id, self.name, self.clock())
