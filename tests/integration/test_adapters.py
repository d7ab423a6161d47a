"""Adapters over real loopback HTTP: shared-data evidence (一证通办), push departments, outbox."""

import json
import threading
from datetime import timedelta

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from tests.factories import FOOD_REQUIRED, applicant, bearer, intake_body, staff_view

COMPANY = {
    "type": "organization",
    "name": "杭州味道餐饮管理有限公司",
    "id_type": "uscc",
    "id_number": "91330100MA2H3X4Y5K",
    "phone": "13812345678",
}


class Served:
    """A WSGI app on a loopback port, for as long as the test needs it."""

    def __init__(self, wsgi_app):
        self.http = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def serve():
    """Start loopback servers; all are stopped after the test."""
    started = []

    def _serve(wsgi_app):
        served = Served(wsgi_app)
        started.append(served)
        return served

    yield _serve
    for served in started:
        served.close()


def _use_evidence(app, url):
    from windowsvc import clock
    from windowsvc.adapters.evidence import HttpEvidenceSource

    app.extensions["windowsvc.adapters"].evidence = HttpEvidenceSource(url, clock.now, timeout=2)


class TestEvidenceSources:
    def test_materials_held_in_shared_data_are_fetched_and_recorded(self, app, serve, submit):
        from windowsvc.adapters.evidence import demo_holders
        from windowsvc.simulators.evidence_server import create_evidence_app

        _use_evidence(app, serve(create_evidence_app(demo_holders())).url)
        handed_in = [
            c for c in FOOD_REQUIRED if c not in ("business_licence", "legal_representative_id")
        ]
        body = {**intake_body(materials=handed_in), "applicant": COMPANY}
        created = submit(body).json
        fetched = {m["code"]: m for m in created["materials"] if m["source"] != "applicant"}
        assert fetched["business_licence"]["evidence_id"] == "business_licence:91330100MA2H3X4Y5K"
        assert fetched["business_licence"]["fetched_at"]
        # the company holds no resident ID: that one stays missing, with the reason
        missing = {m["code"]: m for m in created["missing_materials"]}
        assert set(missing) == {"legal_representative_id"}
        assert "未查到" in missing["legal_representative_id"]["reason"]
        assert created["state"] == "correction"

    def test_a_source_that_is_down_leaves_materials_missing_with_a_reason(self, app, submit):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        _use_evidence(app, f"http://127.0.0.1:{closed_port}")
        handed_in = [c for c in FOOD_REQUIRED if c != "business_licence"]
        response = submit({**intake_body(materials=handed_in), "applicant": COMPANY})
        assert response.status_code == 201
        [missing] = response.json["missing_materials"]
        assert missing["code"] == "business_licence" and "暂不可用" in missing["reason"]

    def test_a_source_answering_errors_never_causes_a_500(self, app, serve, submit):
        from windowsvc.simulators.evidence_server import create_evidence_app

        _use_evidence(app, serve(create_evidence_app({}, fail_with=500)).url)
        handed_in = [c for c in FOOD_REQUIRED if c != "business_licence"]
        response = submit({**intake_body(materials=handed_in), "applicant": COMPANY})
        assert response.status_code == 201
        assert "500" in response.json["missing_materials"][0]["reason"]

    def test_handed_in_materials_are_not_fetched(self, app, serve, submit):
        calls = []
        fake = Flask("counting")

        @fake.post("/v1/evidence/lookup")
        def lookup():
            calls.append(request.get_json())
            return jsonify(error="not held"), 404

        _use_evidence(app, serve(fake).url)
        submit(intake_body())
        assert calls == []


def _department_server(answer):
    """A department system answering every pushed task with ``answer`` (a dict or a status)."""
    received = []
    department = Flask("department")

    @department.post("/tasks")
    def take():
        received.append((request.headers.get("Idempotency-Key"), request.get_json()))
        if isinstance(answer, int):
            return jsonify(error="down"), answer
        return jsonify(answer)

    return department, received


class TestPushDepartments:
    def test_a_push_department_decides_through_its_api(
        self, app, client, tokens, serve, submit, frozen_clock
    ):
        from windowsvc.adapters.push import HttpDepartmentPush
        from windowsvc.services.queue import dispatch

        department, received = _department_server(
            {"outcome": "approve", "comment": "审查通过", "result": {"licence_no": "JY13301000001"}}
        )
        url = serve(department).url + "/tasks"
        number = submit().json["number"]
        with app.app_context():
            handled = dispatch.serve_push_departments({"scjg": HttpDepartmentPush(url)})
        # both of the item's stages belong to scjg: the dispatcher serves the second as it opens
        assert handled == 2
        key, task = received[0]
        assert task["application"]["number"] == number and key == f"{task['id']}:1"
        case = client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"])).json
        assert [s["state"] for s in case["steps"]] == ["completed", "completed"]
        assert case["steps"][0]["result"] == {"licence_no": "JY13301000001"}
        assert case["state"] == "result_ready"

    def test_a_failing_department_is_retried_then_raises_an_incident(
        self, app, client, tokens, serve, submit, frozen_clock
    ):
        from windowsvc.adapters.push import HttpDepartmentPush
        from windowsvc.services.queue import dispatch

        department, received = _department_server(500)
        pusher = {"scjg": HttpDepartmentPush(serve(department).url + "/tasks", retries=0)}
        number = submit().json["number"]
        for _ in range(3):
            with app.app_context():
                dispatch.serve_push_departments(pusher)
            frozen_clock.moment += timedelta(minutes=5)
        case = client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"])).json
        assert len(received) == 3
        assert case["steps"][0]["state"] == "incident"
        assert "HTTP 500" in case["steps"][0]["error_message"]

    def test_an_incomplete_answer_is_a_failure_of_that_task_not_of_the_dispatcher(
        self, app, client, tokens, submit, frozen_clock
    ):
        from windowsvc.services.queue import dispatch

        class DenyWithoutReason:
            def handle(self, task):
                return {"outcome": "deny"}

        number = submit().json["number"]
        with app.app_context():
            assert dispatch.serve_push_departments({"scjg": DenyWithoutReason()}) == 1
        step = staff_view(client, tokens["window"], number)["steps"][0]
        assert step["state"] == "pending"
        assert "理由" in step["error_message"]


class TestOutbox:
    def test_notices_are_written_with_the_change_and_delivered_once(self, app, submit, tmp_path):
        from windowsvc.adapters.push import LogNotifier
        from windowsvc.services.queue import dispatch

        number = submit(intake_body(materials=FOOD_REQUIRED[:2])).json["number"]
        log = tmp_path / "notices.jsonl"
        with app.app_context():
            assert dispatch.deliver_outbox({"notice": LogNotifier(log)}) == 2
            assert dispatch.deliver_outbox({"notice": LogNotifier(log)}) == 0
        receipt, notice = (json.loads(line) for line in log.read_text("utf-8").splitlines())
        assert receipt["payload"]["title"] == "收件回执"
        assert notice["payload"]["number"] == number
        assert notice["payload"]["title"] == "一次性补正告知书"
        assert notice["target"] == applicant()["phone"]

    def test_a_sender_that_dies_mid_delivery_loses_nothing(
        self, app, submit, frozen_clock, tmp_path
    ):
        from windowsvc.adapters.push import LogNotifier
        from windowsvc.platform import outbox
        from windowsvc.services.queue import dispatch

        submit()
        with app.app_context():
            claimed = outbox.claim()  # a dispatcher took the messages... and crashed
            assert claimed
            assert dispatch.deliver_outbox({"notice": LogNotifier(tmp_path / "n")}) == 0
            frozen_clock.moment += outbox.LEASE + timedelta(seconds=1)
            assert dispatch.deliver_outbox({"notice": LogNotifier(tmp_path / "n")}) == len(claimed)

    def test_a_failed_delivery_is_retried_with_backoff(self, app, submit, frozen_clock, tmp_path):
        from windowsvc.adapters.push import LogNotifier
        from windowsvc.services.queue import dispatch

        class Broken:
            def send(self, message):
                raise ConnectionError("gateway down")

        submit()
        with app.app_context():
            assert dispatch.deliver_outbox({"notice": Broken()}) == 0
            assert dispatch.deliver_outbox({"notice": LogNotifier(tmp_path / "n")}) == 0
            frozen_clock.moment += timedelta(seconds=3)
            assert dispatch.deliver_outbox({"notice": LogNotifier(tmp_path / "n")}) >= 1

    def test_a_sender_whose_lease_was_taken_over_cannot_undo_a_delivery(
        self, app, submit, frozen_clock
    ):
        from windowsvc.extensions import db
        from windowsvc.models import OutboxMessage
        from windowsvc.platform import outbox

        submit()
        with app.app_context():
            [first, *_] = outbox.claim()
            frozen_clock.moment += outbox.LEASE + timedelta(seconds=1)
            [again, *_] = outbox.claim()
            assert again["id"] == first["id"]
            assert again["attempts"] == first["attempts"] + 1
            outbox.delivered(again["id"])
            outbox.failed(first["id"], first["attempts"], "slow gateway finally gave up")
            assert db.session.get(OutboxMessage, first["id"]).state == "sent"
