"""The three query-code budgets (platform.throttle) as an answer shows them: the store's keys,
the headers, the ceiling, the switch, and a lost Redis (a real redis-server, stopped)."""

import logging
import socket
import time

import pytest

from tests.factories import intake_body
from windowsvc.platform import throttle


def _lookup(client, number, code):
    return client.post("/api/v1/status", json={"number": number, "query_code": code})


def _wrong(code):
    return "000000" if code != "000000" else "111111"


def _case(submit):
    created = submit().json
    return created["number"], created["query_code"]


def _rating(client, number, code):
    body = {"number": number, "query_code": code, "level": 5}
    return client.post("/api/v1/ratings", json=body)


class TestWhatTheStoreHolds:
    def test_the_keys_are_flask_limiters_shared_scopes(self, app, client, submit):
        """The counters a running store holds stay valid: the same keys as before."""
        number, code = _case(submit)
        assert _lookup(client, number, _wrong(code)).status_code == 404
        storage = app.extensions[throttle.EXTENSION].storage
        assert storage.get("LIMITER/127.0.0.1/status-client/10/10/minute") == 1
        assert storage.get(f"LIMITER/status-number:{number}/status-number/5/1/hour") == 1
        assert storage.get(f"LIMITER/status-number:{number}/status-number-all/60/1/hour") == 1
        assert _lookup(client, number, code).status_code == 200
        # a success is counted by the ceiling only
        assert storage.get("LIMITER/127.0.0.1/status-client/10/10/minute") == 1
        assert storage.get(f"LIMITER/status-number:{number}/status-number/5/1/hour") == 1
        assert storage.get(f"LIMITER/status-number:{number}/status-number-all/60/1/hour") == 2


class TestHeaders:
    def test_every_answer_describes_the_client_budget_until_one_refuses(self, client, submit):
        number, code = _case(submit)
        found = _lookup(client, number, code)
        assert found.status_code == 200
        assert (found.headers["X-RateLimit-Limit"], found.headers["X-RateLimit-Remaining"]) == (
            "10",
            "10",
        )
        # nothing counted yet: the window ends now (as Flask-Limiter described it)
        assert 0 <= int(found.headers["Retry-After"]) <= 1
        missed = _lookup(client, number, _wrong(code))
        assert (missed.headers["X-RateLimit-Limit"], missed.headers["X-RateLimit-Remaining"]) == (
            "10",
            "9",
        )
        assert int(missed.headers["X-RateLimit-Reset"]) > time.time()
        assert 590 < int(missed.headers["Retry-After"]) <= 600
        for _ in range(4):
            assert _lookup(client, number, _wrong(code)).status_code == 404
        refused = _lookup(client, number, code)
        assert refused.status_code == 429 and refused.content_type == "application/problem+json"
        assert refused.json["detail"] == "5 per 1 hour"  # the per-number failure budget
        assert (refused.headers["X-RateLimit-Limit"], refused.headers["X-RateLimit-Remaining"]) == (
            "5",
            "0",
        )
        assert 600 < int(refused.headers["Retry-After"]) <= 3600

    def test_other_endpoints_carry_no_budget_headers(self, client, submit):
        number, code = _case(submit)
        assert _lookup(client, number, _wrong(code)).status_code == 404
        assert "X-RateLimit-Limit" not in client.get("/healthz").headers


class TestCeiling:
    @pytest.fixture
    def config(self, config):
        return {**config, "STATUS_LOOKUPS_PER_NUMBER": "3 per hour"}

    def test_every_lookup_of_a_number_counts_up_front_on_every_endpoint(self, client, submit):
        number, code = _case(submit)
        other = submit(intake_body()).json
        assert [_lookup(client, number, code).status_code for _ in range(2)] == [200, 200]
        assert _rating(client, number, code).status_code == 409  # not concluded; counted
        assert _lookup(client, number, code).status_code == 429
        assert _rating(client, number, code).status_code == 429
        assert _lookup(client, other["number"], other["query_code"]).status_code == 200


class TestSwitchedOff:
    @pytest.fixture
    def config(self, config):
        return {**config, "RATELIMIT_ENABLED": False}

    def test_nothing_is_counted_or_refused(self, client, submit):
        number, code = _case(submit)
        assert {_lookup(client, number, _wrong(code)).status_code for _ in range(12)} == {404}
        found = _lookup(client, number, code)
        assert found.status_code == 200 and "X-RateLimit-Limit" not in found.headers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_port(monkeypatch):
    """A loopback port for redis-server, chosen before the app is made (it is started later)."""
    pytest.importorskip("redis")
    from tests.e2e import conftest as e2e

    port = _free_port()
    monkeypatch.setattr(e2e, "_free_port", lambda: port)  # redis_server starts on this port
    return port


class TestLosingRedis:
    @pytest.fixture
    def config(self, config, redis_port):
        return {**config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{redis_port}/0"}

    def test_memory_counts_while_redis_is_down_and_redis_again_once_it_answers(
        self, app, client, submit, tmp_path, caplog
    ):
        import redis

        from tests.e2e.conftest import redis_server

        number, code = _case(submit)
        key = f"LIMITER/status-number:{number}/status-number/5/1/hour"
        budgets = app.extensions[throttle.EXTENSION]
        with redis_server(tmp_path) as server:
            assert _lookup(client, number, _wrong(code)).status_code == 404
            store = redis.Redis.from_url(server.url)
            assert int(store.get(f"LIMITS:{key}")) == 1  # the redis storage's own prefix
            store.close()
        # Redis is gone: no 500, and this process still throttles, in memory
        with caplog.at_level(logging.INFO, logger=throttle.__name__):
            assert _lookup(client, number, code).status_code == 200
            statuses = [_lookup(client, number, _wrong(code)).status_code for _ in range(6)]
        assert statuses == [404] * 5 + [429]
        assert throttle.STORE_LOST in caplog.text
        with redis_server(tmp_path) as server:  # a fresh, empty Redis on the same address
            budgets._last_check = 0  # its back-off has passed (not waited for here)
            with caplog.at_level(logging.INFO, logger=throttle.__name__):
                assert _lookup(client, number, _wrong(code)).status_code == 404
            assert "Rate limit storage recovered" in caplog.text
            store = redis.Redis.from_url(server.url)
            assert int(store.get(f"LIMITS:{key}")) == 1  # the redis storage's own prefix
            store.close()


def test_an_app_switched_off_leaves_the_next_one_counting(config):
    """Flask-Limiter keeps the last app's RATELIMIT_ENABLED as its default: every app says its
    own, or an app made after a switched-off one would count nothing."""
    from windowsvc import create_app
    from windowsvc.extensions import db, limiter

    off = create_app({**config, "RATELIMIT_ENABLED": False})
    on = create_app(config)
    try:
        assert off.extensions[throttle.EXTENSION] is None
        assert on.extensions[throttle.EXTENSION] is not None and limiter.enabled
    finally:
        for app in (off, on):
            with app.app_context():
                db.engine.dispose()


class TestWhatEachRequestIsCountedUnder:
    """A request is counted under the number its lookup uses, and only a store that fails makes
    a process count in memory (review findings: a padded number, a body that cannot be read)."""

    def _used_up(self, client, number, code):
        for _ in range(5):
            assert _lookup(client, number, _wrong(code)).status_code == 404
        assert _lookup(client, number, code).status_code == 429

    def test_a_number_padded_past_sixty_characters_finds_nothing_on_the_page(self, client, submit):
        from tests.factories import csrf_of

        number, code = _case(submit)
        self._used_up(client, number, code)
        padded = number + " " * 38 + "X1"  # its first 60 characters are the number
        token = csrf_of(client.get("/query/").get_data(as_text=True))
        answer = client.post(
            "/query/", data={"number": padded, "query_code": code, "csrf_token": token}
        )
        # no lookup of the case under a fresh per-number budget: the text is no number
        assert answer.status_code == 422
        assert "受理号" in answer.get_data(as_text=True)

    def test_the_api_counts_a_number_as_its_lookup_reads_it(self, app, client, submit):
        number, code = _case(submit)
        spaced = f"{number[:6]} {number[6:14]} {number[14:]}".lower()  # as people type it
        assert _lookup(client, spaced, _wrong(code)).status_code == 404
        storage = app.extensions[throttle.EXTENSION].storage
        assert storage.get(f"LIMITER/status-number:{number}/status-number/5/1/hour") == 1

    def test_a_body_that_cannot_be_read_does_not_switch_to_fresh_budgets(self, app, client, submit):
        number, code = _case(submit)
        self._used_up(client, number, code)
        poison = f'{{"number": "{number}", "number": "{number}", "query_code": "{code}"}}'
        refused = client.post("/api/v1/status", data=poison, content_type="application/json")
        assert refused.status_code == 422
        assert app.extensions[throttle.EXTENSION].store_lost is False
        assert _lookup(client, number, code).status_code == 429


def test_a_setting_that_names_no_limit_stops_the_start(config):
    from windowsvc import create_app

    with pytest.raises(ValueError, match="STATUS_LOOKUPS_PER_NUMBER"):
        create_app({**config, "STATUS_LOOKUPS_PER_NUMBER": "60 per fortnight"})
