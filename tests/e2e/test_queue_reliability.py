"""The leased task queue over real HTTP: nothing held twice, lost, doubled, or stuck at a join."""

import json
import os
import selectors
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, select

from tests.e2e.conftest import HERE
from windowsvc.models import Application, Event, Step

TIMEOUT = (5, 30)  # connect, read (seconds)
APPLICANT = {
    "type": "person",
    "name": "李四",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "phone": "13812345678",
}
PARALLEL = "330100-XK-ZJJ-0031"  # 建设工程竣工联合验收: zjj + zrzy + xfjy, then zjj
COMPANY = "330100-XK-SCJG-0001"  # 企业设立登记: scjg, one step
STAGE_ZERO_TOPICS = {
    "zjj": "zjj.joint-acceptance.quality",
    "zrzy": "zrzy.joint-acceptance.planning-verification",
    "xfjy": "xfjy.joint-acceptance.fire",
}
INTAKE_THREADS = 16

JOINT_REVIEW = "330100-QT-SCJG-9901"  # loaded by the test: 2 stages of 5 scjg + 5 xfjy steps
DRAIN_DEPARTMENTS = ("scjg", "xfjy")
STEPS_PER_DEPARTMENT = 5  # in each stage
STEPS_PER_STAGE = STEPS_PER_DEPARTMENT * len(DRAIN_DEPARTMENTS)
DRAIN_APPLICATIONS = 50
DRAIN_STEPS = DRAIN_APPLICATIONS * 2 * STEPS_PER_STAGE  # 1,000
POLLERS_PER_DEPARTMENT = 4
DRAIN_LOCK_SECONDS = 5
DRAIN_BATCH = 5
DRAIN_SECONDS = 120
ABANDON_EVERY = 40  # a poller "forgets" these tasks on their first hand-out; the lease runs out

JOINS = 200
JOIN_THREADS = 12

KILLED_TASKS = 3
KILLED_LOCK_SECONDS = 2
RESCUE_SECONDS = 30
SCRIPT_SECONDS = 30


def bearer(server, name):
    """The Authorization header of a named principal of the live server."""
    return {"Authorization": f"Bearer {server.tokens[name]}"}


class Sessions:
    """One requests.Session per thread, all closed at the end."""

    def __init__(self):
        self.local = threading.local()
        self.made = []
        self.lock = threading.Lock()

    def get(self) -> requests.Session:
        """This thread's session."""
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            with self.lock:
                self.made.append(self.local.session)
        return self.local.session

    def close(self):
        """Close every session made."""
        for session in self.made:
            session.close()


@pytest.fixture
def sessions():
    """Per-thread HTTP sessions, closed after the test."""
    made = Sessions()
    yield made
    made.close()


@pytest.fixture
def joint_review(live_server, tmp_path):
    """A joint-review item in the server's catalog: two stages of ten steps (scjg and xfjy)."""
    # many steps per case: pollers complete steps of one case side by side, every stage joins
    stages = [
        [
            {
                "code": f"stage{stage}_{department}_{n}",
                "name": f"联合审查{stage}-{department}-{n}",
                "department": department,
                "topic": f"{department}.joint-review.check",
                "days": 3,
            }
            for department in DRAIN_DEPARTMENTS
            for n in range(STEPS_PER_DEPARTMENT)
        ]
        for stage in range(2)
    ]
    item = {
        "code": JOINT_REVIEW,
        "version": 1,
        "name": "多部门联合审查(队列可靠性测试)",
        "department": "scjg",
        "mode": "parallel",
        "legal_days": 20,
        "promised_days": 10,
        "materials": [{"code": "review_application", "name": "联合审查申请表"}],
        "stages": stages,
    }
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "joint-review.json").write_text(json.dumps(item, ensure_ascii=False))
    live_server.cli("catalog", "load", str(tmp_path))
    return JOINT_REVIEW


@pytest.fixture
def database(live_server):
    """An engine on the live server's database, to check what the server stored."""
    engine = create_engine(live_server.database_url)
    yield engine
    engine.dispose()


def required_materials(server, session, item_code):
    """The codes of the item's required materials (every one is handed in)."""
    response = session.get(f"{server.url}/api/v1/items/{item_code}", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return [m["code"] for m in response.json()["materials"] if m["required"]]


def submit_many(server, sessions, item_codes):
    """Submit one complete window application per item code, concurrently; their numbers."""
    materials = {code: required_materials(server, sessions.get(), code) for code in set(item_codes)}

    def submit(item_code):
        body = {
            "item_code": item_code,
            "channel": "window",
            "applicant": APPLICANT,
            "materials": [{"code": c} for c in materials[item_code]],
        }
        headers = {**bearer(server, "window"), "Idempotency-Key": f"queue-{uuid.uuid4()}"}
        response = sessions.get().post(
            f"{server.url}/api/v1/applications", json=body, headers=headers, timeout=TIMEOUT
        )
        assert response.status_code == 201, f"{response.text[:500]}\n{server.log_tail()}"
        assert response.json()["state"] == "in_progress", response.json()
        return response.json()["number"]

    with ThreadPoolExecutor(max_workers=INTAKE_THREADS) as pool:
        return list(pool.map(submit, item_codes))


def fetch(server, session, department, worker, topics, max_tasks, lock_seconds, wait=0.0):
    """POST fetch-and-lock as the department's system; the tasks handed out."""
    response = session.post(
        f"{server.url}/api/v1/tasks/fetch-and-lock",
        json={
            "worker_id": worker,
            "max_tasks": max_tasks,
            "lock_seconds": lock_seconds,
            "topics": topics,
            "wait_seconds": wait,
        },
        headers=bearer(server, department),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, f"{response.text[:500]}\n{server.log_tail()}"
    return response.json()


def complete(server, session, department, task_id, worker):
    """POST complete (approve) as the department's system; the response."""
    return session.post(
        f"{server.url}/api/v1/tasks/{task_id}/complete",
        json={"worker_id": worker, "outcome": "approve", "result": {"by": worker}},
        headers=bearer(server, department),
        timeout=TIMEOUT,
    )


def expiry(task) -> datetime:
    """The lease end the server gave with a hand-out."""
    return datetime.fromisoformat(task["lock_expires_at"])


def assert_no_tracebacks(server):
    """The server logged no unhandled exception."""
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, server.log_tail()


def stored_steps(database, numbers):
    """The stored steps of these applications: (number, code) → row."""
    wanted = set(numbers)
    query = select(
        Application.number, Step.id, Step.code, Step.stage, Step.state, Step.attempt
    ).join(Application, Application.id == Step.application_id)
    with database.connect() as connection:
        rows = connection.execute(query).all()
    return {(r.number, r.code): r for r in rows if r.number in wanted}


def stored_events(database, numbers, *types):
    """The stored events of these types for these applications, as (number, type, details)."""
    wanted = set(numbers)
    query = (
        select(Application.number, Event.seq, Event.type, Event.details)
        .join(Application, Application.id == Event.application_id)
        .where(Event.type.in_(types))
    )
    with database.connect() as connection:
        rows = connection.execute(query).all()
    return [r for r in rows if r.number in wanted]


def stored_states(database, numbers):
    """The stored state of each of these applications."""
    wanted = set(numbers)
    with database.connect() as connection:
        rows = connection.execute(select(Application.number, Application.state)).all()
    return {r.number: r.state for r in rows if r.number in wanted}


@dataclass(frozen=True)
class HandOut:
    """One task handed to one worker by fetch-and-lock."""

    task_id: str
    number: str
    code: str
    worker: str
    attempt: int
    expires: datetime


@dataclass(frozen=True)
class Report:
    """A worker's complete call on a hand-out and the answer."""

    handout: HandOut
    status: int
    sent_at: datetime


class Ledger:
    """Everything the pollers saw, shared between their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.handouts: list[HandOut] = []
        self.reports: list[Report] = []
        self.done: set[str] = set()

    def handed(self, handout):
        with self.lock:
            self.handouts.append(handout)

    def reported(self, report):
        with self.lock:
            self.reports.append(report)
            if report.status == 204:
                self.done.add(report.handout.task_id)

    def finished(self, total):
        with self.lock:
            return len(self.done) >= total


class TestDrainingTheQueue:
    def test_eight_pollers_drain_a_thousand_steps_each_completed_exactly_once(
        self, live_server, sessions, database, joint_review
    ):
        numbers = set(submit_many(live_server, sessions, [joint_review] * DRAIN_APPLICATIONS))
        topics = {d: [f"{d}.joint-review.check"] for d in DRAIN_DEPARTMENTS}
        ledger = Ledger()
        deadline = time.monotonic() + DRAIN_SECONDS

        def poll(department, worker):
            session = sessions.get()
            while time.monotonic() < deadline and not ledger.finished(DRAIN_STEPS):
                tasks = fetch(
                    live_server,
                    session,
                    department,
                    worker,
                    topics[department],
                    DRAIN_BATCH,
                    DRAIN_LOCK_SECONDS,
                    wait=1,
                )
                for task in tasks:
                    handout = HandOut(
                        task["id"],
                        task["application"]["number"],
                        task["step"]["code"],
                        worker,
                        task["attempt"],
                        expiry(task),
                    )
                    ledger.handed(handout)
                    if task["attempt"] == 1 and int(task["id"]) % ABANDON_EVERY == 0:
                        continue  # never reported: another worker gets it once the lease is over
                    sent_at = datetime.now(UTC)
                    response = complete(live_server, session, department, task["id"], worker)
                    ledger.reported(Report(handout, response.status_code, sent_at))

        workers = [
            (d, f"{d}-poller-{i}") for d in DRAIN_DEPARTMENTS for i in range(POLLERS_PER_DEPARTMENT)
        ]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            for future in [pool.submit(poll, *w) for w in workers]:
                future.result()
        drained_in = time.monotonic() - started

        mine = [h for h in ledger.handouts if h.number in numbers]
        reports = [r for r in ledger.reports if r.handout.number in numbers]
        assert len({h.task_id for h in mine}) == DRAIN_STEPS, (
            f"{len({h.task_id for h in mine})} of {DRAIN_STEPS} steps handed out "
            f"in {drained_in:.1f} s\n{live_server.log_tail()}"
        )
        statuses = Counter(r.status for r in reports)
        assert set(statuses) <= {204, 409}, f"{statuses}\n{live_server.log_tail()}"
        # a 409 is only right for a lease that had run out when the completion was sent
        for report in reports:
            if report.status == 409:
                assert report.sent_at >= report.handout.expires - timedelta(seconds=0.5), report

        by_task = defaultdict(list)
        for handout in mine:
            by_task[handout.task_id].append(handout)
        completed_by = defaultdict(list)
        for report in reports:
            if report.status == 204:
                completed_by[report.handout.task_id].append(report.handout)
        for task_id, handouts in by_task.items():
            handouts.sort(key=lambda h: h.attempt)
            attempts = [h.attempt for h in handouts]
            assert attempts == list(range(1, len(handouts) + 1)), (task_id, handouts)
            for earlier, later in zip(handouts, handouts[1:], strict=False):
                later_start = later.expires - timedelta(seconds=DRAIN_LOCK_SECONDS)
                assert later_start >= earlier.expires, ("two live leases", earlier, later)
            assert completed_by[task_id] == [handouts[-1]], (task_id, handouts)

        steps = stored_steps(database, numbers)
        assert len(steps) == DRAIN_STEPS
        assert Counter(s.state for s in steps.values()) == {"completed": DRAIN_STEPS}
        assert {str(s.id) for s in steps.values()} == set(by_task)
        for step in steps.values():
            assert step.attempt == len(by_task[str(step.id)]), step
        completions = Counter(
            (e.number, e.details["step"])
            for e in stored_events(database, numbers, "step.completed")
        )
        assert set(completions) == set(steps)
        assert set(completions.values()) == {1}
        # each stage ended in exactly one join, after its tenth completion
        record = defaultdict(list)
        for event in stored_events(database, numbers, "step.completed", "stage.opened"):
            record[event.number].append((event.seq, event.type))
        stage = ["stage.opened"] + ["step.completed"] * STEPS_PER_STAGE
        assert {n: [t for _seq, t in sorted(r)] for n, r in record.items()} == {
            n: stage * 2 for n in numbers
        }
        assert set(stored_states(database, numbers).values()) == {"result_ready"}
        assert ABANDON_EVERY > 0 and any(len(h) > 1 for h in by_task.values())
        assert_no_tracebacks(live_server)


def item_stages(server, item_code):
    """The item's stages as the public catalog lists them."""
    response = requests.get(f"{server.url}/api/v1/items/{item_code}", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["stages"]


class TestParallelJoin:
    def test_three_departments_completing_at_the_same_instant_never_lose_the_join(
        self, live_server, sessions, database
    ):
        numbers = submit_many(live_server, sessions, [PARALLEL] * JOINS)
        wanted = set(numbers)
        held = defaultdict(dict)  # number → department → task id
        session = sessions.get()
        for department, topic in STAGE_ZERO_TOPICS.items():
            for _round in range(2 * JOINS // 100 + 5):
                tasks = fetch(
                    live_server, session, department, f"{department}-joiner", [topic], 100, 300
                )
                for task in tasks:
                    held[task["application"]["number"]][department] = task["id"]
                if all(department in held[n] for n in numbers):
                    break
        assert all(len(held[n]) == 3 for n in numbers), "stage 0 not fetched in full"

        def complete_together(number, department, barrier):
            task_id = held[number][department]
            barrier.wait()
            response = complete(
                live_server, sessions.get(), department, task_id, f"{department}-joiner"
            )
            return number, department, response.status_code, response.text[:300]

        jobs = []
        for number in numbers:
            barrier = threading.Barrier(3, timeout=30)
            jobs += [(number, department, barrier) for department in STAGE_ZERO_TOPICS]
        with ThreadPoolExecutor(max_workers=JOIN_THREADS) as pool:
            answers = list(pool.map(lambda job: complete_together(*job), jobs))

        statuses = Counter(status for _n, _d, status, _text in answers)
        odd = [a for a in answers if a[2] != 204]
        steps = stored_steps(database, numbers)
        stuck = [
            n
            for n in numbers
            if all(
                steps[(n, c)].state == "completed"
                for c in (
                    "joint_quality_acceptance",
                    "joint_planning_verification",
                    "joint_fire_acceptance",
                )
            )
            and (n, "joint_acceptance_opinion") not in steps
        ]
        assert not stuck, f"{len(stuck)} applications lost their AND-join: {stuck[:5]}"
        assert statuses == {204: 3 * JOINS}, f"{statuses} {odd[:5]}\n{live_server.log_tail()}"
        assert {n for n, _code in steps} == wanted
        assert Counter(code for _n, code in steps) == {
            "joint_quality_acceptance": JOINS,
            "joint_planning_verification": JOINS,
            "joint_fire_acceptance": JOINS,
            "joint_acceptance_opinion": JOINS,
        }
        opened = Counter(
            (e.number, e.details["stage"]) for e in stored_events(database, numbers, "stage.opened")
        )
        assert set(opened.values()) == {1} and len(opened) == 2 * JOINS
        assert set(stored_states(database, numbers).values()) == {"in_progress"}
        assert_no_tracebacks(live_server)


def read_line(process, seconds):
    """The first line the process prints, waiting at most ``seconds``."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=seconds):
            return None
    return process.stdout.readline()


class TestKilledPoller:
    def test_a_killed_pollers_leases_run_out_and_another_poller_finishes_its_tasks(
        self, live_server, sessions
    ):
        numbers = submit_many(live_server, sessions, [COMPANY] * KILLED_TASKS)
        topic = item_stages(live_server, COMPANY)[0][0]["topic"]
        command = [
            sys.executable,
            str(HERE / "lease_holder.py"),
            live_server.url,
            "doomed",
            topic,
            str(KILLED_TASKS),
            str(KILLED_LOCK_SECONDS),
        ]
        env = {**os.environ, "LEASE_TOKEN": live_server.tokens["scjg"]}
        with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
            try:
                line = read_line(process, SCRIPT_SECONDS)
            finally:
                process.kill()  # SIGKILL: no goodbye, no unlock
                process.wait(timeout=SCRIPT_SECONDS)
        assert line, "the poller printed no tasks"
        doomed = json.loads(line)
        assert sorted(t["application"]["number"] for t in doomed) == sorted(numbers)
        assert {t["attempt"] for t in doomed} == {1}
        first_expiry = {t["id"]: expiry(t) for t in doomed}

        session = sessions.get()
        rescued = {}
        deadline = time.monotonic() + RESCUE_SECONDS
        while len(rescued) < KILLED_TASKS and time.monotonic() < deadline:
            for task in fetch(
                live_server, session, "scjg", "rescuer", [topic], KILLED_TASKS, 60, wait=2
            ):
                rescued[task["id"]] = task
        assert set(rescued) == set(first_expiry), live_server.log_tail()
        for task_id, task in rescued.items():
            assert task["attempt"] == 2
            assert expiry(task) - timedelta(seconds=60) >= first_expiry[task_id]

        late = complete(live_server, session, "scjg", doomed[0]["id"], "doomed")
        assert late.status_code == 409, late.text
        for task_id in rescued:
            response = complete(live_server, session, "scjg", task_id, "rescuer")
            assert response.status_code == 204, response.text
        for number in numbers:
            case = session.get(
                f"{live_server.url}/api/v1/applications/{number}",
                headers=bearer(live_server, "window"),
                timeout=TIMEOUT,
            )
            assert case.json()["state"] == "result_ready", case.json()
            assert [s["state"] for s in case.json()["steps"]] == ["completed"]
        assert_no_tracebacks(live_server)
