"""Logs: one JSON object per line, naming the request, the case and the principal where known.

The app, the CLI and gunicorn (``gunicorn.conf.py``) share one formatter. Every line carries
``time``, ``level``, ``logger`` and ``message``; a line written while a request is handled adds
``request_id``, ``acceptance_number`` (when the path names a case) and ``principal``. gunicorn's
access log runs after the app has answered, outside the request: the app leaves the same three
values in the WSGI environ for it. Nothing secret is ever a field: no header, no body, so neither
a bearer token nor a query code (查询密码) can reach a log line.
"""

import logging
import random
import re
import sys
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# A client's request id is kept when it is short and plain (it is echoed in a header and
# logged); anything else is replaced by a fresh one.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# transitions logs every state change at INFO: four lines per request, none of them news.
QUIET_LOGGERS = ("transitions",)
ENVIRON_KEYS = {
    "request_id": "windowsvc.request_id",
    "acceptance_number": "windowsvc.acceptance_number",
    "principal": "windowsvc.principal",
}
# gunicorn's access atoms (glogging.Logger.atoms) that become fields, by field name; headers
# and the query string are left out on purpose.
ACCESS_ATOMS = {
    "remote_addr": "h",
    "method": "m",
    "path": "U",
    "status": "s",
    "bytes": "B",
    "duration_ms": "M",
    "user_agent": "a",
}


class JsonFormatter(_JsonFormatter):
    """time, level, logger, message, then the request's context and any ``extra`` fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("json_ensure_ascii", False)  # 办件 names stay readable
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data, record, message_dict):
        """The fixed fields first, so every line reads the same way."""
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            log_data.update(_access_fields(record.args))
        elif has_request_context():
            log_data.update(request_context())
        super().add_fields(log_data, record, message_dict)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (pytest swaps it per test)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure(level: str | int) -> None:
    """Send every log to stderr as JSON, once per process however many apps are built.

    A root handler that already formats JSON this way (gunicorn's ``logconfig_dict``) is kept
    and none is added.
    """
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    """Give every request an id (the client's ``X-Request-ID`` or a new one) and echo it."""
    app.before_request(_take_request_id)
    app.after_request(_echo_request_id)


def request_context() -> dict:
    """The fields of the request being handled: its id, the case it names, who asks."""
    fields = {}
    request_id = g.get("request_id")
    if request_id:
        fields["request_id"] = request_id
    number = (request.view_args or {}).get("number")
    if isinstance(number, str):
        fields["acceptance_number"] = number[:40]
    actor = g.get("actor")
    if actor is not None:
        fields["principal"] = {"name": actor.name, "role": actor.role}
        if actor.department:
            fields["principal"]["department"] = actor.department
    return fields


def _take_request_id():
    given = request.headers.get(REQUEST_ID_HEADER, "")
    # 128 random bits, as uuid4 has, from the process's generator (reseeded in every forked
    # worker) instead of a system call per request: an id only has to tell requests apart
    g.request_id = given if _PLAIN_ID.fullmatch(given) else f"{random.getrandbits(128):032x}"


def _echo_request_id(response):
    fields = request_context()
    if "request_id" not in fields:  # a request refused before the first before_request hook
        _take_request_id()
        fields = request_context()
    response.headers[REQUEST_ID_HEADER] = fields["request_id"]
    for name, key in ENVIRON_KEYS.items():
        if name in fields:
            request.environ[key] = fields[name]
    return response


def _access_fields(atoms) -> dict:
    """The fields of one gunicorn access-log line, from its atoms and the app's environ notes."""
    fields = {name: atoms.get(atom) for name, atom in ACCESS_ATOMS.items()}
    if str(fields["status"]).isdigit():
        fields["status"] = int(fields["status"])
    for name, key in ENVIRON_KEYS.items():
        value = atoms.get(f"{{{key}}}e")  # gunicorn's name of an environ atom
        if value not in (None, "-"):
            fields[name] = value
    return fields
