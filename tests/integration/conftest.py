"""Fixtures for integration tests: submitting, acting on, deciding and rating cases over HTTP."""

import threading
import uuid

import pytest
from werkzeug.serving import make_server

from tests.factories import bearer, intake_body


@pytest.fixture
def submit(client, tokens):
    """POST an application with a fresh Idempotency-Key (or the given one)."""

    def _submit(body=None, key=None, token=None):
        headers = {**bearer(token or tokens["window"]), "Idempotency-Key": key or uuid.uuid4().hex}
        return client.post("/api/v1/applications", json=body or intake_body(), headers=headers)

    return _submit


@pytest.fixture
def act(client, tokens):
    """POST an action with the right If-Match unless told otherwise."""

    def _act(number, action, payload=None, token=None, version=None, role="window"):
        token = token or tokens[role]
        if version is None:
            version = client.get(f"/api/v1/applications/{number}", headers=bearer(token)).json[
                "version"
            ]
        headers = {**bearer(token), "If-Match": f'"{version}"'}
        return client.post(
            f"/api/v1/applications/{number}/actions/{action}", json=payload or {}, headers=headers
        )

    return _act


@pytest.fixture
def decide(app):
    """Have every department complete the case's steps, stage after stage, through the queue."""
    from datetime import timedelta

    from windowsvc import clock
    from windowsvc.db import write_transaction
    from windowsvc.models import Application, Step
    from windowsvc.services.cases.records import Actor
    from windowsvc.services.queue import tasks

    def _open_steps(number):
        with app.app_context():
            application = Application.query.filter_by(number=number).one()
            return [(s.id, s.department) for s in application.steps if s.state == "pending"]

    def _decide(number, outcome="approve", reason="不符合法定条件"):
        first = True
        while steps := _open_steps(number):
            for step_id, department in steps:
                with app.app_context():
                    with write_transaction() as session:
                        step = session.get(Step, step_id)
                        step.state, step.lock_owner = "locked", "test-worker"
                        step.lock_expires_at = clock.now() + timedelta(minutes=5)
                    actor = Actor(None, f"{department}-system", "backoffice", department)
                    this = outcome if first else "approve"
                    tasks.complete(
                        step_id,
                        actor,
                        "test-worker",
                        this,
                        comment=reason if this == "deny" else None,
                    )
                first = False

    return _decide


@pytest.fixture
def served(app):
    """The app over real HTTP on a loopback port for the duration of a test; its base URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    http.server_close()
    thread.join(timeout=5)


@pytest.fixture
def conclude(submit, decide, act):
    """Submit a case, have it decided and (when approved) delivered; its number and query code."""

    def _conclude(body=None, outcome="approve", token=None):
        response = submit(body, token=token)
        assert response.status_code == 201, response.json
        created = response.json
        if created["state"] == "submitted":  # online: the window's pre-review accepts it
            assert act(created["number"], "accept").status_code == 200
        decide(created["number"], outcome)
        if outcome == "approve":
            delivered = act(created["number"], "deliver", {"method": "window"})
            assert delivered.status_code == 200, delivered.json
        return created["number"], created["query_code"]

    return _conclude


@pytest.fixture
def rate(client):
    """POST a rating with number + query code."""

    def _rate(number, query_code, level, tags=(), comment=""):
        body = {"number": number, "query_code": query_code, "level": level, "tags": list(tags)}
        if comment:
            body["comment"] = comment
        return client.post("/api/v1/ratings", json=body)

    return _rate
