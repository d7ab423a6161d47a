"""Seed a prepared database with due timers and pending notices, as if it were weeks ago.

Run as ``python -m tests.e2e.timer_seed N`` with the server's ``WINDOWSVC_*`` environment; prints
JSON: the numbers of the cases each timer must act on once, and how many leases ran out.
- ``online``: online submissions never answered → 视为受理 due;
- ``deferred``: window intakes with a 容缺 material whose commitment date has passed → 驳回 due;
- ``leased``: accepted cases whose scjg step was fetched with a 1 s lease → expired leases.
Every submission and acceptance leaves notices in the outbox, not yet sent.
"""

import json
import sys
import uuid
from datetime import datetime, time, timedelta

from tests.factories import FOOD, FOOD_REQUIRED, bearer, intake_body
from windowsvc import clock, create_app
from windowsvc.adapters.evidence import InMemoryEvidenceSource
from windowsvc.rules.deadlines import add_working_days
from windowsvc.services.admin import credentials
from windowsvc.services.calendar.working import working_calendar

DAYS_AGO = 30  # well past 5 working days, whatever holidays lie between


def main(count: int) -> None:
    app = create_app()
    # credit records to check (an empty register: nobody is on a blacklist), so 容缺 is allowed
    app.extensions["windowsvc.adapters"].evidence = InMemoryEvidenceSource({}, clock.now)
    past = datetime.combine(
        clock.today() - timedelta(days=DAYS_AGO), time(10), tzinfo=clock.SHANGHAI
    )
    clock.set_clock(lambda: past)
    with app.app_context():
        _p, window = credentials.create("window", "seed-window", None)
        _p, scjg = credentials.create("backoffice", "seed-scjg", "scjg")
        commit_date = add_working_days(past.date(), 1, working_calendar())
    client = app.test_client()

    def submit(body):
        headers = {**bearer(window), "Idempotency-Key": uuid.uuid4().hex}
        response = client.post("/api/v1/applications", json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json["number"]

    online = [submit(intake_body(channel="online")) for _ in range(count)]
    leased_cases = [submit(intake_body(FOOD)) for _ in range(count)]
    response = client.post(
        "/api/v1/tasks/fetch-and-lock",
        json={"worker_id": "seed", "max_tasks": 100, "lock_seconds": 1},
        headers=bearer(scjg),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    leased = len(response.json)
    deferred_materials = [c for c in FOOD_REQUIRED if c != "food_safety_rules"]
    deferred = [
        submit(
            intake_body(
                materials=deferred_materials,
                deferred=[{"code": "food_safety_rules", "commit_date": commit_date.isoformat()}],
            )
        )
        for _ in range(count)
    ]
    print(
        json.dumps(
            {"online": online, "deferred": deferred, "leased": leased, "cases": leased_cases}
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
