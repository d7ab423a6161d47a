"""The citizen throttle across nodes: 3 gunicorn nodes (2 workers each) on one PostgreSQL
database and one Redis hold the per-number budget exactly; gunicorn refuses to start with
per-process ``memory://`` counting and several workers unless that is acknowledged."""

import uuid
from contextlib import ExitStack, contextmanager
from itertools import cycle

import pytest
import requests

from tests.e2e.conftest import (
    LiveServer,
    _free_port,
    _gunicorn,
    _prepare_database,
    _server_env,
    _throwaway_postgres_database,
    _wait_until_healthy,
    redis_server,
)
from tests.factories import bearer, intake_body

NODES = 3
NUMBER_BUDGET = 5  # STATUS_FAILURES_PER_NUMBER's default, "5 per hour"
WINDOW_SECONDS = 3600
SPRAY = 4 * NUMBER_BUDGET  # well past the budget, and below the per-client one (10) after it
TIMEOUT = (5, 30)
REFUSAL_SECONDS = 20
NODES_STARTUP_SECONDS = 90  # six workers importing the app at once on a busy 2-core CI machine


@contextmanager
def app_nodes(storage_uri: str, workdir, count: int = NODES):
    """``count`` gunicorn nodes, 2 workers each, on one fresh PostgreSQL database, with the
    limiter's storage at ``storage_uri``; the LiveServers."""
    with _throwaway_postgres_database() as database_url, ExitStack() as stack:
        base = _server_env(database_url, 0)
        base["WINDOWSVC_RATELIMIT_STORAGE_URI"] = storage_uri
        if not storage_uri.startswith("memory://"):
            base.pop("WINDOWSVC_RATELIMIT_MEMORY_ACKNOWLEDGED")  # nothing to acknowledge
        tokens = _prepare_database(base)
        nodes = []
        for index in range(count):
            port = _free_port()
            env = {**base, "WINDOWSVC_BIND": f"127.0.0.1:{port}"}
            log_path = workdir / f"node{index}.log"
            process = stack.enter_context(_gunicorn(env, port, log_path, workers=2))
            url = f"http://127.0.0.1:{port}"
            nodes.append(LiveServer(url, tokens, "postgres", log_path, process, database_url, env))
        for node in nodes:
            _wait_until_healthy(node, NODES_STARTUP_SECONDS)
        yield nodes


def submit_case(node) -> dict:
    """One food-licence application through ``node``; its number and query code."""
    headers = {**bearer(node.tokens["window"]), "Idempotency-Key": uuid.uuid4().hex}
    response = requests.post(
        f"{node.url}/api/v1/applications", json=intake_body(), headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 201, response.text
    return response.json()


def lookup(node, number, code):
    """POST /api/v1/status on one node."""
    body = {"number": number, "query_code": code}
    return requests.post(f"{node.url}/api/v1/status", json=body, timeout=TIMEOUT)


def spray(nodes, number, code, attempts=SPRAY) -> list[int]:
    """``attempts`` lookups of one number, round-robin across the nodes, one after another;
    their status codes."""
    rotation = cycle(nodes)
    return [lookup(next(rotation), number, code).status_code for _ in range(attempts)]


def guessed_before_refusal(statuses: list[int]) -> int:
    """How many lookups were answered 404 before the first 429 (all of them if none was)."""
    first = statuses.index(429) if 429 in statuses else len(statuses)
    return statuses[:first].count(404)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.fixture(scope="class")
def redis_and_nodes(tmp_path_factory):
    """A throwaway redis-server and three nodes counting in it."""
    workdir = tmp_path_factory.mktemp("three-nodes")
    with redis_server(workdir) as redis, app_nodes(redis.url, workdir) as nodes:
        yield redis, nodes


@pytest.mark.postgres
class TestThreeNodesOnRedis:
    def test_the_per_number_budget_is_exact_across_nodes(self, redis_and_nodes):
        import redis

        server, nodes = redis_and_nodes
        created = submit_case(nodes[0])
        number, code = created["number"], created["query_code"]

        statuses = spray(nodes, number, wrong(code))

        assert guessed_before_refusal(statuses) == NUMBER_BUDGET, statuses
        assert statuses == [404] * NUMBER_BUDGET + [429] * (SPRAY - NUMBER_BUDGET)
        # the right code is refused too, on every node, until the hour's window passes
        for node in nodes:
            refused = lookup(node, number, code)
            assert refused.status_code == 429, node.log_tail()
            assert refused.headers["Content-Type"] == "application/problem+json"
            assert 0 < int(refused.headers["Retry-After"]) <= WINDOW_SECONDS
        # one counter in the shared store, expiring with the window (a fixed window: the
        # refusal ends when the key does)
        store = redis.Redis.from_url(server.url)
        keys = [k.decode() for k in store.scan_iter(f"*status-number:{number}/status-number/*")]
        assert len(keys) == 1, keys
        assert int(store.get(keys[0])) == NUMBER_BUDGET
        assert 0 < store.ttl(keys[0]) <= WINDOW_SECONDS
        store.close()
        # another number's budget is whole: the throttle is per number, not global
        other = submit_case(nodes[1])
        assert lookup(nodes[2], other["number"], other["query_code"]).status_code == 200

    def test_losing_redis_answers_no_500_and_each_worker_still_throttles(self, redis_and_nodes):
        """Runs last in the class: it stops Redis. Each worker then counts in memory."""
        server, nodes = redis_and_nodes
        created = submit_case(nodes[0])
        server.stop()

        for node in nodes:
            found = lookup(node, created["number"], created["query_code"])
            assert found.status_code == 200, f"{found.status_code} {found.text}\n{node.log_tail()}"
        statuses = spray(nodes, created["number"], wrong(created["query_code"]), 60)
        assert set(statuses) <= {404, 429}, statuses
        assert 429 in statuses  # still throttled, per worker: at most workers × the budget
        assert statuses.count(404) <= NODES * 2 * NUMBER_BUDGET, statuses
        logs = "".join(node.log_path.read_text(encoding="utf-8") for node in nodes)
        assert "falling back to in-memory storage" in logs


class TestStartUpCheck:
    def test_gunicorn_refuses_memory_with_two_workers_unless_acknowledged(self, tmp_path):
        env = _server_env(f"sqlite:///{tmp_path / 'unused.db'}", 0)
        env.pop("WINDOWSVC_RATELIMIT_MEMORY_ACKNOWLEDGED")
        log_path = tmp_path / "refused.log"
        with _gunicorn(env, _free_port(), log_path, workers=2) as process:
            status = process.wait(timeout=REFUSAL_SECONDS)
        log = log_path.read_text(encoding="utf-8")
        assert status == 1, log
        assert '"level": "ERROR"' in log and "refusing to start" in log
        assert "RATELIMIT_STORAGE_URI=memory://" in log and "2 gunicorn workers" in log

    def test_one_worker_on_memory_starts(self, tmp_path):
        database_url = f"sqlite:///{tmp_path / 'windowsvc.db'}"
        env = _server_env(database_url, 0)
        env.pop("WINDOWSVC_RATELIMIT_MEMORY_ACKNOWLEDGED")
        port = _free_port()
        log_path = tmp_path / "one.log"
        with _gunicorn(env, port, log_path, workers=1) as process:
            node = LiveServer(
                f"http://127.0.0.1:{port}", {}, "sqlite", log_path, process, database_url, env
            )
            _wait_until_healthy(node)
            assert "refusing" not in log_path.read_text(encoding="utf-8")
