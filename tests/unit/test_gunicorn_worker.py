"""The gunicorn worker reads the status of gunicorn's own error answers to rewrite them."""

import json

import pytest
from gunicorn import util

from windowsvc.gunicorn_worker import _Captured, problem_bytes


def test_the_status_of_gunicorns_own_error_page_is_read():
    captured = _Captured()
    util.write_error(captured, 431, "Request Header Fields Too Large", "too many headers")
    assert captured.status() == (431, "Request Header Fields Too Large")


def test_an_answer_of_unknown_shape_is_not_taken_for_a_status():
    captured = _Captured()
    captured.sendall(b"garbage")
    with pytest.raises(ValueError):
        captured.status()


def test_the_problem_answer_declares_its_exact_length():
    head, _, body = problem_bytes(414, "URI Too Long", "请求行过长").partition(b"\r\n\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body)["status"] == 414
