"""(a) End-to-end lifecycles per second over HTTP: gunicorn (2 workers, gthread) on SQLite
(gated) and on PostgreSQL when PGHOST is set (reported).

One lifecycle: a window thread POSTs a complete intake of the parallel item → the three stage-0
steps are fetched and completed by three department systems (zjj, zrzy, xfjy; native
fetch-and-lock with long polling, each completing a fetched batch on 4 threads) → zjj fetches
and completes the stage-1 step → a window thread GETs the application for its version and POSTs
deliver with If-Match. A few window threads run concurrently; the rate is lifecycles delivered /
wall time of the run.
"""

import contextlib
import queue
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from .common import (
    HTTP_TIMEOUT,
    PARALLEL_DEPARTMENTS,
    POSTGRES,
    QUICK,
    Result,
    Server,
    intake_body,
    on_postgres,
    prepared,
    report_only,
    scratch_dir,
    wake_pollers,
)

LIFECYCLES = 60 if QUICK else 200
WARMUP = 10
WINDOW_THREADS = 4
POLL_WAIT_SECONDS = 5
MAX_TASKS = 10
# A department's system works on the tasks of a fetched batch concurrently, like any worker
# pool; the note shows the share of the run each department spent completing its batches.
COMPLETING_THREADS = 4
RUN_DEADLINE_SECONDS = 60 if QUICK else 150
TARGET = 30.0


class Failed(RuntimeError):
    pass


def _check(response, *expected):
    if response.status_code not in expected:
        raise Failed(
            f"{response.request.method} {response.url} → {response.status_code}: "
            f"{response.text[:300]}"
        )
    return response


class Harness:
    """Department pollers and window threads against one server."""

    def __init__(self, url, window_token, department_tokens):
        self.url = url
        self.window_token = window_token
        self.department_tokens = department_tokens
        self.stop = threading.Event()
        self.deliverable = queue.Queue()
        self.errors = []
        self.lock = threading.Lock()
        self.completing = dict.fromkeys(PARALLEL_DEPARTMENTS, 0.0)  # seconds spent completing
        self.pollers = [
            threading.Thread(target=self._poll, args=(d,), name=f"poller-{d}", daemon=True)
            for d in PARALLEL_DEPARTMENTS
        ]

    def _error(self, exc):
        with self.lock:
            self.errors.append(f"{threading.current_thread().name}: {exc}")

    def _poll(self, department):
        """One department's system: fetch a batch, work on its tasks concurrently, repeat."""
        fetcher = requests.Session()
        fetcher.headers["Authorization"] = f"Bearer {self.department_tokens[department]}"
        local = threading.local()
        worker = f"bench-{department}-{uuid.uuid4().hex[:6]}"

        def complete(task):
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
                session.headers["Authorization"] = fetcher.headers["Authorization"]
            _check(
                session.post(
                    f"{self.url}/api/v1/tasks/{task['id']}/complete",
                    json={"worker_id": worker, "outcome": "approve"},
                    timeout=HTTP_TIMEOUT,
                ),
                204,
            )
            if task["step"]["stage"] == 1:
                self.deliverable.put(task["application"]["number"])

        with ThreadPoolExecutor(COMPLETING_THREADS, thread_name_prefix=department) as pool:
            while not self.stop.is_set():
                try:
                    fetched = _check(
                        fetcher.post(
                            f"{self.url}/api/v1/tasks/fetch-and-lock",
                            json={
                                "worker_id": worker,
                                "max_tasks": MAX_TASKS,
                                "lock_seconds": 120,
                                "wait_seconds": POLL_WAIT_SECONDS,
                            },
                            timeout=HTTP_TIMEOUT,
                        ),
                        200,
                    ).json()
                    started = time.perf_counter()
                    for done in [pool.submit(complete, task) for task in fetched]:
                        done.result()
                    with self.lock:
                        self.completing[department] += time.perf_counter() - started
                except Exception as exc:  # recorded and reported; the poller keeps going
                    if self.stop.is_set():
                        break  # the server is shutting down under the last long poll
                    self._error(exc)
                    self.stop.wait(0.2)
        fetcher.close()

    def start(self):
        for thread in self.pollers:
            thread.start()

    def close(self, server):
        self.stop.set()
        with contextlib.suppress(Exception):
            wake_pollers(self.url, self.window_token, "http-stop")
        for thread in self.pollers:
            thread.join(POLL_WAIT_SECONDS + 1)
        server.stop()
        for thread in self.pollers:
            thread.join(HTTP_TIMEOUT)

    def run(self, count, label, deadline_seconds=RUN_DEADLINE_SECONDS) -> float:
        """Run ``count`` lifecycles with the window threads; lifecycles per second."""
        state = {"submitted": 0, "delivered": 0}
        deadline = time.monotonic() + deadline_seconds

        def window():
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.window_token}"
            while time.monotonic() < deadline and not self.stop.is_set():
                with self.lock:
                    if state["delivered"] >= count:
                        break
                try:
                    number = self.deliverable.get_nowait()
                except queue.Empty:
                    number = None
                try:
                    if number is not None:
                        self._deliver(session, number)
                        with self.lock:
                            state["delivered"] += 1
                        continue
                    with self.lock:
                        serial = state["submitted"]
                        if serial < count:
                            state["submitted"] += 1
                    if serial < count:
                        self._intake(session, f"{label}-{serial}", serial)
                        continue
                    try:
                        number = self.deliverable.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    self._deliver(session, number)
                    with self.lock:
                        state["delivered"] += 1
                except Exception as exc:
                    self._error(exc)
                    time.sleep(0.2)
            session.close()

        threads = [
            threading.Thread(target=window, name=f"window-{i}", daemon=True)
            for i in range(WINDOW_THREADS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()) + HTTP_TIMEOUT)
        elapsed = time.perf_counter() - started
        if state["delivered"] < count:
            raise Failed(
                f"{label}: only {state['delivered']}/{count} lifecycles delivered within "
                f"{deadline_seconds} s; errors: {self.errors[:3]}"
            )
        return count / elapsed

    def _intake(self, session, key, serial):
        response = _check(
            session.post(
                f"{self.url}/api/v1/applications",
                json=intake_body(serial),
                headers={"Idempotency-Key": key},
                timeout=HTTP_TIMEOUT,
            ),
            201,
        )
        if response.json()["state"] != "in_progress":
            raise Failed(f"intake {key} is {response.json()['state']}")

    def _deliver(self, session, number):
        detail = _check(
            session.get(f"{self.url}/api/v1/applications/{number}", timeout=HTTP_TIMEOUT), 200
        )
        body = detail.json()
        if body["state"] != "result_ready":
            raise Failed(f"{number} is {body['state']}, not result_ready")
        _check(
            session.post(
                f"{self.url}/api/v1/applications/{number}/actions/deliver",
                json={"method": "window"},
                headers={"If-Match": f'"{body["version"]}"'},
                timeout=HTTP_TIMEOUT,
            ),
            200,
        )


def run() -> list[Result]:
    with scratch_dir("http") as workdir:
        results = measure(f"sqlite:///{workdir / 'windowsvc.db'}", workdir, "SQLite")
    return results + on_postgres(
        "(a) HTTP lifecycles/s, PostgreSQL",
        lambda url, workdir: measure(url, workdir, "PostgreSQL", POSTGRES),
    )


def measure(database_url, workdir, backend, group="") -> list[Result]:
    """The rate of lifecycles on a fresh database at ``database_url``, as a row of the table."""
    url, window_token, tokens = prepared(database_url, workdir)
    with Server(url, workdir) as server:
        harness = Harness(server.url, window_token, tokens)
        harness.start()
        try:
            harness.run(WARMUP, "warmup")
            server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
            harness.completing = dict.fromkeys(PARALLEL_DEPARTMENTS, 0.0)
            started = time.perf_counter()
            rate = harness.run(LIFECYCLES, "run")
            wall = time.perf_counter() - started
            busy = {d: s / wall for d, s in harness.completing.items()}
            client_cpu = time.process_time() - client_cpu
            if server_cpu is not None:
                server_cpu = server.cpu_seconds() - server_cpu
        finally:
            server_errors = server.error_lines()
            harness.close(server)
        errors = list(harness.errors)
    per = 1000 / LIFECYCLES
    note = f"CPU per lifecycle: bench client {client_cpu * per:.0f} ms"
    if server_cpu is not None:
        note += f", gunicorn {server_cpu * per:.0f} ms (2 cores in all)"
    note += "; share of the run spent completing fetched batches: " + ", ".join(
        f"{d} {share:.0%}" for d, share in busy.items()
    )
    if errors or server_errors:
        note += f"; client errors {len(errors)}: {errors[:2]}; server: {server_errors[:2]}"
    return [
        Result(
            f"(a) HTTP lifecycles/s, gunicorn 2 workers, {backend}, n={LIFECYCLES}, "
            f"{WINDOW_THREADS} window threads",
            f"{rate:.1f}/s",
            report_only(f">= {TARGET:.0f}/s", group),
            "-",
            None if group else rate >= TARGET and not errors,
            note,
            group,
        )
    ]
