"""`windowsvc simulate`: simulated departments (native and Camunda client) and a window."""

import threading
import time

import pytest

from tests.factories import bearer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_simulated_parties_move_demo_cases_to_their_end(app, client, tokens, served, frozen_clock):
    from windowsvc.models import Step
    from windowsvc.simulators import setup

    stop = threading.Event()
    shares = {
        "min_delay": 0.0,
        "max_delay": 0.05,
        "correction_share": 0.0,
        "deny_share": 0.0,
        "failure_share": 0.0,
    }
    with app.app_context():
        threads = setup.start(served, 0.2, {"xfjy"}, shares, 0, stop)
    try:
        deadline = time.monotonic() + 40
        delivered = []
        while time.monotonic() < deadline and len(delivered) < 3:
            time.sleep(0.5)
            listing = client.get(
                "/api/v1/applications?state=archived&per_page=100",
                headers=bearer(tokens["oversight"]),
            ).json
            delivered = listing["items"]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(delivered) >= 3, "no demo case reached the archive within 40 s"
    with app.app_context():
        done = Step.query.filter(Step.completed_by.isnot(None)).all()
    assert any(s.completed_by.startswith("sim-") for s in done)
    # the fire brigade (xfjy) runs the Camunda client: its steps are completed through the facade
    assert {s.completed_by for s in done if s.department == "xfjy"} <= {"camunda-xfjy"}
