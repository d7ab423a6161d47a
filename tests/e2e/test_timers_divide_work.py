"""Timers that divide work: concurrent `windowsvc sweep` and `windowsvc dispatch --once` processes
over one database do nothing twice, and a wake-up reaches only its department's long polls.

Real processes throughout: the CLI as subprocesses, gunicorn for the long polls.
"""

import json
import subprocess
import threading
import time
import uuid
from collections import Counter

import pytest
import requests
from sqlalchemy import create_engine, func, select

from tests.e2e.conftest import (
    BIN,
    CLI_SECONDS,
    REPO,
    _cli,
    _run_server,
    _throwaway_postgres_database,
)
from tests.e2e.conftest import _server_env as server_env
from tests.factories import FOOD, PARALLEL, PARALLEL_REQUIRED, bearer, intake_body
from windowsvc.config import normalise_database_url
from windowsvc.models import AuditCheckpoint, Event, OutboxMessage, Step

CASES_PER_TIMER = 10  # online (deemed acceptance), expired leases, overdue 容缺: 10 each
PROCESSES = 3  # concurrent sweeps, and concurrent dispatchers
DISPATCH_ROUNDS = 10  # rounds of three dispatchers until the outbox is empty
POLL_SECONDS = 25  # the long polls' wait; both return long before it, woken
WAIT_FOR_POLLS = 20


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'windowsvc.db'}"
        return
    with _throwaway_postgres_database() as url:
        yield url


def _start_all(env, commands):
    """Start every ``windowsvc`` command at once; (returncode, stdout, stderr) of each."""
    processes = [
        subprocess.Popen(
            [str(BIN / "windowsvc"), *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=CLI_SECONDS * 2)
        results.append((process.returncode, out, err))
    return results


def _sweep_counts(stdout: str) -> dict:
    """The numbers a `windowsvc sweep` printed (``deemed accepted 3, ... skipped (…) a,b``)."""
    line = stdout.strip().splitlines()[-1]
    counts = {}
    for part in line.split(", "):
        words = part.split()
        if words[-1].isdigit():
            counts[" ".join(words[:-1])] = int(words[-1])
        elif part.startswith("skipped"):
            counts["skipped"] = words[-1].split(",")
        elif part.startswith("checkpoint"):
            counts["checkpoint"] = words[-1] == "yes"
    return counts


def test_three_sweeps_and_three_dispatchers_do_nothing_twice(database_url, tmp_path):
    notice_log = tmp_path / "notices.jsonl"
    env = {
        **server_env(database_url, 0),
        "WINDOWSVC_NOTICE_LOG": str(notice_log),
        "WINDOWSVC_LOG_LEVEL": "WARNING",
    }
    _cli(env, "init")
    seeded = subprocess.run(
        [str(BIN / "python"), "-m", "tests.e2e.timer_seed", str(CASES_PER_TIMER)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_SECONDS * 2,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr[-4000:]
    due = json.loads(seeded.stdout.strip().splitlines()[-1])
    assert due["leased"] == CASES_PER_TIMER

    sweeps = [("sweep",)] * PROCESSES
    dispatchers = [("dispatch", "--once")] * PROCESSES
    runs = []
    for _round in range(2):  # the second round finds nothing due: it must change nothing
        results = _start_all(env, sweeps + dispatchers)
        for code, out, err in results:
            assert code == 0, f"{out}\n{err[-4000:]}"
        runs.append([_sweep_counts(out) for _code, out, _err in results[:PROCESSES]])
    engine = create_engine(normalise_database_url(database_url))
    with engine.connect() as conn:
        for _round in range(DISPATCH_ROUNDS):  # deliver what the sweeps wrote, three at a time
            pending = conn.scalar(select(func.count()).where(OutboxMessage.state != "sent"))
            conn.rollback()
            if not pending:
                break
            for code, out, err in _start_all(env, dispatchers):
                assert code == 0, f"{out}\n{err[-4000:]}"

        checkpoints = conn.execute(select(AuditCheckpoint.last_event_id)).scalars().all()
        events = conn.execute(select(Event.application_id, Event.type)).all()
        outbox = conn.execute(select(OutboxMessage.dedupe_key, OutboxMessage.state)).all()
        steps_locked = conn.scalar(select(func.count()).where(Step.state == "locked"))
    engine.dispose()

    once_types = ("application.deemed_accepted", "application.terminated")
    per_case = Counter((a, t) for a, t in events if t in once_types or t.startswith("oversight."))
    duplicated_events = sum(n - 1 for n in per_case.values() if n > 1)
    duplicated_checkpoints = sum(n - 1 for n in Counter(checkpoints).values() if n > 1)
    sent_keys = Counter(
        json.loads(line)["key"] for line in notice_log.read_text(encoding="utf-8").splitlines()
    )
    duplicated_notices = sum(n - 1 for n in sent_keys.values() if n > 1)
    first, second = runs
    measured = {
        "deemed_accepted": sum(r.get("deemed accepted", 0) for r in first),
        "terminated": sum(r.get("terminated", 0) for r in first),
        "leases_released": sum(r.get("leases released", 0) for r in first),
        "second_round_effects": sum(
            r.get(k, 0)
            for r in second
            for k in ("deemed accepted", "terminated", "leases released")
        ),
        "timers_skipped_by_a_sweep": sum(len(r.get("skipped", [])) for r in first + second),
        "checkpoints": len(checkpoints),
        "duplicated_checkpoints": duplicated_checkpoints,
        "duplicated_events": duplicated_events,
        "notices_sent": sum(sent_keys.values()),
        "duplicated_notices": duplicated_notices,
    }
    print(f"\n{database_url.split(':')[0]} {json.dumps(measured)}")

    assert duplicated_checkpoints == 0
    assert duplicated_events == 0
    assert duplicated_notices == 0
    kinds = Counter(t for _a, t in events)
    assert kinds["application.deemed_accepted"] == CASES_PER_TIMER
    assert kinds["application.terminated"] == CASES_PER_TIMER
    assert measured["deemed_accepted"] == CASES_PER_TIMER  # reported by exactly one sweep each
    assert measured["terminated"] == CASES_PER_TIMER
    assert measured["leases_released"] == CASES_PER_TIMER
    assert measured["second_round_effects"] == 0
    assert steps_locked == 0
    # every notice went out, once
    assert {s for _k, s in outbox} == {"sent"}
    assert set(sent_keys) == {k for k, _s in outbox}
    assert "ok" in _cli(env, "audit", "verify").splitlines()[-1]


def _fetch(server, department, results):
    response = requests.post(
        f"{server.url}/api/v1/tasks/fetch-and-lock",
        json={"worker_id": f"{department}-poll", "max_tasks": 5, "wait_seconds": POLL_SECONDS},
        headers=bearer(server.tokens[department]),
        timeout=(5, POLL_SECONDS + 10),
    )
    results[department] = response


def _trace(path) -> Counter:
    if not path.exists():
        return Counter()
    return Counter(
        tuple(line.split()[1:]) for line in path.read_text(encoding="utf-8").splitlines()
    )


def _submit(server, body):
    response = requests.post(
        f"{server.url}/api/v1/applications",
        json=body,
        headers={**bearer(server.tokens["window"]), "Idempotency-Key": uuid.uuid4().hex},
        timeout=(5, 30),
    )
    assert response.status_code == 201, f"{response.text[:500]}\n{server.log_tail()}"


@pytest.mark.postgres
def test_a_wakeup_reaches_only_its_departments_polls(tmp_path):
    trace = tmp_path / "wakeups.log"
    with _throwaway_postgres_database() as url:
        server_run = _run_server("postgres", url, tmp_path, {"WINDOWSVC_WAKEUP_TRACE": str(trace)})
        server = next(server_run)
        try:
            results = {}
            polls = {
                d: threading.Thread(target=_fetch, args=(server, d, results), daemon=True)
                for d in ("scjg", "zjj")
            }
            for poll in polls.values():
                poll.start()
            deadline = time.monotonic() + WAIT_FOR_POLLS
            while not (_trace(trace)[("wait", "scjg")] and _trace(trace)[("wait", "zjj")]):
                assert time.monotonic() < deadline, f"polls never waited\n{server.log_tail()}"
                time.sleep(0.05)

            _submit(server, intake_body(FOOD))  # a task for scjg only
            polls["scjg"].join(POLL_SECONDS + 10)
            counts = _trace(trace)
            assert results["scjg"].status_code == 200 and len(results["scjg"].json()) == 1
            assert polls["zjj"].is_alive(), "the zjj poll returned on scjg's work"
            print(
                f"\nafter scjg work: woken scjg {counts[('woken', 'scjg')]}, "
                f"woken zjj {counts[('woken', 'zjj')]}"
            )
            assert counts[("woken", "scjg")] >= 1
            assert counts[("woken", "zjj")] == 0

            _submit(server, intake_body(PARALLEL, materials=PARALLEL_REQUIRED))  # zjj among others
            polls["zjj"].join(POLL_SECONDS + 10)
            counts_after = _trace(trace)
            print(
                f"after zjj work: woken scjg {counts_after[('woken', 'scjg')]}, "
                f"woken zjj {counts_after[('woken', 'zjj')]}"
            )
            assert results["zjj"].status_code == 200 and len(results["zjj"].json()) == 1
            assert counts_after[("woken", "zjj")] >= 1
            # no scjg poll waits any more: the zjj work woke nobody of scjg
            assert counts_after[("woken", "scjg")] == counts[("woken", "scjg")]
        finally:
            next(server_run, None)
