"""Departments reached over HTTP (push): the engine calls their API with a locked task.

Protocol: ``POST {endpoint}`` with the task as JSON and header ``Idempotency-Key: <task>:<attempt>``
→ 200 ``{"outcome": "approve"|"deny"|"correction", "comment", "result", "missing"}``.
Anything else (timeouts, 5xx, malformed answers) is a failure the dispatcher retries.
"""

import json

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


class PushFailed(Exception):
    """The department's system did not give a usable answer."""


def _session(retries: int) -> requests.Session:
    session = requests.Session()
    retry = Retry(
        total=retries,
        connect=retries,
        read=0,
        backoff_factor=0.2,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"POST"}),
    )
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


class HttpDepartmentPush:
    """Calls one department's HTTP endpoint with explicit timeouts and connection retries."""

    def __init__(self, endpoint: str, token: str | None = None, timeout=(3.0, 30.0), retries=2):
        self.endpoint = endpoint
        self.timeout = timeout
        self.session = _session(retries)
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def handle(self, task: dict) -> dict:
        """The department's decision on the task."""
        body = json.loads(json.dumps(task, default=str))
        try:
            response = self.session.post(
                self.endpoint,
                json=body,
                timeout=self.timeout,
                headers={"Idempotency-Key": f"{task['id']}:{task['attempt']}"},
            )
        except requests.RequestException as exc:
            raise PushFailed(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise PushFailed(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise PushFailed("answer is not JSON") from exc
        if not isinstance(answer, dict) or answer.get("outcome") not in (
            "approve",
            "deny",
            "correction",
        ):
            raise PushFailed("answer has no valid outcome")
        return answer


class LogNotifier:
    """Writes notices as JSON lines to a file (the default: proof of what was sent and when)."""

    def __init__(self, path):
        self.path = path

    def send(self, message: dict) -> None:
        """Append the notice."""
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(json.dumps(message, ensure_ascii=False, default=str) + "\n")


class HttpNotifier:
    """Posts notices to a notification gateway (SMS/短信平台, 浙里办 message centre...)."""

    def __init__(self, url: str, timeout=(3.0, 10.0)):
        self.url = url
        self.timeout = timeout
        self.session = _session(2)

    def send(self, message: dict) -> None:
        """POST the notice; non-2xx is an error so the outbox retries."""
        response = self.session.post(
            self.url,
            json=message,
            timeout=self.timeout,
            headers={"Idempotency-Key": message["key"]},
        )
        if not 200 <= response.status_code < 300:
            raise PushFailed(f"HTTP {response.status_code}")
