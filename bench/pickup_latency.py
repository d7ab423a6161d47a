"""(c) Pickup latency: a step becomes available → a long-polling worker holds it, over HTTP.

gunicorn (2 workers) on SQLite (gated; on PostgreSQL too when PGHOST is set, reported); three
department workers (zjj, zrzy, xfjy) long-poll fetch-and-lock with wait_seconds 20 and note the
wall-clock time each fetch returns. One
submitter posts complete intakes of the parallel item one at a time; each intake commits three
stage-0 steps, one per worker (three samples). The next intake is posted once all three were
picked up and a short random pause let the workers poll again.

Latency is measured from the ``stage.opened`` event of the intake (the server's wall clock when it
created the steps, just before its commit: an upper bound of commit → held) to the worker's fetch
returning; the same against the 201 arriving at the submitter is shown for reference (a lower
bound: the worker often holds the step before the submitter has its receipt).
"""

import contextlib
import queue
import random
import threading
import time
import uuid
from datetime import datetime

import requests

from .common import (
    HTTP_TIMEOUT,
    PARALLEL_DEPARTMENTS,
    POSTGRES,
    QUICK,
    Result,
    Server,
    intake_body,
    make_app,
    on_postgres,
    percentile,
    prepared,
    report_only,
    scratch_dir,
    wake_pollers,
)

SAMPLES = 60 if QUICK else 201
WARMUP_INTAKES = 3
WAIT_SECONDS = 20
PICKUP_TIMEOUT = 25.0
LOCK_SECONDS = 600
TARGET_P50_MS, TARGET_P99_MS = 20.0, 200.0


def _poller(url, token, department, stop, picked, errors):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    worker = f"pickup-{department}-{uuid.uuid4().hex[:6]}"
    while not stop.is_set():
        try:
            response = session.post(
                f"{url}/api/v1/tasks/fetch-and-lock",
                json={
                    "worker_id": worker,
                    "max_tasks": 1,
                    "lock_seconds": LOCK_SECONDS,
                    "wait_seconds": WAIT_SECONDS,
                },
                timeout=HTTP_TIMEOUT,
            )
            returned = time.time()
            if response.status_code != 200:
                raise RuntimeError(f"fetch {response.status_code}: {response.text[:200]}")
            for task in response.json():
                # the server's "now" when it claimed the step is lock_expires_at - lock_seconds
                claimed = datetime.fromisoformat(task["lock_expires_at"]).timestamp() - LOCK_SECONDS
                picked.put((task["application"]["number"], department, (returned, claimed)))
        except Exception as exc:
            if stop.is_set():
                break  # the server is shutting down under the last long poll
            errors.append(f"{department}: {exc}")
            stop.wait(0.2)
    session.close()


def _stage_opened_times(app, numbers):
    """Server wall-clock time (epoch seconds) of each application's stage-0 ``stage.opened``."""
    from sqlalchemy import select

    from windowsvc.extensions import db
    from windowsvc.models import Application, Event

    with app.app_context():
        rows = db.session.execute(
            select(Application.number, Event.at, Event.details)
            .join(Event, Event.application_id == Application.id)
            .where(Event.type == "stage.opened", Application.number.in_(numbers))
        ).all()
        opened = {
            number: at.timestamp() for number, at, details in rows if details.get("stage") == 0
        }
        db.engine.dispose()
    return opened


def run() -> list[Result]:
    with scratch_dir("pickup") as workdir:
        results = measure(f"sqlite:///{workdir / 'windowsvc.db'}", workdir, "SQLite")
    return results + on_postgres(
        "(c) pickup latency, PostgreSQL",
        lambda url, workdir: measure(url, workdir, "PostgreSQL", POSTGRES)[:2],
    )


def measure(database_url, workdir, backend, group="") -> list[Result]:
    """Pickup latencies on a fresh database at ``database_url``: p50 and p99 first."""
    url, window_token, tokens = prepared(database_url, workdir)
    intakes = -(-SAMPLES // len(PARALLEL_DEPARTMENTS))
    submitted = {}  # number -> (sent, 201 received)
    picked_at = {}  # (number, department) -> fetch returned
    errors = []
    with Server(url, workdir) as server:
        stop = threading.Event()
        picked = queue.Queue()
        pollers = [
            threading.Thread(
                target=_poller,
                args=(server.url, tokens[d], d, stop, picked, errors),
                name=f"pickup-{d}",
                daemon=True,
            )
            for d in PARALLEL_DEPARTMENTS
        ]
        for thread in pollers:
            thread.start()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {window_token}"
        rng = random.Random(20261121)
        try:
            time.sleep(0.5)  # the pollers are waiting
            for serial in range(WARMUP_INTAKES + intakes):
                sent = time.time()
                response = session.post(
                    f"{server.url}/api/v1/applications",
                    json=intake_body(serial),
                    headers={"Idempotency-Key": f"pickup-{serial}"},
                    timeout=HTTP_TIMEOUT,
                )
                received = time.time()
                if response.status_code != 201:
                    raise RuntimeError(f"intake {response.status_code}: {response.text[:300]}")
                number = response.json()["number"]
                if serial >= WARMUP_INTAKES:
                    submitted[number] = (sent, received)
                waiting = set(PARALLEL_DEPARTMENTS)
                deadline = time.monotonic() + PICKUP_TIMEOUT
                while waiting:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise RuntimeError(f"{number}: not picked up by {sorted(waiting)}")
                    got_number, department, returned = picked.get(timeout=left)
                    picked_at[(got_number, department)] = returned
                    if got_number == number:
                        waiting.discard(department)
                time.sleep(rng.uniform(0.02, 0.06))  # the workers are polling again
        finally:
            stop.set()
            session.close()
            with contextlib.suppress(Exception):
                wake_pollers(server.url, window_token, "pickup-stop")
            for thread in pollers:
                thread.join(5)
            server.stop()
            for thread in pollers:
                thread.join(HTTP_TIMEOUT)
    opened = _stage_opened_times(make_app(url, workdir), list(submitted))
    from_commit, from_201, to_claim, claim_to_held = [], [], [], []
    by_number = {}
    for (number, _department), (returned, claimed) in picked_at.items():
        if number not in submitted:
            continue
        by_number.setdefault(number, []).append((returned - opened[number]) * 1000)
        from_commit.append((returned - opened[number]) * 1000)
        from_201.append((returned - submitted[number][1]) * 1000)
        to_claim.append((claimed - opened[number]) * 1000)
        claim_to_held.append((returned - claimed) * 1000)
    by_order = [sorted(values) for values in by_number.values()]
    order_p50 = " | ".join(
        f"{percentile([v[i] for v in by_order if len(v) > i], 0.5):.1f}"
        for i in range(len(PARALLEL_DEPARTMENTS))
    )
    p50, p99 = percentile(from_commit, 0.5), percentile(from_commit, 0.99)
    r50, r99 = percentile(from_201, 0.5), percentile(from_201, 0.99)
    n = len(from_commit)
    note = f"errors: {errors[:2]}" if errors else ""
    return [
        Result(
            f"(c) pickup latency p50, long poll over HTTP, {backend}, n={n}",
            f"{p50:.1f} ms",
            report_only(f"<= {TARGET_P50_MS:.0f} ms", group),
            "-",
            None if group else p50 <= TARGET_P50_MS,
            note,
            group,
        ),
        Result(
            f"(c) pickup latency p99, long poll over HTTP, {backend}, n={n}",
            f"{p99:.1f} ms",
            report_only(f"<= {TARGET_P99_MS:.0f} ms", group),
            "-",
            None if group else p99 <= TARGET_P99_MS,
            group=group,
        ),
        Result(
            "(c) same, measured from the 201 at the submitter (p50 / p99)",
            f"{r50:.1f} / {r99:.1f} ms",
            "-",
            "-",
            None,
        ),
        Result(
            "(c) p50 split: stage.opened → claimed (server) | claimed → held (worker)",
            f"{percentile(to_claim, 0.5):.1f} | {percentile(claim_to_held, 0.5):.1f} ms",
            "-",
            "-",
            None,
        ),
        Result(
            "(c) p50 by pickup order within one intake: 1st | 2nd | 3rd department",
            f"{order_p50} ms",
            "-",
            "-",
            None,
        ),
    ]
