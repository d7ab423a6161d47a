"""一证通办: the EvidenceSource port and its adapters.

An evidence source answers "does shared data hold material X for this applicant?" by ID number.
Protocol of the HTTP adapter (also served by the simulator): ``POST {base}/v1/evidence/lookup``
with ``{"kind", "id_type", "id_number"}`` → 200 ``{"evidence_id", "holder_name", "issued_by"}``,
404 when shared data holds no such material for that person.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


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
    """Port: fetch a kind of material for an applicant, or raise EvidenceUnavailable; and tell
    whether the applicant is flagged untrustworthy (失信) in the credit records."""

    def fetch(self, kind: str, applicant: dict) -> Evidence: ...

    def untrustworthy(self, applicant: dict) -> bool: ...


class NoEvidenceSource:
    """No shared-data source is configured: every evidence-backed material must be handed in."""

    def fetch(self, kind: str, applicant: dict) -> Evidence:
        """Always unavailable, with a reason that says why."""
        raise EvidenceUnavailable("未接入共享数据源, 请申请人提交纸质材料 (no evidence source)")

    def untrustworthy(self, applicant: dict) -> bool:
        """Unknown without a credit source: callers must not assume trust."""
        raise EvidenceUnavailable("未接入信用信息查询, 无法核查失信情况 (no credit source)")


def demo_holders() -> dict:
    """The demo shared data: ID number → {name, holds: [kinds], untrustworthy?}."""
    text = resources.files(__package__).joinpath("demo_evidence.json").read_text("utf-8")
    return json.loads(text)["holders"]


class InMemoryEvidenceSource:
    """Shared data held in a dict (ID number → holder): the simulated source and tests' fake."""

    def __init__(self, holders: dict, clock, name="simulated"):
        self.holders = holders
        self.clock = clock
        self.name = name

    def fetch(self, kind: str, applicant: dict) -> Evidence:
        """The holder's material, or EvidenceUnavailable when shared data has none."""
        number = applicant.get("id_number", "")
        holder = self.holders.get(number)
        if holder is None or kind not in holder["holds"]:
            raise EvidenceUnavailable(f"共享数据中未查到申请人的 {kind} 记录 (not found)")
        return Evidence(kind, f"{kind}:{number}", self.name, self.clock())

    def untrustworthy(self, applicant: dict) -> bool:
        """The credit flag of a known holder; nobody else has a bad record."""
        holder = self.holders.get(applicant.get("id_number", "")) or {}
        return bool(holder.get("untrustworthy"))


class HttpEvidenceSource:
    """Shared data reached over HTTP with explicit timeouts and retries with backoff."""

    def __init__(
        self, base_url: str, clock, token: str | None = None, timeout: float = 3.0, retries: int = 2
    ):
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.timeout = timeout
        self.session = requests.Session()
        retry = Retry(
            total=retries,
            backoff_factor=0.2,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"POST"}),
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def fetch(self, kind: str, applicant: dict) -> Evidence:
        """POST the lookup; a 404 means "not held", anything else failing means "source down"."""
        try:
            response = self.session.post(
                f"{self.base_url}/v1/evidence/lookup",
                json={
                    "kind": kind,
                    "id_type": applicant.get("id_type"),
                    "id_number": applicant.get("id_number"),
                },
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise EvidenceUnavailable(
                f"共享数据源暂不可用, 请提交纸质材料 ({type(exc).__name__})"
            ) from exc
        if response.status_code == 404:
            raise EvidenceUnavailable(f"共享数据中未查到申请人的 {kind} 记录 (not found)")
        if response.status_code != 200:
            raise EvidenceUnavailable(f"共享数据源返回错误 {response.status_code}, 请提交纸质材料")
        try:
            evidence_id = str(response.json()["evidence_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise EvidenceUnavailable("共享数据源应答格式错误, 请提交纸质材料") from exc
        return Evidence(kind, evidence_id, self.base_url, self.clock())

    def untrustworthy(self, applicant: dict) -> bool:
        """Ask the credit records (``POST {base}/v1/credit/lookup`` → ``{"untrustworthy"}``)."""
        try:
            response = self.session.post(
                f"{self.base_url}/v1/credit/lookup",
                json={"id_type": applicant.get("id_type"), "id_number": applicant.get("id_number")},
                timeout=self.timeout,
            )
            response.raise_for_status()
            return bool(response.json()["untrustworthy"])
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise EvidenceUnavailable(f"信用信息查询暂不可用 ({type(exc).__name__})") from exc


def from_config(value: str | None, clock, token: str | None = None, timeout: float = 3.0):
    """The evidence source named by WINDOWSVC_EVIDENCE_SOURCE: none, simulated, or a URL."""
    if not value or value == "none":
        return NoEvidenceSource()
    if value == "simulated":
        return InMemoryEvidenceSource(demo_holders(), clock)
    if value.startswith(("http://", "https://")):
        return HttpEvidenceSource(value, clock, token, timeout)
    raise ValueError(f"WINDOWSVC_EVIDENCE_SOURCE must be none, simulated or a URL, not {value!r}")
