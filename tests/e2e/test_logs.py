"""gunicorn with gunicorn.conf.py writes every line of its log as one JSON object."""

import json
import time
import uuid

import requests

from tests.e2e.conftest import WINDOW_PRINCIPALS

CASE = "330100202603020100001X"


def written_during(server, call, request_id: str) -> list[str]:
    """The server log's lines written from just before ``call`` until its access line is in."""
    start = server.log_path.stat().st_size
    call()
    deadline, text = time.monotonic() + 5, ""
    while request_id not in text and time.monotonic() < deadline:
        time.sleep(0.05)
        with open(server.log_path, "rb") as log:
            log.seek(start)
            text = log.read().decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()]


def test_the_access_line_of_a_request_names_its_id_case_and_principal(live_server):
    request_id = f"e2e-{uuid.uuid4().hex}"
    answers = []
    headers = {
        "Authorization": f"Bearer {live_server.tokens['window']}",
        "X-Request-ID": request_id,
    }
    url = f"{live_server.url}/api/v1/applications/{CASE}"
    lines = written_during(
        live_server,
        lambda: answers.append(requests.get(url, headers=headers, timeout=10)),
        request_id,
    )
    assert answers[0].headers["X-Request-ID"] == request_id
    found = [json.loads(line) for line in lines if request_id in line]
    assert len(found) == 1, live_server.log_tail()
    assert found[0]["logger"] == "gunicorn.access"
    assert found[0]["status"] == answers[0].status_code
    assert found[0]["acceptance_number"] == CASE
    assert found[0]["principal"] == {"name": WINDOW_PRINCIPALS["window"], "role": "window"}
    assert not [line for line in lines if live_server.tokens["window"] in line]


def test_what_a_request_writes_to_the_server_log_is_json_only(live_server):
    request_id = f"e2e-{uuid.uuid4().hex}"
    submitted = {
        "item_code": "330100-GG-RSJ-0021",
        "channel": "window",
        "applicant": {
            "type": "person",
            "name": "张三丰",
            "id_type": "resident_id",
            "id_number": "11010519491231002X",
            "phone": "13812345678",
        },
        "materials": [
            {"code": c} for c in ("employee_enrolment_form", "employee_id", "labour_contract")
        ],
    }
    headers = {
        "Authorization": f"Bearer {live_server.tokens['window']}",
        "Idempotency-Key": request_id,
        "X-Request-ID": request_id,
    }
    lines = written_during(
        live_server,
        lambda: requests.post(
            f"{live_server.url}/api/v1/applications", json=submitted, headers=headers, timeout=10
        ),
        request_id,
    )
    assert lines, live_server.log_tail()
    not_json = []
    for line in lines:
        try:
            json.loads(line)
        except ValueError:
            not_json.append(line)
    assert not_json == [], live_server.log_tail()
    assert not [line for line in lines if "transitions" in line]
