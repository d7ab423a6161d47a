"""`python -m bench.profile_hot_paths [DIR]`: cProfile the hot paths through the whole WSGI stack.

Each path is requested through Flask's test client (every hook, the limiter, authentication,
marshmallow, the ORM and a SQLite file database; no gunicorn, no sockets), first unprofiled to
warm up, then N times under cProfile. For each path two top-20 tables (by cumulative and by own
time) go to ``DIR/<path>.txt`` (default bench/profiles/), with the mean wall and CPU time per
request without the profiler and the number of Python function calls per request (which, unlike
the times, does not depend on what else the machine is doing).
"""

import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

from .common import (
    PARALLEL_DEPARTMENTS,
    create_principal,
    intake_body,
    make_app,
    prepare_database,
    scratch_dir,
)

REQUESTS = 300
WARMUP = 30
TOP = 20


class Paths:
    """The four hot paths and /healthz, as HTTP requests on one app."""

    def __init__(self, app):
        self.client = app.test_client()
        _, window = create_principal(app, "window", "综合窗口-剖析")
        self.window = {"Authorization": f"Bearer {window}"}
        self.backoffice = {
            d: {"Authorization": f"Bearer {create_principal(app, 'backoffice', d, d)[1]}"}
            for d in PARALLEL_DEPARTMENTS
        }
        self.serial = 0
        self.cases = []  # (number, query code) to look up
        self.locked = []  # task ids locked by zjj's worker, to complete

    def _ok(self, response, status):
        if response.status_code != status:
            raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")
        return response

    def healthz(self):
        self._ok(self.client.get("/healthz"), 200)

    def intake(self):
        self.serial += 1
        headers = {**self.window, "Idempotency-Key": f"profile-{self.serial}"}
        answer = self._ok(
            self.client.post(
                "/api/v1/applications", json=intake_body(self.serial), headers=headers
            ),
            201,
        ).get_json()
        self.cases.append((answer["number"], answer["query_code"]))

    def status(self):
        number, code = self.cases[self.serial % len(self.cases)]
        self.serial += 1
        body = {"number": number, "query_code": code}
        self._ok(self.client.post("/api/v1/status", json=body), 200)

    def fetch_and_lock(self):
        body = {"worker_id": "profile-zjj", "max_tasks": 1, "lock_seconds": 300}
        tasks = self._ok(
            self.client.post(
                "/api/v1/tasks/fetch-and-lock", json=body, headers=self.backoffice["zjj"]
            ),
            200,
        ).get_json()
        if len(tasks) != 1:
            raise RuntimeError(f"expected one task, got {len(tasks)}")
        self.locked.append(tasks[0]["id"])

    def complete(self):
        task = self.locked.pop()
        body = {"worker_id": "profile-zjj", "outcome": "approve"}
        self._ok(
            self.client.post(
                f"/api/v1/tasks/{task}/complete", json=body, headers=self.backoffice["zjj"]
            ),
            204,
        )


def _table(profile, key):
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(key).print_stats(TOP)
    return out.getvalue()


def main(argv) -> int:
    target = Path(argv[0]) if argv else Path(__file__).parent / "profiles"
    target.mkdir(parents=True, exist_ok=True)
    with scratch_dir("profile") as workdir:
        app = make_app(f"sqlite:///{workdir / 'windowsvc.db'}", workdir)
        prepare_database(app)
        paths = Paths(app)
        # enough cases for the lookups and zjj's tasks (every case opens one zjj step)
        order = ("healthz", "intake", "status", "fetch_and_lock", "complete")
        for _ in range(2 * (REQUESTS + WARMUP)):
            paths.intake()
        for name in order:
            call = getattr(paths, name)
            for _ in range(WARMUP):
                call()
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(REQUESTS):
                call()
            plain_ms = (time.perf_counter() - started) * 1000 / REQUESTS
            cpu_ms = (time.process_time() - cpu) * 1000 / REQUESTS
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(REQUESTS):
                call()
            profile.disable()
            calls = pstats.Stats(profile).total_calls / REQUESTS
            text = (
                f"# {name}: {REQUESTS} requests through Flask's test client, SQLite file\n"
                f"# without the profiler: {plain_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU per request\n"
                f"# {calls:,.0f} Python function calls per request (repeatable, unlike times)\n\n"
                f"## by cumulative time\n{_table(profile, 'cumulative')}\n"
                f"## by own time\n{_table(profile, 'tottime')}"
            )
            (target / f"{name}.txt").write_text(text, encoding="utf-8")
            print(
                f"{name}: {plain_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU, {calls:,.0f} calls"
                f" per request -> {target / (name + '.txt')}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
