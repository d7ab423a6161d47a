"""Logs: JSON lines naming the request, the case and the principal; no secrets, no noise."""

import json
import logging
import re

import pytest

from tests.factories import bearer
from windowsvc import create_app
from windowsvc.logs import JsonFormatter
from windowsvc.platform.policy import allow

CASE = "330100202603020100001X"


def log_lines(captured: str) -> list[dict]:
    """The JSON objects written to stderr, one per line; any other line fails the test."""
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


@pytest.fixture
def noted(app):
    """An endpoint that writes one INFO line about the case in its path."""

    @allow("window", "backoffice")
    def note(number):
        logging.getLogger("windowsvc.tests").info("looked at the case")
        return {"ok": True}

    app.add_url_rule("/api/v1/tests/notes/<number:number>", view_func=note)
    return f"/api/v1/tests/notes/{CASE}"


class TestRequestLogs:
    def test_a_line_written_during_a_request_carries_its_id_case_and_principal(
        self, client, tokens, noted, capsys
    ):
        capsys.readouterr()
        response = client.get(noted, headers={**bearer(tokens["window"]), "X-Request-ID": "rq-1"})
        assert response.status_code == 200
        lines = [e for e in log_lines(capsys.readouterr().err) if e["logger"] == "windowsvc.tests"]
        assert lines == [
            {
                "time": lines[0]["time"],
                "level": "INFO",
                "logger": "windowsvc.tests",
                "message": "looked at the case",
                "request_id": "rq-1",
                "acceptance_number": CASE,
                "principal": {"name": "测试window", "role": "window"},
            }
        ]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", lines[0]["time"])

    def test_a_department_principal_is_logged_with_its_department(
        self, client, tokens, noted, capsys
    ):
        capsys.readouterr()
        client.get(noted, headers=bearer(tokens["scjg"]))
        [line] = [e for e in log_lines(capsys.readouterr().err) if e["logger"] == "windowsvc.tests"]
        assert line["principal"] == {"name": "测试scjg", "role": "backoffice", "department": "scjg"}

    def test_state_changes_write_no_transitions_info_lines(self, submit, capsys):
        capsys.readouterr()
        created = submit()
        assert created.status_code == 201
        assert created.json["state"] == "in_progress"  # accept and start fired the machine
        captured = capsys.readouterr().err
        assert "Finished processing state" not in captured
        assert not [e for e in log_lines(captured) if e["logger"].startswith("transitions")]


class TestRequestId:
    def test_the_callers_request_id_is_echoed(self, client):
        response = client.get("/healthz", headers={"X-Request-ID": "desk-7:2026.03.02"})
        assert response.headers["X-Request-ID"] == "desk-7:2026.03.02"

    def test_a_request_without_an_id_is_given_a_fresh_one(self, client):
        first = client.get("/healthz").headers["X-Request-ID"]
        second = client.get("/healthz").headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", first)
        assert first != second

    def test_a_request_id_that_could_forge_a_log_line_is_replaced(self, client):
        forged = 'x", "level": "CRITICAL'
        response = client.get("/healthz", headers={"X-Request-ID": forged})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])

    def test_a_refused_request_has_an_id_too(self, client):
        response = client.get("/api/v1/applications", headers={"X-Request-ID": "no-token"})
        assert response.status_code == 401
        assert response.headers["X-Request-ID"] == "no-token"


class TestSecretsStayOutOfLogs:
    def test_a_status_lookup_never_logs_its_query_code_or_a_token(
        self, config, client, submit, tokens, capsys, caplog
    ):
        caplog.set_level(logging.DEBUG)  # first: put back INFO afterwards
        create_app({**config, "LOG_LEVEL": "DEBUG"})  # every line any library writes
        created = submit().json
        number, code = created["number"], created["query_code"]
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        capsys.readouterr()
        for query_code in (code, wrong):
            client.post("/api/v1/status", json={"number": number, "query_code": query_code})
        client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"]))
        written = capsys.readouterr().err + caplog.text
        without_number = written.replace(number, "")
        assert code not in without_number
        assert wrong not in without_number
        assert tokens["window"] not in written


class TestConfiguration:
    def test_building_the_app_again_adds_no_second_handler(self, config):
        create_app(config)
        create_app(config)
        root = logging.getLogger()
        assert sum(isinstance(h.formatter, JsonFormatter) for h in root.handlers) == 1
        assert logging.getLogger("transitions").getEffectiveLevel() == logging.WARNING
