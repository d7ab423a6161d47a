"""GET /metrics (Prometheus text) and /readyz: who may read, what they show, and what they hide."""

import time
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import PARALLEL, PARALLEL_REQUIRED, applicant, bearer, intake_body
from windowsvc.platform import shutdown

NAMES = (
    "windowsvc_http_request_duration_seconds",
    "windowsvc_http_requests_in_progress",
    "windowsvc_db_pool_checked_out",
    "windowsvc_database_up",
    "windowsvc_tasks_pending",
    "windowsvc_tasks_oldest_pending_age_seconds",
    "windowsvc_incidents_open",
    "windowsvc_warnings",
    "windowsvc_outbox_messages",
    "windowsvc_outbox_oldest_undelivered_age_seconds",
)
pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def monitor(app):
    """A scraper's bearer token (role monitor)."""
    from windowsvc.services.admin import credentials

    with app.app_context():
        return credentials.create("monitor", "prometheus")[1]


@pytest.fixture
def scrape(client, monitor):
    """GET /metrics as the monitor: {name: [(labels, value), ...]} and the raw text."""

    def _scrape():
        response = client.get("/metrics", headers=bearer(monitor))
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.content_type.startswith("text/plain")
        text = response.get_data(as_text=True)
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((sample.labels, sample.value))
        return samples, text

    return _scrape


def _by_department(samples, name, department):
    return sum(v for labels, v in samples.get(name, []) if labels["department"] == department)


def test_metrics_need_a_monitor_or_admin_token(client, tokens, monitor):
    assert client.get("/metrics").status_code == 401
    for role in ("window", "oversight", "scjg"):
        assert client.get("/metrics", headers=bearer(tokens[role])).status_code == 403
    assert client.get("/metrics", headers=bearer(tokens["admin"])).status_code == 200
    # the scraper's token opens nothing else
    assert client.get("/api/v1/applications", headers=bearer(monitor)).status_code == 403
    assert client.get("/api/v1/incidents", headers=bearer(monitor)).status_code == 403


def test_every_family_is_there(scrape):
    samples, text = scrape()
    for name in NAMES:
        assert f"# TYPE {name} " in text, name
    assert samples["windowsvc_database_up"] == [({}, 1.0)]
    levels = {labels["level"]: value for labels, value in samples["windowsvc_warnings"]}
    assert levels == {"yellow_warning": 0, "yellow_card": 0, "red_card": 0}


def test_pending_tasks_match_what_a_department_can_fetch(client, submit, tokens, scrape):
    numbers = []
    for _ in range(3):
        created = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
        assert created.status_code == 201, created.json
        numbers.append(created.json["number"])
    samples, text = scrape()
    pending = _by_department(samples, "windowsvc_tasks_pending", "zjj")
    fetched = client.post(
        "/api/v1/tasks/fetch-and-lock",
        json={"worker_id": "zjj-1", "max_tasks": 100},
        headers=bearer(tokens["zjj"]),
    )
    assert fetched.status_code == 200, fetched.json
    assert pending == len(fetched.json) == 3  # one stage-0 step of zjj per case
    # the other departments of stage 0 still wait, one step per case each
    assert _by_department(samples, "windowsvc_tasks_pending", "zrzy") == 3
    after, _text = scrape()
    assert _by_department(after, "windowsvc_tasks_pending", "zjj") == 0
    # nothing that names a case or a person
    person = applicant()
    for secret in (*numbers, person["name"], person["id_number"], person["phone"]):
        assert secret not in text
    assert "/api/v1/applications/" not in text  # paths are never labels


def test_oldest_pending_age_follows_the_clock(submit, frozen_clock, scrape):
    created = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
    assert created.status_code == 201, created.json
    frozen_clock.moment += timedelta(seconds=120)
    samples, _text = scrape()
    ages = [v for labels, v in samples["windowsvc_tasks_oldest_pending_age_seconds"]]
    assert ages and all(age == 120 for age in ages)


def test_outbox_backlog_drains_with_the_dispatcher(app, submit, scrape, tmp_path):
    created = submit()
    assert created.status_code == 201, created.json
    samples, _text = scrape()
    backlog = {labels["state"]: v for labels, v in samples["windowsvc_outbox_messages"]}
    assert backlog["pending"] >= 1
    app.config["NOTICE_LOG"] = str(tmp_path / "notices.jsonl")
    result = app.test_cli_runner().invoke(args=["dispatch", "--once"])
    assert result.exit_code == 0, result.output
    samples, _text = scrape()
    backlog = {labels["state"]: v for labels, v in samples["windowsvc_outbox_messages"]}
    assert backlog["pending"] == backlog["sending"] == 0
    assert samples["windowsvc_outbox_oldest_undelivered_age_seconds"] == [({}, 0.0)]


def test_the_sweep_leaves_its_last_success(app, frozen_clock, scrape, tmp_path):
    app.config["SWEEP_STAMP_FILE"] = str(tmp_path / "var" / "sweep-last-success")
    samples, _text = scrape()
    assert "windowsvc_sweep_last_success_timestamp_seconds" not in samples
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    samples, _text = scrape()
    assert samples["windowsvc_sweep_last_success_timestamp_seconds"] == [
        ({}, frozen_clock.moment.timestamp())
    ]


def test_requests_are_counted_by_endpoint_not_path(client, submit, tokens, scrape):
    number = submit().json["number"]
    detail = {"endpoint": "applications.ApplicationDetail", "method": "GET", "status": "2xx"}

    def count(samples):
        counted = samples.get("windowsvc_http_request_duration_seconds_count", [])
        return sum(v for labels, v in counted if labels == detail)

    before, _text = scrape()  # the registry is the test process's: count what this test adds
    for _ in range(2):
        response = client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"]))
        assert response.status_code == 200
    after, text = scrape()
    assert count(after) - count(before) == 2
    assert number not in text


def test_readyz_names_an_old_migration(app, client):
    from flask_migrate import downgrade, upgrade

    directory = app.extensions["migrate"].directory
    with app.app_context():
        downgrade(directory=directory, revision="-1")
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.content_type == "application/problem+json"
        assert response.json["down"] == ["migrations"]
        assert "migration" in response.json["detail"]
    finally:
        with app.app_context():
            upgrade(directory=directory)
    assert client.get("/readyz").status_code == 200


def test_a_draining_process_answers_polls_at_once_and_is_not_ready(client, tokens, monkeypatch):
    from windowsvc.platform.wakeup import WAKEUP

    waits = []
    monkeypatch.setattr(WAKEUP, "wait", lambda *args: waits.append(args))
    shutdown.begin()
    try:
        polled = client.post(
            "/api/v1/tasks/fetch-and-lock",
            json={"worker_id": "scjg-1", "wait_seconds": 30},
            headers=bearer(tokens["scjg"]),
        )
        ready = client.get("/readyz")
    finally:
        shutdown.reset()
    assert polled.status_code == 200 and polled.json == []
    assert waits == []  # it never waited
    assert ready.status_code == 503 and ready.json["down"] == ["process"]


def test_readyz_follows_the_throttles_redis(config, tmp_path):
    """A real redis-server (Debian's) on a loopback port: ready while it answers, 503 naming
    redis once it is gone."""
    pytest.importorskip("redis")  # the limiter's redis:// client
    import shutil
    import socket
    import subprocess

    from windowsvc import create_app
    from windowsvc.extensions import db

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server (make redis-tools installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    redis_server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    app = create_app({**config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0"})
    client = app.test_client()
    try:
        for _ in range(200):  # until it listens
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.02)
        up = client.get("/readyz")
        redis_server.terminate()
        redis_server.wait(timeout=10)
        down = client.get("/readyz")
    finally:
        if redis_server.poll() is None:
            redis_server.kill()
            redis_server.wait(timeout=10)
        with app.app_context():
            db.engine.dispose()
    assert up.status_code == 200, up.get_data(as_text=True)
    assert up.json["redis"] == "redis answers"
    assert down.status_code == 503
    assert down.json["down"] == ["redis"]
    assert down.headers["Retry-After"] == "5"


def test_an_incident_is_counted_for_its_department(client, submit, tokens, scrape):
    for _ in range(2):
        created = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
        assert created.status_code == 201, created.json
    fetched = client.post(
        "/api/v1/tasks/fetch-and-lock",
        json={"worker_id": "zjj-1", "max_tasks": 1},
        headers=bearer(tokens["zjj"]),
    )
    assert fetched.status_code == 200 and len(fetched.json) == 1, fetched.json
    failed = client.post(
        f"/api/v1/tasks/{fetched.json[0]['id']}/failure",
        json={"worker_id": "zjj-1", "error_message": "接口超时", "retries": 0},
        headers=bearer(tokens["zjj"]),
    )
    assert failed.status_code in (200, 204), failed.get_data(as_text=True)
    samples, _text = scrape()
    incidents = {labels["department"]: v for labels, v in samples["windowsvc_incidents_open"]}
    assert incidents == {"zjj": 1}
    assert _by_department(samples, "windowsvc_tasks_pending", "zjj") == 1  # the other case's
    listed = client.get("/api/v1/incidents", headers=bearer(tokens["admin"]))
    assert len(listed.json) == 1


def test_a_sweep_that_cannot_write_its_stamp_still_succeeds(app, scrape, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app.config["SWEEP_STAMP_FILE"] = str(blocker / "sweep-last-success")
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    samples, _text = scrape()
    assert "windowsvc_sweep_last_success_timestamp_seconds" not in samples
