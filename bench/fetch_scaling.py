"""(d) fetch-and-lock latency with 1k vs 100k pending tasks of one department.

A prepared database is seeded with SQLAlchemy core bulk inserts: accepted applications of the
parallel item with ten pending zjj steps each (due dates spread over 60 days). Then
``claims.fetch_and_lock`` of one task (in-process service call, wait_seconds 0, own app context)
is timed many times; each fetched task is completed (not timed) so the queue moves on. The queue
is seeded with the size plus the number of fetches, so it holds between N and N + fetches
pending tasks throughout. SQLite always (gated); PostgreSQL too when PGHOST is set (reported).
"""

import random
import time
from datetime import timedelta

from .common import (
    PARALLEL_ITEM,
    POSTGRES,
    QUICK,
    Result,
    create_principal,
    make_app,
    median,
    postgres_database,
    postgres_server_url,
    prepare_database,
    scratch_dir,
)

SIZES = (1_000, 20_000) if QUICK else (1_000, 100_000)
FETCHES = 100 if QUICK else 300
WARMUP = 20
STEPS_PER_APPLICATION = 10
DEPARTMENT = "zjj"
TOPIC = "zjj.joint-acceptance.quality"
CHUNK = 5_000
TARGET_GROWTH = 1.5


def seed(app, window_id: int, count: int) -> None:
    """Bulk-insert ``count`` pending zjj steps (and their applications)."""
    from sqlalchemy import insert, select

    from windowsvc import clock
    from windowsvc.extensions import db
    from windowsvc.models import Application, CatalogItem, Step

    rng = random.Random(count)
    now = clock.now()
    today = clock.today()
    with app.app_context():
        item = db.session.execute(
            select(CatalogItem.id, CatalogItem.version).where(CatalogItem.code == PARALLEL_ITEM)
        ).one()
        applications = -(-count // STEPS_PER_APPLICATION)
        with db.engine.begin() as connection:
            first_id = (
                connection.execute(
                    select(db.func.coalesce(db.func.max(Application.id), 0))
                ).scalar_one()
            ) + 1
            rows = [
                {
                    "id": first_id + i,
                    "number": f"BENCH{i:017d}",
                    "query_code_hash": "0" * 64,
                    "item_id": item.id,
                    "item_code": PARALLEL_ITEM,
                    "item_version": item.version,
                    "region_code": "330100",
                    "channel": "window",
                    "state": "in_progress",
                    "applicant": {
                        "type": "organization",
                        "name": f"杭州示范建设有限公司{i:06d}",
                        "id_type": "uscc",
                        "id_number": "91330100MA2XXXXX0T",
                        "phone": "13812345678",
                    },
                    "materials": [],
                    "missing": [],
                    "deferred": [],
                    "delivery": {"method": "window"},
                    "details": {},
                    "received_at": now,
                    "accepted_at": now,
                    "acceptance_date": today,
                    "due_date": today + timedelta(days=14),
                    "legal_due_date": today + timedelta(days=70),
                    "received_by_id": window_id,
                    "version": 1,
                    "updated_at": now,
                }
                for i in range(applications)
            ]
            for start in range(0, len(rows), CHUNK):
                connection.execute(insert(Application), rows[start : start + CHUNK])
            steps = []
            for n in range(count):
                steps.append(
                    {
                        "application_id": first_id + n // STEPS_PER_APPLICATION,
                        "stage": 0,
                        "code": f"seeded_{n % STEPS_PER_APPLICATION}",
                        "name": "建设工程质量竣工验收监督",
                        "department": DEPARTMENT,
                        "topic": TOPIC,
                        "days": 5,
                        "state": "pending",
                        "priority": 50,
                        "due_date": today + timedelta(days=rng.randrange(60)),
                        "available_at": now - timedelta(minutes=1),
                        "attempt": 0,
                        "opened_at": now,
                    }
                )
                if len(steps) == CHUNK:
                    connection.execute(insert(Step), steps)
                    steps = []
            if steps:
                connection.execute(insert(Step), steps)


def measure(app, actor) -> list[float]:
    """Seconds per fetch-and-lock of one task; each fetched task is then completed."""
    from windowsvc.services.queue import claims, tasks

    lease = claims.Lease("bench-scaling", 1, 300)
    timings = []
    for i in range(WARMUP + FETCHES):
        with app.app_context():
            started = time.perf_counter()
            got = claims.fetch_and_lock(actor, lease, 0)
            elapsed = time.perf_counter() - started
        if len(got) != 1:
            raise RuntimeError(f"fetch {i}: {len(got)} tasks")
        with app.app_context():
            tasks.complete(got[0]["id"], actor, lease.worker_id, "approve")
        if i >= WARMUP:
            timings.append(elapsed)
    return timings


def _pending(app) -> int:
    from sqlalchemy import func, select

    from windowsvc.extensions import db
    from windowsvc.models import Step

    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(Step.department == DEPARTMENT, Step.state == "pending")
        )


def run_backend(label, database_url_for, group="") -> list[Result]:
    medians = {}
    seed_seconds = {}
    for size in SIZES:
        with database_url_for(size) as (url, workdir):
            app = make_app(url, workdir)
            prepare_database(app)
            window, _ = create_principal(app, "window", "综合窗口-基准")
            actor, _ = create_principal(app, "backoffice", f"{DEPARTMENT}-基准", DEPARTMENT)
            started = time.perf_counter()
            seed(app, window.id, size + WARMUP + FETCHES)
            seed_seconds[size] = time.perf_counter() - started
            timings = measure(app, actor)
            after = _pending(app)
            if after < size:
                raise RuntimeError(f"{label}: {after} pending left, expected >= {size}")
            medians[size] = median(timings) * 1000
            with app.app_context():
                from windowsvc.extensions import db

                db.engine.dispose()
    small, large = SIZES
    growth = medians[large] / medians[small]
    return [
        Result(
            f"(d) fetch-and-lock median, {small:,} pending, {label}, n={FETCHES}",
            f"{medians[small]:.2f} ms",
            "-",
            "-",
            None,
            group=group,
        ),
        Result(
            f"(d) fetch-and-lock median, {large:,} pending, {label}, n={FETCHES}",
            f"{medians[large]:.2f} ms",
            "-",
            "-",
            None,
            f"{label}: seeding {large:,} pending tasks took {seed_seconds[large]:.1f} s",
            group,
        ),
        Result(
            f"(d) growth {large:,} / {small:,} pending, {label}",
            f"{medians[large]:.2f} vs {medians[small]:.2f} ms",
            f"<= {TARGET_GROWTH}x" if not group else f"(<= {TARGET_GROWTH}x)",
            f"{growth:.2f}x",
            growth <= TARGET_GROWTH if not group else None,
            group=group,
        ),
    ]


def run() -> list[Result]:
    import contextlib

    @contextlib.contextmanager
    def sqlite_database(size):
        with scratch_dir(f"scaling-{size}") as workdir:
            yield f"sqlite:///{workdir / 'windowsvc.db'}", workdir

    results = run_backend("SQLite", sqlite_database)
    server = postgres_server_url()
    if server is None:
        results.append(
            Result(
                "(d) fetch-and-lock growth, PostgreSQL",
                "skipped",
                "-",
                "-",
                None,
                "PGHOST not set",
                POSTGRES,
            )
        )
        return results

    @contextlib.contextmanager
    def pg_database(size):
        with scratch_dir(f"scaling-pg-{size}") as workdir, postgres_database(server) as url:
            yield url, workdir

    return results + run_backend("PostgreSQL", pg_database, POSTGRES)
