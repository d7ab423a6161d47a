"""End-to-end fixtures: a real gunicorn (2 workers) on a fresh SQLite or PostgreSQL database."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import POSTGRES_REQUIRED, postgres_server_url

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BIN = Path(sys.executable).parent  # the venv running pytest holds gunicorn and windowsvc
STARTUP_SECONDS = 20
STOP_SECONDS = 10
CLI_SECONDS = 60
LOG_TAIL_CHARS = 4000
WINDOW_PRINCIPALS = {"window": "测试窗口", "window2": "测试窗口二"}
# Back-office systems polling the task queue; their tokens are keyed by department code.
BACKOFFICE_DEPARTMENTS = ("scjg", "xfjy", "zjj", "zrzy")


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e is an end-to-end test."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


@dataclass
class LiveServer:
    """A running gunicorn: its base URL, bearer tokens by name, its log, database and CLI."""

    url: str
    tokens: dict
    backend: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)
    database_url: str = ""
    env: dict = field(default_factory=dict, repr=False)

    def log_tail(self) -> str:
        """The end of the server's combined stdout/stderr, for assertion messages."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return f"--- gunicorn log ({self.backend}), last lines ---\n{text[-LOG_TAIL_CHARS:]}"

    def cli(self, *args: str) -> str:
        """Run ``windowsvc ARGS`` against the server's database; its stdout."""
        return _cli(self.env, *args)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database_url: str, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINDOWSVC_")}
    env.update(
        {
            "WINDOWSVC_DATABASE_URL": database_url,
            "WINDOWSVC_SECRET_KEY": f"e2e-{uuid.uuid4().hex}",
            "WINDOWSVC_RATELIMIT_STORAGE_URI": "memory://",
            # one node whose tests do not count budgets: per-worker counting is accepted here
            # (the shared budget has its own test, test_shared_throttle.py, on Redis)
            "WINDOWSVC_RATELIMIT_MEMORY_ACKNOWLEDGED": "true",
            "WINDOWSVC_WORKERS": "2",
            "WINDOWSVC_BIND": f"127.0.0.1:{port}",
        }
    )
    return env


def _cli(env: dict, *args: str) -> str:
    """Run ``windowsvc ARGS`` against the server's database; its stdout."""
    done = subprocess.run(
        [str(BIN / "windowsvc"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_SECONDS,
        check=False,
    )
    assert done.returncode == 0, (
        f"windowsvc {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def _prepare_database(env: dict) -> dict:
    """Migrate, load the demo catalog, create window and back-office principals; their tokens."""
    _cli(env, "init")
    commands = {
        key: ("credentials", "create", "--role", "window", "--name", name)
        for key, name in WINDOW_PRINCIPALS.items()
    }
    for department in BACKOFFICE_DEPARTMENTS:
        commands[department] = (
            "credentials",
            "create",
            "--role",
            "backoffice",
            "--department",
            department,
            "--name",
            f"{department}-系统",
        )
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        outputs = {key: pool.submit(_cli, env, *args) for key, args in commands.items()}
        return {key: out.result().strip().splitlines()[-1] for key, out in outputs.items()}


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)


def _wait_until_healthy(server: LiveServer, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.process.returncode}\n{server.log_tail()}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or no worker has booted to answer
        time.sleep(0.1)
    pytest.fail(f"gunicorn not healthy within {seconds} s\n{server.log_tail()}")


def _run_server(
    backend: str,
    database_url: str,
    workdir: Path,
    extra_env: dict | None = None,
    startup_seconds: float = STARTUP_SECONDS,
):
    """Prepare the database, start gunicorn, yield the LiveServer, then stop it."""
    port = _free_port()
    env = {**_server_env(database_url, port), **(extra_env or {})}
    tokens = _prepare_database(env)
    log_path = workdir / "gunicorn.log"
    with _gunicorn(env, port, log_path) as process:
        server = LiveServer(
            f"http://127.0.0.1:{port}", tokens, backend, log_path, process, database_url, env
        )
        _wait_until_healthy(server, startup_seconds)
        yield server


@contextmanager
def _gunicorn(env: dict, port: int, log_path: Path, workers: int = 2):
    """gunicorn.conf.py on 127.0.0.1:port with ``env``, logging to log_path; stopped after."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "wsgi:app",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            _stop(process)


def _postgres_admin_url() -> str:
    server = postgres_server_url()
    if server is None:
        if POSTGRES_REQUIRED:
            pytest.fail("WINDOWSVC_TEST_POSTGRES=required but no PGHOST: run through `make test`")
        pytest.skip("no PostgreSQL server (run `make test`, which starts a throwaway cluster)")
    return server


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live_server(request, tmp_path_factory):
    """gunicorn with 2 workers over HTTP on loopback, once per database backend."""
    workdir = tmp_path_factory.mktemp(f"e2e-{request.param}")
    if request.param == "sqlite":
        yield from _run_server("sqlite", f"sqlite:///{workdir / 'windowsvc.db'}", workdir)
        return

    with _throwaway_postgres_database() as database_url:
        yield from _run_server("postgres", database_url, workdir)


@contextmanager
def _throwaway_postgres_database():
    """A fresh database on the test cluster (its URL), dropped afterwards."""
    import psycopg

    server = _postgres_admin_url()
    name = f"windowsvc_e2e_{uuid.uuid4().hex[:8]}"
    admin = server.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class RedisServer:
    """A throwaway redis-server: its URL and process."""

    url: str
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        """Stop it (SIGTERM), as a lost Redis host."""
        _stop(self.process)


@contextmanager
def redis_server(workdir: Path):
    """A throwaway Debian redis-server on a free loopback port, nothing saved; stopped after."""
    import redis

    if shutil.which("redis-server") is None:
        if POSTGRES_REQUIRED:
            pytest.fail("no redis-server: `make test` installs it (make redis-tools)")
        pytest.skip("no redis-server (`make redis-tools` installs Debian's)")
    port = _free_port()
    log_path = workdir / f"redis-{port}.log"
    arguments = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["redis-server", *arguments, "--dir", str(workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"redis-server did not start:\n{log_path.read_text()}")
                    time.sleep(0.05)
            client.close()
            yield RedisServer(f"redis://127.0.0.1:{port}/0", process)
        finally:
            _stop(process)
