"""Throwaway PostgreSQL clusters of the tests' own (initdb on a free loopback port), so that a
test may restart, kill or promote them without touching the cluster the other tests share.

Debian's PostgreSQL 15 binaries are used; as root they run as the ``postgres`` user (postgres
refuses to run as root), in a temporary directory owned by it.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_REQUIRED
from tests.e2e.conftest import _free_port

BINDIRS = ("/usr/lib/postgresql/15/bin",)
START_SECONDS = 60
COMMAND_SECONDS = 120
USER = "postgres"


def bindir() -> Path | None:
    """The directory of initdb/pg_ctl/pg_basebackup, or None when PostgreSQL is not installed."""
    for candidate in (os.environ.get("WINDOWSVC_TEST_PG_BINDIR"), *BINDIRS):
        if candidate and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


def require_bindir() -> Path:
    """The binaries, or skip (fail under ``WINDOWSVC_TEST_POSTGRES=required``)."""
    found = bindir()
    if found is None:
        message = "no PostgreSQL 15 binaries (`make postgres-tools` installs Debian's)"
        if POSTGRES_REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", USER, "--", *command]


@dataclass
class Cluster:
    """One PostgreSQL server: its data directory, port and log."""

    name: str
    data: Path
    port: int
    bin: Path

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.name}.log"

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a PostgreSQL tool as the server's user; fails the test when it fails."""
        done = subprocess.run(
            _as_server_user([str(self.bin / tool), *args]),
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
            check=False,
        )
        if check and done.returncode != 0:
            pytest.fail(f"{tool} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def conninfo(self, database: str = "postgres") -> str:
        """A libpq connection string to this server alone."""
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def configure(self, **settings) -> None:
        """Append settings to postgresql.conf (read at the next start or reload)."""
        lines = "".join(f"{key} = {value!r}\n" for key, value in settings.items())
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(lines.replace('"', "'"))

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: no shutdown checkpoint, crash recovery at start)."""
        if self.running():
            self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w", "restart")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        return self.run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def kill(self) -> None:
        """SIGKILL the postmaster and every process it started, like a lost host: no shutdown,
        no goodbye to clients or to the standby."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        children = _children(pid)
        for victim in (pid, *children):
            with suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in (pid, *children)) and time.monotonic() < deadline:
            time.sleep(0.02)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql; its unaligned output."""
        done = self.run(
            "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.conninfo(database),
            "-c", statement,
        )  # fmt: skip
        return done.stdout.strip()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return f"--- {self.name} log ---\n{self.log.read_text(errors='replace')[-chars:]}"
        except FileNotFoundError:
            return f"--- {self.name}: no log ---"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: the ppid follows the last ')'
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


class Workspace:
    """A temporary directory the server's user owns, for one test's clusters."""

    def __init__(self):
        self.bin = require_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="windowsvc-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, USER, USER)
        self.clusters: list[Cluster] = []

    def primary(self, name: str = "primary", **settings) -> Cluster:
        """initdb a new cluster (trust on loopback, replication allowed), configure, start."""
        cluster = Cluster(name, self.root / name, _free_port(), self.bin)
        cluster.run(
            "initdb", "-D", str(cluster.data), "-U", USER, "--auth=trust", "-E", "UTF8",
            "--no-locale", "--no-sync",
        )  # fmt: skip
        self._base_settings(cluster, settings)
        self.clusters.append(cluster)
        cluster.start()
        return cluster

    def standby(self, primary: Cluster, name: str = "standby", **settings) -> Cluster:
        """A streaming standby of ``primary`` (pg_basebackup -R), started."""
        cluster = Cluster(name, self.root / name, _free_port(), self.bin)
        cluster.run(
            # -R writes primary_conninfo with this application_name: the name the primary's
            # synchronous_standby_names refers to
            "pg_basebackup", "-d", primary.conninfo() + f" application_name={name}",
            "-D", str(cluster.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        self._base_settings(cluster, settings)
        self.clusters.append(cluster)
        cluster.start()
        return cluster

    def _base_settings(self, cluster: Cluster, settings: dict) -> None:
        cluster.configure(
            port=cluster.port,
            listen_addresses="127.0.0.1",
            unix_socket_directories=str(self.root),
            cluster_name=cluster.name,
            max_connections=200,
            shared_buffers="32MB",
            log_min_messages="warning",
            **settings,
        )

    def close(self) -> None:
        for cluster in self.clusters:
            cluster.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def workspace():
    """A Workspace, its servers stopped and its files removed afterwards."""
    space = Workspace()
    try:
        yield space
    finally:
        space.close()
