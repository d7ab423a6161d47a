"""gunicorn's start-up check of the limiter's storage (windowsvc.platform.limiter_storage)."""

import logging

import pytest

from windowsvc.config import settings
from windowsvc.platform.limiter_storage import (
    UnsharedStorage,
    acknowledged,
    check_server,
    configure,
    per_process,
    unshared_budgets,
)


class TestUnsharedBudgets:
    def test_memory_with_several_workers_multiplies_every_budget(self):
        problem = unshared_budgets("memory://", 2)
        assert problem is not None and "2×" in problem and "redis://" in problem

    def test_one_worker_on_memory_counts_everything_in_one_place(self):
        assert unshared_budgets("memory://", 1) is None

    @pytest.mark.parametrize(
        "uri", ["redis://127.0.0.1:6379/0", "rediss://cache:6380", "memcached://10.0.0.5:11211"]
    )
    def test_a_shared_store_holds_for_any_number_of_workers(self, uri):
        assert not per_process(uri)
        assert unshared_budgets(uri, 8) is None

    def test_the_scheme_is_read_whatever_its_case(self):
        assert per_process("MEMORY://") and per_process("async+memory://")


class TestAcknowledgement:
    @pytest.mark.parametrize("value", [True, 1, "true", "1", "yes", "on", " TRUE "])
    def test_what_an_operator_writes_for_yes(self, value):
        assert acknowledged(value)

    @pytest.mark.parametrize("value", [None, False, 0, "", "false", "no", "0"])
    def test_anything_else_is_no(self, value):
        assert not acknowledged(value)


class TestCheckServer:
    def test_unacknowledged_memory_refuses_to_start_with_an_error(self, caplog):
        with caplog.at_level(logging.WARNING), pytest.raises(UnsharedStorage) as refused:
            check_server({"RATELIMIT_STORAGE_URI": "memory://"}, 2)
        assert refused.value.code == 1
        assert [r.levelname for r in caplog.records] == ["ERROR"]
        assert "refusing to start" in caplog.records[0].getMessage()

    def test_acknowledged_memory_starts_with_a_warning(self, caplog):
        config = {"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_MEMORY_ACKNOWLEDGED": True}
        with caplog.at_level(logging.WARNING):
            check_server(config, 3)
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        assert "3×" in caplog.records[0].getMessage()

    def test_redis_starts_silently(self, caplog):
        with caplog.at_level(logging.WARNING):
            check_server({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}, 4)
        assert caplog.records == []

    def test_the_check_reads_the_same_environment_as_the_app(self, monkeypatch):
        monkeypatch.setenv("WINDOWSVC_RATELIMIT_STORAGE_URI", "memory://")
        monkeypatch.setenv("WINDOWSVC_RATELIMIT_MEMORY_ACKNOWLEDGED", "true")
        config = settings()
        assert config["RATELIMIT_MEMORY_ACKNOWLEDGED"] is True
        check_server(config, 2)  # acknowledged: no exception
        monkeypatch.delenv("WINDOWSVC_RATELIMIT_MEMORY_ACKNOWLEDGED")
        with pytest.raises(UnsharedStorage):
            check_server(settings(), 2)  # the default is no


class TestConfigure:
    def test_a_lost_redis_falls_back_to_memory_with_short_timeouts(self):
        config = {"RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/0"}
        configure(config)
        assert config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
        assert config["RATELIMIT_SWALLOW_ERRORS"] is True
        assert config["RATELIMIT_STORAGE_OPTIONS"]["socket_connect_timeout"] <= 1

    def test_other_stores_get_no_redis_options_and_an_operators_choice_stands(self):
        memory = {"RATELIMIT_STORAGE_URI": "memory://"}
        configure(memory)
        assert "RATELIMIT_STORAGE_OPTIONS" not in memory
        chosen = {"RATELIMIT_STORAGE_URI": "redis://r", "RATELIMIT_STORAGE_OPTIONS": {"db": 2}}
        configure(chosen)
        assert chosen["RATELIMIT_STORAGE_OPTIONS"] == {"db": 2}


class TestChecksInViewsOnly:
    """Flask-Limiter's before-request check is dropped only where no limit needs it."""

    @staticmethod
    def _app(**limiter_options):
        from flask import Flask
        from flask_limiter import Limiter
        from flask_limiter.util import get_remote_address

        app = Flask(__name__)
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"
        limiter = Limiter(key_func=get_remote_address, **limiter_options)
        limiter.init_app(app)

        @app.get("/free")
        def free():
            return "free"

        @app.get("/guarded")
        @limiter.limit("1 per minute")
        def guarded():
            return "guarded"

        return app, limiter

    def test_without_default_limits_the_check_goes_and_decorated_limits_still_hold(self):
        from windowsvc.platform.limiter_storage import check_in_views_only

        app, limiter = self._app(default_limits=[])
        assert check_in_views_only(app, limiter)
        assert limiter._check_request_limit not in app.before_request_funcs[None]
        client = app.test_client()
        assert [client.get("/guarded").status_code for _ in range(2)] == [200, 429]
        assert [client.get("/free").status_code for _ in range(3)] == [200, 200, 200]

    def test_a_default_limit_keeps_the_check(self):
        from windowsvc.platform.limiter_storage import check_in_views_only

        app, limiter = self._app(default_limits=["2 per minute"])
        assert not check_in_views_only(app, limiter)
        client = app.test_client()
        assert [client.get("/free").status_code for _ in range(3)] == [200, 200, 429]

    def test_in_memory_fallback_limits_keep_the_check(self):
        from windowsvc.platform.limiter_storage import check_in_views_only

        app, limiter = self._app(default_limits=[], in_memory_fallback=["5 per minute"])
        assert not check_in_views_only(app, limiter)
        assert limiter._check_request_limit in app.before_request_funcs[None]

    def test_a_switched_off_limiter_is_left_alone(self):
        from flask import Flask
        from flask_limiter import Limiter
        from flask_limiter.util import get_remote_address

        from windowsvc.platform.limiter_storage import check_in_views_only

        app = Flask(__name__)
        app.config.update(RATELIMIT_ENABLED=False, RATELIMIT_STORAGE_URI="memory://")
        limiter = Limiter(key_func=get_remote_address)
        limiter.init_app(app)
        assert not check_in_views_only(app, limiter)  # and no ValueError: nothing registered

    def test_the_service_checks_its_budgets_in_its_views_only(self, app):
        from windowsvc.extensions import limiter

        assert limiter._check_request_limit not in app.before_request_funcs[None]
