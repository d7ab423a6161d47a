"""Shared plumbing: sizes, scratch databases, credentials, a gunicorn under our control, results."""

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUICK = os.environ.get("BENCH_QUICK", "").strip() not in ("", "0", "false", "no")
HTTP_TIMEOUT = 30.0  # every request to the server: long polls wait at most 20 s
STARTUP_SECONDS = 30
STOP_SECONDS = 20
STOP_GRACE_SECONDS = 3  # then the server's process group is killed (its database is scratch)
POSTGRES = "postgres (report only)"  # the group of rows measured on PostgreSQL, not gated

PARALLEL_ITEM = "330100-XK-ZJJ-0031"  # 建设工程竣工联合验收: stage 0 zjj|zrzy|xfjy, stage 1 zjj
PARALLEL_DEPARTMENTS = ("zjj", "zrzy", "xfjy")
PARALLEL_MATERIALS = (
    "joint_acceptance_application",
    "business_licence",
    "construction_permit",
    "planning_permit",
    "completion_acceptance_report",
    "completion_survey_report",
    "fire_inspection_report",
    "as_built_drawings",
    "archives_pre_acceptance",
)


def intake_body(serial: int) -> dict:
    """A complete window intake of the parallel item (accepted on the spot)."""
    return {
        "item_code": PARALLEL_ITEM,
        "channel": "window",
        "applicant": {
            "type": "organization",
            "name": f"杭州示范建设有限公司{serial:05d}",
            "id_type": "uscc",
            "id_number": "91330100MA2XXXXX0T",
            "phone": "13812345678",
        },
        "materials": [{"code": code} for code in PARALLEL_MATERIALS],
        "delivery": {"method": "window"},
    }


@dataclass
class Result:
    """One row of the table."""

    benchmark: str
    measured: str
    target: str
    ratio: str
    passed: bool | None  # None: informational, reported only, or skipped
    note: str = ""
    group: str = ""  # rows of a named group are printed after the others, under its name


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values):
    return statistics.median(values)


@contextlib.contextmanager
def scratch_dir(prefix):
    """A temporary directory, removed afterwards whatever happens."""
    path = Path(tempfile.mkdtemp(prefix=f"windowsvc-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _secret_key(workdir: Path) -> str:
    """One random key per scratch directory: query codes made in-process match on the server."""
    path = workdir / "secret-key"
    if not path.exists():
        path.write_text(f"bench-{uuid.uuid4().hex}")
    return path.read_text()


def app_config(database_url: str, workdir: Path) -> dict:
    """The configuration every bench app and server uses (never the developer's ./var database)."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": _secret_key(workdir),
        "RATELIMIT_STORAGE_URI": "memory://",
        # per-worker budgets, as `make run` has them (limiter_storage); (e) keeps its status
        # lookups within them rather than raising any limit
        "RATELIMIT_MEMORY_ACKNOWLEDGED": "true",
        "EVIDENCE_SOURCE": "none",
        "NOTICE_LOG": str(workdir / "notices.jsonl"),
        "LOG_LEVEL": "WARNING",
    }


def make_app(database_url: str, workdir: Path):
    """An app on ``database_url`` (environment WINDOWSVC_* ignored for the database)."""
    from windowsvc import create_app

    return create_app(app_config(database_url, workdir))


def prepare_database(app) -> None:
    """Migrate to head and load the demo catalog (what `windowsvc init` does)."""
    import logging

    from flask_migrate import upgrade

    from windowsvc import catalog as catalog_files
    from windowsvc.services.admin import catalog

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        if catalog.is_empty():
            catalog.load(catalog_files.DEMO_DIR)
    # alembic's fileConfig turns loggers back on at INFO; keep the bench output to the table
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def create_principal(app, role, name, department=None):
    """(Actor, token) for a new principal."""
    from windowsvc.services.admin import credentials
    from windowsvc.services.cases.records import Actor

    with app.app_context():
        principal, token = credentials.create(role, name, department)
        return Actor(principal.id, principal.name, principal.role, principal.department), token


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn (gunicorn.conf.py, 2 workers) on loopback against ``database_url``."""

    def __init__(self, database_url: str, workdir: Path, workers=2, threads=16):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "gunicorn.log"
        config = app_config(database_url, workdir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WINDOWSVC_")}
        env.update({f"WINDOWSVC_{key}": str(value) for key, value in config.items()})
        env.update(
            {
                "WINDOWSVC_WORKERS": str(workers),
                "WINDOWSVC_THREADS": str(threads),
                "WINDOWSVC_BIND": f"127.0.0.1:{self.port}",
            }
        )
        self.env = env
        self.command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"]
        self.ready_path = "/readyz"
        self.process = None

    def __enter__(self):
        import requests

        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}{self.ready_path}", timeout=2).status_code == 200:
                    # both workers: a few more probes land on each of them
                    for _ in range(4):
                        requests.get(f"{self.url}{self.ready_path}", timeout=2)
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn not ready within {STARTUP_SECONDS} s:\n{self.log_tail()}")

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        process = self.process
        if process is None or process.poll() is not None:
            return
        # quick shutdown (SIGINT); gthread workers still wait for running long polls to end
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: master and workers
            process.wait(timeout=STOP_SECONDS)

    def worker_pids(self) -> list[int]:
        """The server's worker processes (children of the gunicorn master), Linux /proc."""
        if self.process is None:
            return []
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            if ppid == self.process.pid:
                pids.append(int(entry))
        return sorted(pids)

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) used so far by the server's processes (Linux /proc)."""
        if self.process is None:
            return None
        try:
            tick = os.sysconf("SC_CLK_TCK")
            total = 0
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # gone meanwhile
                pid, ppid = int(entry), int(fields[1])
                if pid == self.process.pid or ppid == self.process.pid:
                    total += int(fields[11]) + int(fields[12])  # utime, stime
            return total / tick
        except (OSError, ValueError, IndexError):
            return None

    def log_tail(self, chars=3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def error_lines(self, limit=5) -> list[str]:
        """Tracebacks and 5xx answers in the server's log (error log and access log)."""
        lines = [
            line
            for line in self.log_tail(2_000_000).splitlines()
            if "Traceback" in line or "[ERROR]" in line or _SERVER_ERROR.search(line)
        ]
        return lines[:limit]


_SERVER_ERROR = re.compile(r'HTTP/1\.[01]" 5\d\d ')


def wake_pollers(url: str, window_token: str, key: str) -> None:
    """Post one more intake so every department's long poll returns now (before a shutdown)."""
    import requests

    requests.post(
        f"{url}/api/v1/applications",
        json=intake_body(999_999),
        headers={"Authorization": f"Bearer {window_token}", "Idempotency-Key": key},
        timeout=HTTP_TIMEOUT,
    )


def postgres_server_url():
    """The PostgreSQL server of the PG* variables (pg_virtualenv sets them), or None."""
    if not os.environ.get("PGHOST"):
        return None
    user = os.environ.get("PGUSER", "postgres")
    password = os.environ.get("PGPASSWORD", "")
    host = os.environ["PGHOST"]
    port = os.environ.get("PGPORT", "5432")
    return f"postgresql://{user}:{password}@{host}:{port}"


@contextlib.contextmanager
def postgres_database(server):
    """A fresh database on ``server``, dropped afterwards."""
    import psycopg

    name = f"windowsvc_bench_{uuid.uuid4().hex[:8]}"
    admin = f"{server}/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepared_sqlite(workdir):
    """A migrated SQLite database with the demo catalog; its URL, a window token and the
    parallel item's department tokens (the engine is disposed: a server takes over)."""
    return prepared(f"sqlite:///{workdir / 'windowsvc.db'}", workdir)


def report_only(target: str, group: str) -> str:
    """A target as shown in a report-only group: in parentheses."""
    return f"({target})" if group and target != "-" else target


def prepared(url, workdir):
    """``prepared_sqlite`` on any database URL."""
    app = make_app(url, workdir)
    prepare_database(app)
    _, window_token = create_principal(app, "window", "综合窗口-基准")
    tokens = {
        d: create_principal(app, "backoffice", f"{d}-基准", d)[1] for d in PARALLEL_DEPARTMENTS
    }
    with app.app_context():
        from windowsvc.extensions import db

        db.engine.dispose()
    return url, window_token, tokens


def on_postgres(title, measure) -> list:
    """``measure(url, workdir)``'s rows on a scratch PostgreSQL database when PGHOST is set, else
    one row saying it was skipped; either in the report-only group."""
    server = postgres_server_url()
    if server is None:
        return [Result(title, "skipped", "-", "-", None, "PGHOST not set", POSTGRES)]
    with scratch_dir("pg") as workdir, postgres_database(server) as url:
        return measure(url, workdir)
