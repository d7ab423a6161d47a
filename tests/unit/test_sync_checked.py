"""Flask's async check, remembered per function (platform/sync_checked.py)."""

import gc

from windowsvc.platform.sync_checked import SyncChecked


class Handler:
    def plain(self):
        return "plain"

    async def later(self):
        return "later"


class Unhashable:
    __hash__ = None

    def __call__(self):
        return "called"


def wrapped_by(app, monkeypatch):
    """Replace async_to_sync with a marker so the test needs no asgiref."""
    seen = []
    monkeypatch.setattr(app, "async_to_sync", lambda func: seen.append(func) or ("wrapped", func))
    return seen


def test_plain_functions_and_bound_methods_pass_through_and_are_remembered(monkeypatch):
    app = SyncChecked(__name__)
    seen = wrapped_by(app, monkeypatch)

    def hook():
        return "hook"

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    bound = Handler().plain
    assert app.ensure_sync(bound) is bound
    # a method bound afresh (as a MethodView's dispatch_request is) is answered for its function
    assert app._synchronous.get(hook) is True
    assert app._synchronous.get(Handler.plain) is True
    assert seen == []


def test_coroutine_functions_still_go_to_async_to_sync_every_time(monkeypatch):
    app = SyncChecked(__name__)
    seen = wrapped_by(app, monkeypatch)

    async def view():
        return "view"

    assert app.ensure_sync(view) == ("wrapped", view)
    assert app.ensure_sync(view) == ("wrapped", view)  # the remembered answer, same outcome
    bound = Handler().later
    assert app.ensure_sync(bound) == ("wrapped", bound)
    assert app._synchronous.get(view) is False
    assert seen == [view, view, bound]


def test_a_function_made_for_one_request_is_not_kept_alive(monkeypatch):
    app = SyncChecked(__name__)
    wrapped_by(app, monkeypatch)

    def once(response):
        return response

    app.ensure_sync(once)
    assert len(app._synchronous) == 1
    del once
    gc.collect()
    assert len(app._synchronous) == 0


def test_a_callable_that_cannot_be_remembered_is_checked_as_flask_checks_it(monkeypatch):
    app = SyncChecked(__name__)
    seen = wrapped_by(app, monkeypatch)
    odd = Unhashable()
    assert app.ensure_sync(odd) is odd
    assert len(app._synchronous) == 0 and seen == []


def test_the_app_answers_through_it(client):
    assert client.application.ensure_sync.__func__ is SyncChecked.ensure_sync
    assert client.get("/healthz").status_code == 200
