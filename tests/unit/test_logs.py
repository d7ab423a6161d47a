"""gunicorn's access log in the app's JSON format (gunicorn.conf.py + windowsvc/logs.py)."""

import json
import logging
import runpy
from datetime import timedelta
from pathlib import Path

from gunicorn.glogging import Logger, SafeAtoms

from windowsvc.logs import JsonFormatter

SETTINGS = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
TOKEN = "wsv_not-for-the-log"


class Response:
    status = "404 NOT FOUND"
    sent = 215
    headers = [("Content-Type", "application/problem+json"), ("X-Request-ID", "rq-9")]


class Request:
    headers = [("AUTHORIZATION", f"Bearer {TOKEN}"), ("USER-AGENT", "scjg-worker/1.0")]


def access_line(environ_notes: dict) -> dict:
    """The access line gunicorn writes for one request, through its own atoms and our format."""
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/applications/330100202603020100001X?x=1",
        "PATH_INFO": "/api/v1/applications/330100202603020100001X",
        "QUERY_STRING": "x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
        "HTTP_USER_AGENT": "scjg-worker/1.0",
        **environ_notes,
    }
    atoms = Logger.atoms(object.__new__(Logger), Response, Request, environ, timedelta(0, 0, 12500))
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        SETTINGS["access_log_format"],
        (SafeAtoms(atoms),),
        None,
    )
    return json.loads(JsonFormatter().format(record))


class TestAccessLog:
    def test_an_access_line_carries_the_request_id_case_and_principal_the_app_noted(self):
        line = access_line(
            {
                "windowsvc.request_id": "rq-9",
                "windowsvc.acceptance_number": "330100202603020100001X",
                "windowsvc.principal": {"name": "市场监管审批系统", "role": "backoffice"},
            }
        )
        assert line == {
            "time": line["time"],
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": "GET /api/v1/applications/330100202603020100001X 404",
            "remote_addr": "10.0.0.7",
            "method": "GET",
            "path": "/api/v1/applications/330100202603020100001X",
            "status": 404,
            "bytes": 215,
            "duration_ms": 12,
            "user_agent": "scjg-worker/1.0",
            "request_id": "rq-9",
            "acceptance_number": "330100202603020100001X",
            "principal": {"name": "市场监管审批系统", "role": "backoffice"},
        }

    def test_a_request_the_app_never_saw_has_no_app_fields(self):
        line = access_line({})
        assert not {"request_id", "acceptance_number", "principal"} & set(line)

    def test_no_header_and_no_query_string_reach_the_access_line(self):
        text = json.dumps(access_line({}))
        assert TOKEN not in text
        assert "x=1" not in text

    def test_gunicorn_formats_its_loggers_and_the_root_with_the_apps_formatter(self):
        config = SETTINGS["logconfig_dict"]
        assert config["formatters"]["json"]["()"] == "windowsvc.logs.JsonFormatter"
        assert {h["formatter"] for h in config["handlers"].values()} == {"json"}
        assert config["loggers"]["transitions"]["level"] == "WARNING"
        for name in ("gunicorn.error", "gunicorn.access"):
            assert config["loggers"][name]["propagate"] is False  # one line, not two
