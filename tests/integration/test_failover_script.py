"""scripts/pg-failover.sh promote: the fence comes first and is never skipped.

The "standby" here is the test server, which already accepts writes: every path below stops
before anything would be promoted, so the server is left as it was. The promotion itself is
tested on a real pair in tests/e2e/test_database_failover.py (make test-faults).
"""

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_REQUIRED

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg-failover.sh"
SECONDS = 30

pytestmark = pytest.mark.postgres


@pytest.fixture
def standby():
    """The connection string of a server that already accepts writes."""
    if not os.environ.get("PGHOST"):
        if POSTGRES_REQUIRED:
            pytest.fail("WINDOWSVC_TEST_POSTGRES=required but no PGHOST: run through `make test`")
        pytest.skip("no PostgreSQL server (run `make test`, which starts a throwaway cluster)")
    return (
        f"host={os.environ['PGHOST']} port={os.environ.get('PGPORT', '5432')} "
        f"user={os.environ.get('PGUSER', 'postgres')} dbname=postgres"
    )


def promote(standby, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FENCE_")}
    environment.update(env)
    return subprocess.run(
        ["bash", str(SCRIPT), "promote", standby],
        env=environment,
        capture_output=True,
        text=True,
        timeout=SECONDS,
    )


def test_without_a_fence_nothing_happens(standby):
    done = promote(standby)
    assert done.returncode == 2, done.stderr
    assert "FENCE_COMMAND is not set" in done.stderr


def test_a_failing_fence_stops_the_promotion(standby):
    done = promote(standby, FENCE_COMMAND="exit 1")
    assert done.returncode == 2, done.stderr
    assert "fence command failed" in done.stderr


def test_a_fence_that_hangs_counts_as_failed(standby):
    done = promote(standby, FENCE_COMMAND="sleep 20", FENCE_TIMEOUT="1")
    assert done.returncode == 2, done.stderr
    assert "timed out" in done.stderr


def test_a_standby_already_promoted_is_still_fenced(standby, tmp_path):
    """Promoted by an earlier run or by hand: the old primary may still be there."""
    marker = tmp_path / "fenced"
    done = promote(standby, FENCE_COMMAND=f"touch {marker}")
    assert done.returncode == 0, done.stderr
    assert marker.exists()
    assert "already accepts writes" in done.stderr


def test_an_unreachable_standby_is_not_promoted(tmp_path):
    marker = tmp_path / "fenced"
    done = promote(
        "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2",
        FENCE_COMMAND=f"touch {marker}",
    )
    assert done.returncode == 2, done.stderr
    assert "standby unreachable" in done.stderr
    assert not marker.exists()  # nothing to promote: nothing is fenced
