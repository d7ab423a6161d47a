"""Failover of a PostgreSQL pair under load: a primary and a streaming standby, the app on a
multi-host URL with target_session_attrs=read-write, the primary killed (SIGKILL of every server
process), and scripts/pg-failover.sh as the watchdog that fences it and promotes the standby.

Measured and printed: the time from the kill to the first acknowledged write, the
acknowledgements lost (acknowledged cases missing on the new primary), cases created twice, the
answers by status, and what synchronous replication costs (intake rate before the kill; commit
latency on the primary with synchronous_commit on and local).
With synchronous replication (``synchronous_commit = on``: a commit waits until the standby has
flushed its WAL) no acknowledgement may be lost; with asynchronous replication the loss is only
counted.
"""

import os
import shlex
import statistics
import subprocess
import time
from contextlib import contextmanager

import pytest

from tests.e2e import pg_cluster
from tests.e2e.conftest import REPO, _run_server
from tests.e2e.db_load import Background, Load, assert_kept_working, stored_cases

pytestmark = [pytest.mark.postgres, pytest.mark.faults]

SCRIPT = REPO / "scripts" / "pg-failover.sh"
WARM_UP_SECONDS = 4.0
FAILOVER_AFTER = 2  # the watchdog's patience: seconds without an answer from the primary
WATCHDOG_SECONDS = 60
AFTER_SECONDS = 4.0
WRITES_BOUND_SECONDS = 30.0  # kill → first acknowledged write (generous: a busy CI machine)
STARTUP_SECONDS = 60  # two workers importing the app on a busy 2-core CI machine
COMMITS_SAMPLED = 200


def pair_url(primary, standby, database="windowsvc") -> str:
    """The app's URL for the pair: either server, whichever accepts writes."""
    return (
        f"postgresql+psycopg://{pg_cluster.USER}@/{database}"
        f"?host=127.0.0.1,127.0.0.1&port={primary.port},{standby.port}"
        "&target_session_attrs=read-write&connect_timeout=2"
    )


def commit_latency_ms(cluster, synchronous_commit: str) -> float:
    """Median milliseconds of a one-row commit on ``cluster`` with that synchronous_commit."""
    import psycopg

    with psycopg.connect(cluster.conninfo("windowsvc"), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS commit_probe (n int)")
        conn.execute(f"SET synchronous_commit = {synchronous_commit}")
        times = []
        for n in range(COMMITS_SAMPLED):
            began = time.perf_counter()
            conn.execute("INSERT INTO commit_probe VALUES (%s)", (n,))
            times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 3)


def watchdog(primary, standby, log_path) -> subprocess.Popen:
    """scripts/pg-failover.sh watch, fencing the primary with pg_ctl stop (it is dead already;
    on real hosts the fence powers the old primary off or cuts it from the network)."""
    pg_ctl = shlex.join(
        pg_cluster._as_server_user([str(primary.bin / "pg_ctl"), "-D", str(primary.data)])
    )
    fence = f"{pg_ctl} status >/dev/null; [ $? -eq 3 ] || {pg_ctl} -m immediate -w stop"
    env = {
        **os.environ,
        "FENCE_COMMAND": fence,
        "FAILOVER_AFTER": str(FAILOVER_AFTER),
        "CHECK_EVERY": "0.2",
        "PGBIN": str(primary.bin),
    }
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            ["bash", str(SCRIPT), "watch", primary.conninfo(), standby.conninfo()],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.parametrize("replication", ["synchronous", "asynchronous"])
def test_killing_the_primary_under_load_fails_over_to_the_standby(replication, tmp_path):
    with pg_cluster.workspace() as space:
        primary = space.primary(synchronous_commit="on")
        primary.sql("CREATE DATABASE windowsvc")
        standby = space.standby(primary)
        if replication == "synchronous":  # once the standby is there to confirm commits
            primary.sql("ALTER SYSTEM SET synchronous_standby_names = 'standby'")
            primary.sql("SELECT pg_reload_conf()")
        wanted = "sync" if replication == "synchronous" else "async"
        deadline = time.monotonic() + 20
        while primary.sql("SELECT sync_state FROM pg_stat_replication") != wanted:
            assert time.monotonic() < deadline, primary.log_tail()
            time.sleep(0.1)
        latency = {mode: commit_latency_ms(primary, mode) for mode in ("on", "local")}

        notices = {"WINDOWSVC_NOTICE_LOG": str(tmp_path / "notices.jsonl")}
        run = contextmanager(_run_server)
        with run(
            "postgres", pair_url(primary, standby), tmp_path, notices, STARTUP_SECONDS
        ) as server:
            url, tokens, log_path = server.url, server.tokens, server.log_path
            background = Background(server.env, tmp_path)
            dog = watchdog(primary, standby, tmp_path / "watchdog.log")
            try:
                load = Load([url], tokens["window"]).start()
                try:
                    time.sleep(1.0)  # the first requests warm the workers up
                    rate_from = time.monotonic()
                    time.sleep(WARM_UP_SECONDS)
                    killed = time.monotonic()
                    rate = load.acknowledgements_between(rate_from, killed) / WARM_UP_SECONDS
                    primary.kill()
                    dog.wait(WATCHDOG_SECONDS)
                    promoted = time.monotonic()
                    first = None
                    while first is None and time.monotonic() < killed + WRITES_BOUND_SECONDS:
                        time.sleep(0.1)
                        first = load.first_write_after(killed)
                    time.sleep(AFTER_SECONDS)
                finally:
                    load.stop()
                tally = load.tally
                keys, cases = stored_cases(standby)
                lost = {k: n for k, n in tally.acknowledged.items() if keys.get(k) != n}
                figures = {
                    "replication": replication,
                    "promoted_after_s": round(promoted - killed, 2),
                    "writes_after_s": None if first is None else round(first - killed, 2),
                    "lost_acknowledgements": len(lost),
                    "acknowledged": len(tally.acknowledged),
                    "cases": cases,
                    "intake_per_s_before_kill": round(rate, 1),
                    "commit_ms_median": latency,
                }
                print(f"\nfailover: {figures}; {tally.summary()}")
                watchdog_log = (tmp_path / "watchdog.log").read_text(errors="replace")
                diagnostics = (
                    f"{figures}\n{tally.summary()}\n--- watchdog ---\n{watchdog_log}\n"
                    f"{server.log_tail()}\n{standby.log_tail()}"
                )

                assert dog.returncode == 0, diagnostics
                assert standby.sql("SELECT pg_is_in_recovery()") == "f", diagnostics
                assert not tally.bad, f"{tally.bad[:3]}\n{diagnostics}"
                assert not tally.keys_given_up, diagnostics
                assert first is not None, f"no write succeeded after the failover\n{diagnostics}"
                if replication == "synchronous":
                    assert not lost, f"acknowledged but lost in the failover: {lost}"
                # every case has its key, and every key acknowledged is there unless it was lost
                assert cases == len(keys), diagnostics
                assert set(keys) == set(tally.acknowledged) - set(lost), diagnostics

                assert_kept_working(background, standby, log_path)
            finally:
                background.stop()
                if dog.poll() is None:
                    dog.terminate()
                    dog.wait(10)
