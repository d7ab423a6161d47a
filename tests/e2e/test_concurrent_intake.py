"""收件 over real HTTP: concurrent intake, Idempotency-Key replays, and problem+json answers."""

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from windowsvc.rules.acceptance_number import parse

INSTANT_ITEM = "330100-GG-RSJ-0021"  # 职工参保登记, 即办件
APPLICANT = {
    "type": "person",
    "name": "张三",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "phone": "13812345678",
}
TIMEOUT = (5, 60)  # connect, read (seconds)
INTAKES = 100
CLIENT_THREADS = 20
SAME_KEY_REQUESTS = 10
MAX_BODY = 256 * 1024


@pytest.fixture
def intake_body(live_server):
    """A complete window-channel application for the instant item: every required material."""
    response = requests.get(f"{live_server.url}/api/v1/items/{INSTANT_ITEM}", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    required = [m["code"] for m in response.json()["materials"] if m["required"]]
    assert required, "the instant item of the demo catalog should require materials"
    return {
        "item_code": INSTANT_ITEM,
        "channel": "window",
        "applicant": dict(APPLICANT),
        "materials": [{"code": code} for code in required],
    }


def headers(server, token="window", key=None, content_type="application/json"):
    """Bearer token of a named principal, an Idempotency-Key and a content type."""
    result = {"Authorization": f"Bearer {server.tokens[token]}", "Content-Type": content_type}
    if key is not None:
        result["Idempotency-Key"] = key
    return result


def submit(server, body, key, token="window"):
    """POST one application; the response."""
    return requests.post(
        f"{server.url}/api/v1/applications",
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers=headers(server, token, key),
        timeout=TIMEOUT,
    )


def send_raw(server, data: bytes, request_headers: dict):
    """POST arbitrary bytes to the intake endpoint."""
    return requests.post(
        f"{server.url}/api/v1/applications",
        data=data,
        headers=request_headers,
        timeout=TIMEOUT,
    )


def listing(server, per_page=100):
    """The first page of the application listing, as the window sees it."""
    response = requests.get(
        f"{server.url}/api/v1/applications",
        params={"per_page": per_page},
        headers=headers(server),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    return response.json()


def total(server):
    """How many applications the server holds."""
    return listing(server, per_page=1)["total"]


def new_key():
    """A fresh Idempotency-Key."""
    return f"e2e-{uuid.uuid4()}"


def is_replayed(response):
    """True when the server says it replayed a stored response."""
    return response.headers.get("Idempotent-Replayed") == "true"


def describe(responses, server):
    """Status codes and the bodies of unexpected answers, with the server log, for failures."""
    odd = [f"{r.status_code} {r.text[:300]}" for r in responses if r.status_code >= 300]
    return f"statuses {Counter(r.status_code for r in responses)}; {odd[:5]}\n{server.log_tail()}"


def assert_no_tracebacks(server):
    """The server logged no unhandled exception."""
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, server.log_tail()


def assert_problem(response, status, server):
    """A problem+json answer (RFC 9457) with the given status."""
    assert response.status_code == status, (
        f"{response.status_code} {response.text[:500]}\n{server.log_tail()}"
    )
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"]
    assert "type" in problem and "detail" in problem
    return problem


class TestConcurrentIntake:
    def test_a_hundred_concurrent_intakes_get_a_hundred_distinct_valid_numbers(
        self, live_server, intake_body
    ):
        before = total(live_server)
        keys = [new_key() for _ in range(INTAKES)]

        with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
            responses = list(pool.map(lambda key: submit(live_server, intake_body, key), keys))

        assert [r.status_code for r in responses] == [201] * INTAKES, describe(
            responses, live_server
        )
        bodies = [r.json() for r in responses]
        numbers = [b["number"] for b in bodies]
        assert len(set(numbers)) == INTAKES, Counter(numbers).most_common(3)
        for number in numbers:
            assert len(number) == 22
            parsed = parse(number)  # raises on a wrong check character
            assert parsed.text == number
            assert parsed.channel == "window"
        assert {b["state"] for b in bodies} == {"in_progress"}
        assert not any(is_replayed(r) for r in responses)
        assert_no_tracebacks(live_server)

        page = listing(live_server, per_page=INTAKES)
        assert page["total"] - before == INTAKES
        assert {a["number"] for a in page["items"]} == set(numbers)


class TestIdempotentReplay:
    def test_the_same_key_sent_concurrently_creates_exactly_one_application(
        self, live_server, intake_body
    ):
        before = total(live_server)
        key = new_key()
        start = threading.Barrier(SAME_KEY_REQUESTS, timeout=30)

        def send(_):
            start.wait()
            return submit(live_server, intake_body, key)

        with ThreadPoolExecutor(max_workers=SAME_KEY_REQUESTS) as pool:
            responses = list(pool.map(send, range(SAME_KEY_REQUESTS)))

        statuses = Counter(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, describe(responses, live_server)
        created = [r for r in responses if r.status_code == 201]
        assert created, describe(responses, live_server)
        assert [is_replayed(r) for r in created].count(False) == 1, [r.headers for r in created]
        assert len({r.json()["number"] for r in created}) == 1
        for conflict in (r for r in responses if r.status_code == 409):
            assert conflict.headers["Content-Type"].startswith("application/problem+json")
        assert total(live_server) - before == 1

        again = submit(live_server, intake_body, key)
        assert again.status_code == 201, again.text
        assert is_replayed(again)
        assert again.json()["number"] == created[0].json()["number"]
        assert_no_tracebacks(live_server)


class TestIdempotencyKeysPerPrincipal:
    def test_the_same_key_with_a_different_body_is_refused_with_422(self, live_server, intake_body):
        key = new_key()
        first = submit(live_server, intake_body, key)
        assert first.status_code == 201, first.text
        before = total(live_server)
        changed = {**intake_body, "applicant": {**APPLICANT, "phone": "13900000000"}}

        response = submit(live_server, changed, key)

        problem = assert_problem(response, 422, live_server)
        assert "Idempotency-Key" in problem["errors"]
        assert total(live_server) == before

    def test_the_same_key_from_another_window_creates_a_separate_application(
        self, live_server, intake_body
    ):
        before = total(live_server)
        key = new_key()

        mine = submit(live_server, intake_body, key, token="window")
        theirs = submit(live_server, intake_body, key, token="window2")

        assert (mine.status_code, theirs.status_code) == (201, 201), (mine.text, theirs.text)
        assert not is_replayed(theirs)
        assert mine.json()["number"] != theirs.json()["number"]
        assert total(live_server) - before == 2


class TestProblemResponsesOverHttp:
    def test_a_text_plain_body_is_415(self, live_server, intake_body):
        response = send_raw(
            live_server,
            json.dumps(intake_body).encode(),
            headers(live_server, key=new_key(), content_type="text/plain"),
        )

        assert_problem(response, 415, live_server)

    def test_a_body_over_256_kib_is_413(self, live_server, intake_body):
        oversized = json.dumps({**intake_body, "padding": "x" * (MAX_BODY + 1024)}).encode()

        response = send_raw(live_server, oversized, headers(live_server, key=new_key()))

        assert_problem(response, 413, live_server)

    def test_malformed_json_is_400(self, live_server):
        response = send_raw(
            live_server, b'{"item_code": "330100-', headers(live_server, key=new_key())
        )

        assert_problem(response, 400, live_server)

    def test_an_unknown_field_is_422_naming_the_field(self, live_server, intake_body):
        before = total(live_server)

        response = submit(live_server, {**intake_body, "nickname": "小张"}, new_key())

        problem = assert_problem(response, 422, live_server)
        assert "nickname" in problem["errors"], problem
        assert total(live_server) == before

    def test_a_request_without_authorization_is_401(self, live_server, intake_body):
        response = send_raw(
            live_server,
            json.dumps(intake_body).encode(),
            {"Content-Type": "application/json", "Idempotency-Key": new_key()},
        )

        assert_problem(response, 401, live_server)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    def test_a_request_without_idempotency_key_is_400(self, live_server, intake_body):
        before = total(live_server)

        response = send_raw(live_server, json.dumps(intake_body).encode(), headers(live_server))

        assert_problem(response, 400, live_server)
        assert total(live_server) == before
