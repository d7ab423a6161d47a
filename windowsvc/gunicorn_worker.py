"""gunicorn's gthread worker whose own error answers (414, 431, a bad request line...) are
problem+json like every answer of the app.

gunicorn answers a request it cannot parse itself, before the app is called, with a fixed HTML
page (``gunicorn.util.write_error``) and offers no setting for its format (benoitc/gunicorn#993).
The worker's ``handle_error`` is the one method every such answer goes through: gunicorn still
decides the status, logs and writes the access log; only the bytes sent differ.
"""

import json
import threading

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

PROBLEM_JSON = "application/problem+json"


class _Captured:
    """Stands in for the client socket while gunicorn writes its HTML answer: keeps the bytes."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return 0.0  # gunicorn's non-blocking write then calls sendall at once

    def sendall(self, data: bytes) -> None:
        self.data += data

    def status(self) -> tuple[int, str]:
        """Status code and reason of the captured answer ("HTTP/1.1 414 URI Too Long")."""
        line = self.data.split(b"\r\n", 1)[0].decode("latin-1")
        _version, code, reason = line.split(" ", 2)
        return int(code), reason


def problem_bytes(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 problem+json answer that closes the connection."""
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": detail},
        ensure_ascii=False,
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_JSON}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ProblemThreadWorker(ThreadWorker):
    """``worker_class`` of gunicorn.conf.py."""

    def handle_error(self, req, client, addr, exc):
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)
        if not captured.data:
            return
        try:
            status, reason = captured.status()
        except ValueError:  # a format this worker does not know: gunicorn's answer as it was
            answer = captured.data
        else:
            # a client error names what was wrong with the request; a server error says nothing
            detail = str(exc) if status < 500 else "服务器内部错误, 已记录 (logged)"
            answer = problem_bytes(status, reason, detail)
        try:
            util.write_nonblock(client, answer)
        except Exception:
            self.log.debug("Failed to send error message.")

    def handle_exit(self, sig, frame):
        """SIGTERM: stop accepting (gunicorn), and let every long poll answer now instead of
        waiting out ``graceful_timeout`` and being killed (``windowsvc.platform.shutdown``)."""
        super().handle_exit(sig, frame)
        # not in the signal handler itself: waking the polls takes their lock
        threading.Thread(target=_drain, name="windowsvc-drain", daemon=True).start()


def _drain():
    from windowsvc.platform import shutdown

    shutdown.begin()
