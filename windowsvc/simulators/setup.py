"""Wire the simulated parties: fresh credentials, one thread per department, the window."""

import logging
import threading

from sqlalchemy import select

from .. import clock
from ..db import write_transaction
from ..extensions import db
from ..models import CatalogItem, Department, Principal
from ..services.admin import credentials
from .departments import Behaviour, CamundaDepartment, NativeDepartment
from .window import SimulatedWindow

PREFIX = "模拟业务系统-"
WINDOW_NAME = "模拟综合窗口"


def _fresh_credentials(departments):
    """Revoke earlier simulator tokens and make new ones (tokens are only stored hashed)."""
    with write_transaction():
        for principal in db.session.scalars(
            select(Principal).where(Principal.revoked_at.is_(None))
        ):
            if principal.name.startswith(PREFIX) or principal.name == WINDOW_NAME:
                principal.revoked_at = clock.now()
    tokens = {d: credentials.create("backoffice", f"{PREFIX}{d}", d)[1] for d in departments}
    return tokens, credentials.create("window", WINDOW_NAME)[1]


def _topics_by_department():
    topics = {}
    for definition in db.session.scalars(select(CatalogItem.definition)):
        for stage in definition["stages"]:
            for step in stage:
                topics.setdefault(step["department"], set()).add(step["topic"])
    return topics


def start(url, window_interval, camunda, shares, evidence_port, stop):
    """Start every simulated party; returns the threads."""
    logging.getLogger("windowsvc.simulate").setLevel(logging.INFO)
    departments = sorted(db.session.scalars(select(Department.code)))
    topics = _topics_by_department()
    tokens, window_token = _fresh_credentials(departments)
    threads = []
    if evidence_port:
        threads.append(_serve_evidence(evidence_port, stop))
    for index, department in enumerate(departments):
        behaviour = Behaviour(seed=index, **shares)
        if department in camunda and topics.get(department):
            thread = CamundaDepartment(
                url, department, tokens[department], sorted(topics[department]), behaviour, stop
            )
        else:
            thread = NativeDepartment(url, department, tokens[department], behaviour, stop)
        threads.append(thread)
    if window_interval > 0:
        threads.append(SimulatedWindow(url, window_token, window_interval, stop))
    for thread in threads:
        if not thread.is_alive():
            thread.start()
    return threads


def _serve_evidence(port, stop):
    from werkzeug.serving import make_server

    from ..adapters.evidence import demo_holders
    from .evidence_server import create_evidence_app

    server = make_server("127.0.0.1", port, create_evidence_app(demo_holders()), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="evidence", daemon=True)
    thread.start()
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    return thread
