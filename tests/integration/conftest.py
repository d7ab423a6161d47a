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
