"""Answers at the HTTP edge under gunicorn: what gunicorn refuses itself is problem+json too, and
the body limit holds for chunked bodies."""

import json
import socket
from urllib.parse import urlsplit

import pytest

PROBLEM = "application/problem+json"


def _raw_request(url: str, request: bytes) -> tuple[int, dict, bytes]:
    """Send bytes as they are (no client library would send them); status, headers, body."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    return int(status_line.split(" ")[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        pytest.param(
            b"GET /api/v1/items?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, id="414"
        ),
        pytest.param(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad\x01Name: y\r\n\r\n", 400, id="header"
        ),
        pytest.param(b"G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, id="method"),
        pytest.param(b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400, id="version"),
    ],
)
def test_a_request_gunicorn_refuses_is_answered_in_problem_json(live_server, request_bytes, status):
    answered, headers, body = _raw_request(live_server.url, request_bytes)
    assert answered == status, body
    assert headers["content-type"] == PROBLEM
    assert headers["x-content-type-options"] == "nosniff"
    problem = json.loads(body)
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert int(headers["content-length"]) == len(body)


def test_a_chunked_body_over_the_limit_is_413_not_cut_short(live_server):
    import http.client

    body = json.dumps({"item_code": "x", "channel": "window"}).encode() + b" " * 300_000
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/api/v1/applications",
            body=(body[i : i + 8192] for i in range(0, len(body), 8192)),
            headers={
                "Authorization": f"Bearer {live_server.tokens['window']}",
                "Idempotency-Key": "chunked-e2e",
                "Content-Type": "application/json",
            },
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert (response.status, response.getheader("Content-Type")) == (413, PROBLEM)
    finally:
        connection.close()
