"""A gunicorn worker SIGKILLed under load: every retry is served, nothing is lost or doubled.

The clerk's (or the department system's) answer to a request cut off by a dying worker is to send
it again with the same Idempotency-Key (the same worker_id). These tests kill workers while
requests are in flight, retry every request that got no answer, and count.
"""

import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select

from windowsvc.models import Application, Event, Step

TIMEOUT = (5, 30)  # connect, read (seconds)
INTAKE_ITEM = "330100-GG-RSJ-0021"  # 职工参保登记: window intakes accepted on the spot
TASK_ITEM = "330100-XK-SCJG-0001"  # 企业设立登记: one scjg step per case
INTAKES = 150
TASKS = 80
CLIENT_THREADS = 16
KILLS = 3
KILL_AFTER_ANSWERS = 10  # the first kill waits until the load is flowing
KILL_INTERVAL = 0.5  # seconds between kills, while the load goes on
RETRY_WINDOW = 5.0  # "a retry succeeds within a few seconds"
RETRY_PAUSE = 0.2
SETTLE_SECONDS = 30  # bounds every wait for the server to have two workers again
FETCH_ROUNDS = 20
LOCK_SECONDS = 300  # the leases outlive the whole test: a retry always holds a live lock


@dataclass
class Outcome:
    """What the clients saw: answers by request, and the requests that got none."""

    answered: dict = field(default_factory=dict)  # request → response
    unanswered: dict = field(default_factory=dict)  # request → exception text or status
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, request_id, response=None, error=None):
        with self.lock:
            if response is not None:
                self.answered[request_id] = response
            else:
                self.unanswered[request_id] = error


@pytest.fixture
def database(live_server):
    """An engine on the live server's database, to check what the server stored."""
    engine = create_engine(live_server.database_url)
    yield engine
    engine.dispose()


def bearer(server, name):
    """The Authorization header of a named principal of the live server."""
    return {"Authorization": f"Bearer {server.tokens[name]}"}


def workers(server) -> list[int]:
    """The pids of gunicorn's current worker processes (the master's children)."""
    master = server.process.pid
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in path.read_text().split()]


def wait_for_two_workers(server):
    """Until gunicorn has replaced every killed worker and a request is answered."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        if len(workers(server)) == 2:
            try:
                if requests.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not get back to two workers\n{server.log_tail()}")


def kill_workers_under_load(server, outcome: Outcome, stop: threading.Event) -> list[int]:
    """SIGKILL a worker KILLS times, KILL_INTERVAL apart, once answers flow; the pids killed."""
    killed = []
    deadline = time.monotonic() + SETTLE_SECONDS
    while len(outcome.answered) < KILL_AFTER_ANSWERS and time.monotonic() < deadline:
        if stop.is_set():
            return killed
        time.sleep(0.01)
    for _ in range(KILLS):
        if stop.is_set():
            break
        alive = [pid for pid in workers(server) if pid not in killed]
        if alive:
            os.kill(alive[0], signal.SIGKILL)
            killed.append(alive[0])
        time.sleep(KILL_INTERVAL)
    return killed


def under_kills(server, outcome, requests_to_send, send):
    """Send every request from CLIENT_THREADS threads while workers are being killed."""

    def attempt(request_id):
        try:
            outcome.note(request_id, response=send(request_id))
        except requests.RequestException as exc:  # the connection died with its worker
            outcome.note(request_id, error=type(exc).__name__)

    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as killer:
        kills = killer.submit(kill_workers_under_load, server, outcome, stop)
        with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
            list(pool.map(attempt, requests_to_send))
        stop.set()
        killed = kills.result(SETTLE_SECONDS)
    wait_for_two_workers(server)
    return killed


def retry_until(send, accept, window):
    """Send again every RETRY_PAUSE until ``accept(response)`` or ``window`` seconds pass."""
    deadline = time.monotonic() + window
    last = None
    while True:
        try:
            last = send()
            if accept(last):
                return last
        except requests.RequestException as exc:
            last = exc
        if time.monotonic() >= deadline:
            return last
        time.sleep(RETRY_PAUSE)


class TestKilledWorkerDuringIntake:
    def test_every_cut_off_intake_retried_with_its_key_gets_its_one_case_within_seconds(
        self, live_server, database
    ):
        item = requests.get(f"{live_server.url}/api/v1/items/{INTAKE_ITEM}", timeout=TIMEOUT)
        required = [m["code"] for m in item.json()["materials"] if m["required"]]
        run = uuid.uuid4().hex[:8]
        # one applicant phone per key: the stored cases say which key made them
        phones = {f"crash-{run}-{i}": f"139{i:08d}" for i in range(INTAKES)}

        def submit(key):
            body = {
                "item_code": INTAKE_ITEM,
                "channel": "window",
                "applicant": {
                    "type": "person",
                    "name": "王五",
                    "id_type": "resident_id",
                    "id_number": "11010519491231002X",
                    "phone": phones[key],
                },
                "materials": [{"code": c} for c in required],
            }
            headers = {**bearer(live_server, "window"), "Idempotency-Key": key}
            return requests.post(
                f"{live_server.url}/api/v1/applications",
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={**headers, "Content-Type": "application/json"},
                timeout=TIMEOUT,
            )

        outcome = Outcome()
        killed = under_kills(live_server, outcome, list(phones), submit)
        acknowledged = {
            key: r.json()["number"] for key, r in outcome.answered.items() if r.status_code == 201
        }
        cut_off = {
            key: r.status_code for key, r in outcome.answered.items() if r.status_code != 201
        }
        cut_off.update(outcome.unanswered)
        assert len(killed) == KILLS
        assert cut_off, "no request was in flight when the workers died: nothing was tested"

        retries = {}
        with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
            answers = pool.map(
                lambda key: retry_until(
                    lambda: submit(key), lambda r: r.status_code != 409, RETRY_WINDOW
                ),
                list(cut_off),
            )
            retries = dict(zip(list(cut_off), answers, strict=True))
        refused = {
            key: getattr(r, "status_code", repr(r))
            for key, r in retries.items()
            if getattr(r, "status_code", None) != 201
        }
        replayed = [
            k
            for k, r in retries.items()
            if k not in refused and r.headers.get("Idempotent-Replayed") == "true"
        ]
        acknowledged.update({k: r.json()["number"] for k, r in retries.items() if k not in refused})

        by_phone = {phone: key for key, phone in phones.items()}
        with database.connect() as connection:
            stored = connection.execute(
                select(Application.number, Application.applicant).where(
                    Application.item_code == INTAKE_ITEM
                )
            ).all()
        cases = Counter(by_phone.get(a["phone"]) for _number, a in stored)
        cases.pop(None, None)  # cases of other tests
        stored_numbers = {number for number, _a in stored}
        lost = [key for key, number in acknowledged.items() if number not in stored_numbers]
        doubled = [key for key, count in cases.items() if count > 1]
        print(
            f"\n[{live_server.backend}] intake crash: {INTAKES} keys, {len(killed)} workers killed,"
            f" {len(cut_off)} cut off ({Counter(map(str, cut_off.values()))}), retried:"
            f" {len(retries) - len(refused)} served ({len(replayed)} replayed),"
            f" refused after {RETRY_WINDOW:.0f} s {len(refused)}; acknowledged lost {len(lost)},"
            f" keys with two cases {len(doubled)}"
        )
        assert refused == {}, f"{refused}\n{live_server.log_tail()}"
        assert lost == []
        assert doubled == []
        assert sorted(cases) == sorted(phones), "every key has its case"


class TestKilledWorkerDuringCompletion:
    def test_completions_cut_off_and_retried_complete_each_task_once_and_every_204_holds(
        self, live_server, database
    ):
        item = requests.get(f"{live_server.url}/api/v1/items/{TASK_ITEM}", timeout=TIMEOUT)
        definition = item.json()
        required = [m["code"] for m in definition["materials"] if m["required"]]
        topic = definition["stages"][0][0]["topic"]
        run = uuid.uuid4().hex[:8]

        def intake(i):
            body = {
                "item_code": TASK_ITEM,
                "channel": "window",
                "applicant": {
                    "type": "person",
                    "name": "赵六",
                    "id_type": "resident_id",
                    "id_number": "11010519491231002X",
                    "phone": "13812345678",
                },
                "materials": [{"code": c} for c in required],
            }
            headers = {**bearer(live_server, "window"), "Idempotency-Key": f"task-{run}-{i}"}
            response = requests.post(
                f"{live_server.url}/api/v1/applications",
                json=body,
                headers=headers,
                timeout=TIMEOUT,
            )
            assert response.status_code == 201, response.text
            return response.json()["number"]

        with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
            numbers = set(pool.map(intake, range(TASKS)))
        worker = f"crash-{run}"
        held = {}
        for _round in range(FETCH_ROUNDS):
            response = requests.post(
                f"{live_server.url}/api/v1/tasks/fetch-and-lock",
                json={
                    "worker_id": worker,
                    "max_tasks": 100,
                    "lock_seconds": LOCK_SECONDS,
                    "topics": [topic],
                },
                headers=bearer(live_server, "scjg"),
                timeout=TIMEOUT,
            )
            assert response.status_code == 200, response.text
            for task in response.json():
                if task["application"]["number"] in numbers:
                    held[task["id"]] = task["application"]["number"]
                else:  # another test's task: give it back at once
                    requests.post(
                        f"{live_server.url}/api/v1/tasks/{task['id']}/unlock",
                        json={"worker_id": worker},
                        headers=bearer(live_server, "scjg"),
                        timeout=TIMEOUT,
                    )
            if len(held) == TASKS:
                break
        assert len(held) == TASKS, f"held {len(held)} of {TASKS}"

        def complete(task_id):
            return requests.post(
                f"{live_server.url}/api/v1/tasks/{task_id}/complete",
                json={"worker_id": worker, "outcome": "approve", "result": {"by": worker}},
                headers=bearer(live_server, "scjg"),
                timeout=TIMEOUT,
            )

        outcome = Outcome()
        killed = under_kills(live_server, outcome, list(held), complete)
        accepted = {t for t, r in outcome.answered.items() if r.status_code == 204}
        cut_off = set(held) - accepted
        # the load may end before the last kill (a killed worker's connections fail fast): at
        # least one worker died under it, and something was cut off, or nothing was tested
        assert 1 <= len(killed) <= KILLS
        assert cut_off, "no completion was in flight when the workers died: nothing was tested"

        # a retry is answered 204 (the first attempt never committed) or 409 (it did)
        settled = {}
        for task_id in sorted(cut_off):
            answer = retry_until(
                lambda task_id=task_id: complete(task_id),
                lambda r: r.status_code in (204, 409),
                RETRY_WINDOW,
            )
            settled[task_id] = getattr(answer, "status_code", repr(answer))
            if settled[task_id] == 204:
                accepted.add(task_id)

        with database.connect() as connection:
            states = dict(
                connection.execute(
                    select(Step.id, Step.state).where(Step.id.in_([int(t) for t in held]))
                ).all()
            )
            events = connection.execute(
                select(Application.number, Event.details)
                .join(Application, Application.id == Event.application_id)
                .where(Event.type == "step.completed")
            ).all()
        completions = Counter(
            (number, details["step"]) for number, details in events if number in numbers
        )
        not_persisted = [t for t in accepted if states[int(t)] != "completed"]
        print(
            f"\n[{live_server.backend}] completion crash: {TASKS} tasks, {len(killed)} workers"
            f" killed, {len(cut_off)} cut off, retries {Counter(settled.values())};"
            f" 204s not persisted {len(not_persisted)},"
            f" double completions {sum(1 for c in completions.values() if c > 1)}"
        )
        assert set(settled.values()) <= {204, 409}, f"{settled}\n{live_server.log_tail()}"
        assert not_persisted == []
        assert set(states.values()) == {"completed"}
        assert len(completions) == TASKS
        assert all(count == 1 for count in completions.values()), completions
