"""Load that behaves like real clients while the database goes away and comes back.

- Window clerks submit applications, each with its own Idempotency-Key, and retry the same key
  with the same body after a 503, a 409 (the key's attempt still running) or a broken
  connection, until it is answered 201: that 201 is the acknowledgement.
- Staff read the acknowledged cases back (GET, an idempotent read).
- A load balancer polls /readyz.

Every answer is counted by status; the 5xx bodies are kept for the assertion messages.
"""

import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

from tests.e2e.conftest import BIN
from tests.factories import INSTANT, INSTANT_REQUIRED, applicant, bearer

TIMEOUT = (3, 30)  # connect, read
RETRY_PAUSE = 0.2  # a client's pause before retrying the same key
READYZ_EVERY = 0.05
RETRYABLE = (409, 503)


def intake_body() -> dict:
    """A complete window application for the instant item (accepted at once)."""
    return {
        "item_code": INSTANT,
        "channel": "window",
        "applicant": applicant(),
        "materials": [{"code": code} for code in INSTANT_REQUIRED],
    }


@dataclass
class Tally:
    """What the clients saw: answers by status, acknowledgements, odd answers."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)  # by "GET 200", "POST 503"...
    connection_errors: Counter = field(default_factory=Counter)
    acknowledged: dict = field(default_factory=dict)  # Idempotency-Key → number
    # (sent, answered): monotonic times of each acknowledged key's successful attempt
    attempts: list = field(default_factory=list)
    replays: int = 0
    bad: list = field(default_factory=list)  # 5xx other than a problem+json 503 with Retry-After
    keys_given_up: list = field(default_factory=list)

    def answer(self, method: str, response) -> None:
        with self.lock:
            self.statuses[f"{method} {response.status_code}"] += 1
            if response.status_code >= 500 and not _proper_503(response):
                self.bad.append(f"{method} {response.url} {response.status_code} {response.text}")

    def broken(self, method: str, error: Exception) -> None:
        with self.lock:
            self.connection_errors[f"{method} {type(error).__name__}"] += 1

    def count(self, prefix: str, status: int) -> int:
        return self.statuses[f"{prefix} {status}"]

    def summary(self) -> str:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        errors = dict(self.connection_errors) or "none"
        return f"answers {answers}; connection errors {errors}; replays {self.replays}"


def _proper_503(response) -> bool:
    return (
        response.status_code == 503
        and response.headers.get("Content-Type", "").startswith("application/problem+json")
        and "Retry-After" in response.headers
    )


class Load:
    """Clerks submitting, staff reading and a /readyz poller, on threads, until ``stop``."""

    def __init__(self, urls: list[str], token: str, clerks: int = 6, readers: int = 2):
        self.urls = urls
        self.token = token
        self.clerks = clerks
        self.readers = readers
        self.tally = Tally()
        self.readyz: list[tuple[float, int]] = []  # (monotonic time, status) at each change
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> "Load":
        targets = [self._clerk] * self.clerks + [self._reader] * self.readers + [self._readyz]
        for index, target in enumerate(targets):
            thread = threading.Thread(target=target, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self, seconds: float = 60) -> None:
        """Stop issuing new work; a clerk still retrying a key finishes it first."""
        self.stopping.set()
        deadline = time.monotonic() + seconds
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        alive = [t for t in self.threads if t.is_alive()]
        assert not alive, f"{len(alive)} load threads still running; {self.tally.summary()}"

    def acknowledgements_between(self, start: float, end: float) -> int:
        """Acknowledgements answered between two monotonic times."""
        with self.tally.lock:
            return sum(1 for _, answered in self.tally.attempts if start < answered <= end)

    def first_write_after(self, moment: float) -> float | None:
        """When the first request sent after ``moment`` was acknowledged (None: none yet)."""
        with self.tally.lock:
            later = [answered for sent, answered in self.tally.attempts if sent > moment]
        return min(later) if later else None

    def _url(self, index: int) -> str:
        return self.urls[index % len(self.urls)]

    def _clerk(self, index: int) -> None:
        session = requests.Session()
        body = intake_body()
        while not self.stopping.is_set():
            key = f"outage-{uuid.uuid4()}"
            self._submit_until_acknowledged(session, self._url(index), key, body)

    def _submit_until_acknowledged(self, session, url, key, body, give_up_after=90.0) -> None:
        headers = {**bearer(self.token), "Idempotency-Key": key}
        deadline = time.monotonic() + give_up_after
        while time.monotonic() < deadline:
            sent = time.monotonic()
            try:
                response = session.post(
                    f"{url}/api/v1/applications", json=body, headers=headers, timeout=TIMEOUT
                )
            except requests.RequestException as error:
                self.tally.broken("POST", error)
                time.sleep(RETRY_PAUSE)
                continue
            self.tally.answer("POST", response)
            if response.status_code == 201:
                with self.tally.lock:
                    number = response.json()["number"]
                    earlier = self.tally.acknowledged.setdefault(key, number)
                    assert earlier == number, f"key {key} answered {earlier} and {number}"
                    self.tally.attempts.append((sent, time.monotonic()))
                    if response.headers.get("Idempotent-Replayed") == "true":
                        self.tally.replays += 1
                return
            if response.status_code not in RETRYABLE:
                return  # an answer the test reports (bad, or counted by status)
            time.sleep(RETRY_PAUSE)
        with self.tally.lock:
            self.tally.keys_given_up.append(key)

    def _reader(self, index: int) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            with self.tally.lock:
                numbers = list(self.tally.acknowledged.values())[-20:]
            if not numbers:
                time.sleep(0.05)
                continue
            for number in numbers:
                if self.stopping.is_set():
                    return
                try:
                    response = session.get(
                        f"{self._url(index)}/api/v1/applications/{number}",
                        headers=bearer(self.token),
                        timeout=TIMEOUT,
                    )
                except requests.RequestException as error:
                    self.tally.broken("GET", error)
                    time.sleep(RETRY_PAUSE)
                    continue
                self.tally.answer("GET", response)
                if response.status_code == 503:
                    time.sleep(RETRY_PAUSE)

    def _readyz(self, index: int) -> None:
        session = requests.Session()
        last = None
        while not self.stopping.is_set():
            try:
                status = session.get(f"{self._url(index)}/readyz", timeout=TIMEOUT).status_code
            except requests.RequestException:
                status = 0  # no answer at all
            if status != last:
                self.readyz.append((time.monotonic(), status))
                last = status
            time.sleep(READYZ_EVERY)

    def readyz_statuses(self) -> list[int]:
        """The /readyz statuses in the order they changed."""
        return [status for _, status in self.readyz]


class Background:
    """``windowsvc dispatch`` and ``windowsvc sweep --every 1`` as the services they are."""

    def __init__(self, env: dict, workdir):
        self.logs = {name: workdir / f"{name}.log" for name in ("dispatch", "sweep")}
        commands = {
            "dispatch": ["dispatch", "--interval", "0.2"],
            "sweep": ["sweep", "--every", "1"],
        }
        self.processes = {}
        for name, args in commands.items():
            with open(self.logs[name], "wb") as log:
                self.processes[name] = subprocess.Popen(
                    [str(BIN / "windowsvc"), *args],
                    cwd=workdir,
                    env={**env, "PYTHONUNBUFFERED": "1"},  # each round's line as it happens
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )

    def sweeps(self) -> int:
        """How many sweep rounds have reported so far."""
        text = self.logs["sweep"].read_text(errors="replace")
        return text.count("deemed accepted ")

    def dead(self) -> dict:
        return {
            name: f"exit {p.returncode}: {self.logs[name].read_text(errors='replace')[-2000:]}"
            for name, p in self.processes.items()
            if p.poll() is not None
        }

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def stored_cases(cluster) -> tuple[dict, int]:
    """Idempotency-Key → number as the database recorded them, and the number of cases."""
    rows = cluster.sql(
        "SELECT key || ' ' || (response_body->>'number') FROM idempotency_keys", "windowsvc"
    )
    keys = dict(line.split(" ", 1) for line in rows.splitlines() if line)
    cases = int(cluster.sql("SELECT count(*) FROM applications", "windowsvc"))
    return keys, cases


def undelivered(cluster) -> int:
    """Outbox messages due and not sent. A message leased when the database went away (its
    ``delivered`` was not recorded) is sent again when its lease runs out: not due before."""
    return int(
        cluster.sql(
            "SELECT count(*) FROM outbox WHERE state <> 'sent' AND next_attempt_at <= now()",
            "windowsvc",
        )
    )


DRAIN_SECONDS = 20.0


def assert_kept_working(background, cluster, log_path) -> None:
    """After the outage: the dispatcher and the sweep still run, the outbox drains, and no
    request met an unhandled error."""
    assert not background.dead(), background.dead()
    deadline = time.monotonic() + DRAIN_SECONDS
    while undelivered(cluster) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert undelivered(cluster) == 0, "the dispatcher stopped delivering the outbox"
    assert "unhandled error" not in log_path.read_text(errors="replace")
