"""PostgreSQL restarts under load (``pg_ctl restart -m fast``, then ``-m immediate``: a crash and
its recovery): the app recovers by itself, /readyz says 503 during the outage and 200 after,
no request is answered 500, every acknowledged application is there once, and the outbox
dispatcher and the timers keep running.

The cluster is the test's own (initdb on a free port), so restarting it touches nobody else's.
"""

import time
from contextlib import contextmanager

import pytest

from tests.e2e import pg_cluster
from tests.e2e.conftest import _run_server
from tests.e2e.db_load import Background, Load, assert_kept_working, stored_cases

pytestmark = pytest.mark.postgres

WARM_UP_SECONDS = 2.0
AFTER_SECONDS = 4.0  # load kept on after each restart
RECOVERY_BOUND_SECONDS = 15.0  # from the restart command to the first acknowledgement after it
STARTUP_SECONDS = 60  # two workers importing the app on a busy 2-core CI machine


def database_url(cluster, database="windowsvc") -> str:
    """The app's URL for one server."""
    return f"postgresql+psycopg://{pg_cluster.USER}@127.0.0.1:{cluster.port}/{database}"


def test_the_app_rides_through_postgresql_restarts(tmp_path):
    with pg_cluster.workspace() as space:
        cluster = space.primary()
        cluster.sql("CREATE DATABASE windowsvc")
        notices = {"WINDOWSVC_NOTICE_LOG": str(tmp_path / "notices.jsonl")}
        run = contextmanager(_run_server)
        with run("postgres", database_url(cluster), tmp_path, notices, STARTUP_SECONDS) as server:
            url, tokens, log_path = server.url, server.tokens, server.log_path
            background = Background(server.env, tmp_path)
            try:
                load = Load([url], tokens["window"]).start()
                report = {}
                try:
                    time.sleep(WARM_UP_SECONDS)
                    for mode in ("fast", "immediate"):
                        report[mode] = restart_under_load(cluster, load, background, mode)
                finally:
                    load.stop()
                tally = load.tally
                print(f"\nrestarts: {report}; {tally.summary()}; readyz {load.readyz_statuses()}")
                diagnostics = f"{tally.summary()}\n{server.log_tail()}\n{cluster.log_tail()}"

                assert not tally.bad, f"{tally.bad[:3]}\n{diagnostics}"
                assert not tally.keys_given_up, diagnostics
                for mode, figures in report.items():
                    assert figures["recovery_seconds"] is not None, f"{mode}: {diagnostics}"
                    assert figures["recovery_seconds"] < RECOVERY_BOUND_SECONDS, diagnostics
                    assert figures["acknowledged_after"] > 0, f"{mode}: {diagnostics}"
                statuses = load.readyz_statuses()
                assert 500 not in statuses and statuses[0] == 200 and statuses[-1] == 200, statuses
                assert statuses.count(503) >= 2, f"one 503 spell per restart: {statuses}"

                keys, cases = stored_cases(cluster)
                lost = {k: n for k, n in tally.acknowledged.items() if keys.get(k) != n}
                assert not lost, f"acknowledged but not stored: {lost}"
                assert cases == len(keys) == len(tally.acknowledged), (
                    f"{cases} cases, {len(keys)} keys, {len(tally.acknowledged)} acknowledged"
                )

                assert_kept_working(background, cluster, log_path)
            finally:
                background.stop()


def restart_under_load(cluster, load: Load, background: Background, mode: str) -> dict:
    """Restart the server with ``mode`` while the load runs; what the clients saw of it."""
    sweeps_before = background.sweeps()
    began = time.monotonic()
    cluster.restart(mode)
    restarted = time.monotonic()
    time.sleep(AFTER_SECONDS)
    first = load.first_write_after(began)
    deadline = time.monotonic() + RECOVERY_BOUND_SECONDS
    while first is None and time.monotonic() < deadline:
        time.sleep(0.1)
        first = load.first_write_after(began)
    while background.sweeps() <= sweeps_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert background.sweeps() > sweeps_before, f"no sweep after the {mode} restart"
    return {
        "restart_seconds": round(restarted - began, 2),
        "recovery_seconds": None if first is None else round(first - began, 2),
        "acknowledged_after": load.acknowledgements_between(restarted, time.monotonic()),
    }
