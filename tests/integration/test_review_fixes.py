"""Defects found in review, each pinned by a test."""

import datetime as dt

from tests.factories import FOOD_REQUIRED, PARALLEL, PARALLEL_REQUIRED, bearer, intake_body


def _case(client, tokens, number):
    return client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"])).json


def _department_correction(app, number, department="scjg", missing=("food_safety_rules",)):
    from windowsvc.services import tasks
    from windowsvc.services.records import Actor

    actor = Actor(None, department, "backoffice", department)
    with app.app_context():
        claimed = tasks.fetch_and_lock(actor, tasks.Lease("w", 10, 600))
        task = next(t for t in claimed if t["application"]["number"] == number)
        tasks.complete(task["id"], actor, "w", "correction", missing=list(missing))


class TestAfterADepartmentCorrection:
    def test_the_window_can_neither_accept_nor_refuse_an_accepted_case(
        self, app, client, tokens, submit, act, frozen_clock
    ):
        number = submit().json["number"]
        _department_correction(app, number)
        case = _case(client, tokens, number)
        assert case["state"] == "correction"
        assert "accept" not in case["allowed_actions"] and "refuse" not in case["allowed_actions"]
        refused = act(number, "refuse", {"reason": "x", "rights_notice": "y"})
        assert refused.status_code == 409

    def test_a_correction_asked_during_a_special_procedure_waits_for_its_end(
        self, app, client, tokens, submit, act, frozen_clock
    ):
        from windowsvc.services import tasks
        from windowsvc.services.records import Actor

        number = submit().json["number"]
        scjg = Actor(None, "scjg", "backoffice", "scjg")
        with app.app_context():
            [task] = tasks.fetch_and_lock(scjg, tasks.Lease("w", 1, 600))
        act(number, "suspend", {"reason": "检测", "kind": "testing", "expected_days": 2})
        with app.app_context():
            tasks.complete(task["id"], scjg, "w", "correction", missing=["food_safety_rules"])
        assert _case(client, tokens, number)["state"] == "suspended"
        resumed = act(number, "resume", {"result": "检测合格"}).json
        assert resumed["state"] == "correction"
        assert [m["code"] for m in resumed["missing_materials"]] == ["food_safety_rules"]


class TestConclusionWhilePaused:
    def test_paused_days_are_not_counted_as_working_days_used(self, app, submit, act, frozen_clock):
        from windowsvc.models import Application

        number = submit().json["number"]  # Monday 03-02
        _department_correction(app, number)
        frozen_clock.moment += dt.timedelta(days=14)  # two weeks waiting for the applicant
        act(number, "withdraw", {"reason": "申请人撤回"})
        with app.app_context():
            row = Application.query.filter_by(number=number).one()
            assert row.paused_working_days == 10 and row.working_days_used == 0
            assert row.pause_started_on is None


class TestLateAcceptance:
    def test_a_clerk_accepting_after_the_notice_limit_dates_it_from_receipt(
        self, submit, act, frozen_clock
    ):
        number = submit(intake_body(channel="online")).json["number"]  # Monday 03-02
        frozen_clock.moment += dt.timedelta(days=14)
        accepted = act(number, "accept").json
        assert accepted["acceptance_date"] == "2026-03-02"
        assert accepted["due_date"] == "2026-03-09"


class TestDeferrals:
    def test_a_commitment_date_in_the_past_or_twice_is_refused(self, submit, frozen_clock):
        materials = [c for c in FOOD_REQUIRED if c != "food_safety_rules"]
        past = intake_body(
            materials=materials,
            deferred=[{"code": "food_safety_rules", "commit_date": "2020-01-01"}],
        )
        twice = intake_body(
            materials=materials,
            deferred=[{"code": "food_safety_rules", "commit_date": "2026-03-04"}] * 2,
        )
        assert submit(past).status_code == 422
        assert submit(twice).status_code == 422


class TestInputBounds:
    def test_huge_task_ids_and_pages_are_answers_not_errors(self, client, tokens):
        complete = client.post(
            f"/api/v1/tasks/{2**40}/complete",
            json={"worker_id": "w", "outcome": "approve"},
            headers=bearer(tokens["scjg"]),
        )
        page = client.get(
            "/api/v1/applications?page=1000000000000", headers=bearer(tokens["window"])
        )
        calendar = client.get("/api/v1/calendar/deadline?start=9999-12-31&working_days=5")
        assert (complete.status_code, page.status_code, calendar.status_code) == (404, 422, 422)

    def test_the_camunda_facade_refuses_non_finite_and_huge_numbers(self, client, tokens):
        base = "/engine-rest/external-task"
        headers = {**bearer(tokens["scjg"]), "Content-Type": "application/json"}
        nan = client.post(
            f"{base}/fetchAndLock",
            data='{"workerId": "w", "asyncResponseTimeout": NaN, '
            '"topics": [{"topicName": "t", "lockDuration": 1000}]}',
            headers=headers,
        )
        huge = client.post(
            f"{base}/fetchAndLock",
            json={"workerId": "w", "topics": [{"topicName": "t", "lockDuration": 1e300}]},
            headers=headers,
        )
        retries = client.post(
            f"{base}/1/failure", json={"workerId": "w", "retries": 2**40}, headers=headers
        )
        assert (nan.status_code, huge.status_code, retries.status_code) == (400, 400, 400)


class TestListings:
    def test_the_warning_filter_selects_cases_by_level(self, app, client, tokens, submit):
        from windowsvc.db import write_transaction
        from windowsvc.models import Application

        first, second = submit().json["number"], submit().json["number"]
        with app.app_context(), write_transaction() as session:
            session.query(Application).filter_by(number=first).one().warning_level = "red_card"
        listing = client.get(
            "/api/v1/applications?warning=red_card", headers=bearer(tokens["window"])
        ).json
        assert [i["number"] for i in listing["items"]] == [first] and second != first

    def test_a_department_lists_the_cases_it_has_a_step_in(
        self, app, client, tokens, submit, frozen_clock
    ):
        from windowsvc.services import credentials

        with app.app_context():
            zrzy = credentials.create("backoffice", "规划系统", "zrzy")[1]
        number = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED)).json["number"]
        listing = client.get("/api/v1/applications", headers=bearer(zrzy)).json
        assert [i["number"] for i in listing["items"]] == [number]

    def test_staff_lookups_normalise_the_number_and_check_it(self, client, tokens, submit):
        number = submit().json["number"]
        dashed = f"{number[:6]}-{number[6:14]}-{number[14:]}"
        ok = client.get(f"/api/v1/applications/{dashed}", headers=bearer(tokens["window"]))
        tampered = number[:-1] + ("0" if number[-1] != "0" else "1")
        bad = client.get(f"/api/v1/applications/{tampered}", headers=bearer(tokens["window"]))
        assert ok.status_code == 200 and bad.status_code == 400


class TestDispatcherRobustness:
    def test_an_incomplete_answer_is_a_failure_of_that_task_not_of_the_dispatcher(
        self, app, client, tokens, submit, frozen_clock
    ):
        from windowsvc.services import dispatch

        class DenyWithoutReason:
            def handle(self, task):
                return {"outcome": "deny"}

        number = submit().json["number"]
        with app.app_context():
            assert dispatch.serve_push_departments({"scjg": DenyWithoutReason()}) == 1
        step = _case(client, tokens, number)["steps"][0]
        assert step["state"] == "pending" and "理由" in step["error_message"]


class TestOutboxLeases:
    def test_a_sender_whose_lease_was_taken_over_cannot_undo_a_delivery(
        self, app, submit, frozen_clock
    ):
        from windowsvc.models import OutboxMessage
        from windowsvc.services import outbox

        submit()
        with app.app_context():
            [first, *_] = outbox.claim()
            frozen_clock.moment += outbox.LEASE + dt.timedelta(seconds=1)
            [again, *_] = outbox.claim()
            assert again["id"] == first["id"] and again["attempts"] == first["attempts"] + 1
            outbox.delivered(again["id"])
            outbox.failed(first["id"], first["attempts"], "slow gateway finally gave up")
            from windowsvc.extensions import db

            assert db.session.get(OutboxMessage, first["id"]).state == "sent"


class TestAttemptFencing:
    def test_a_report_naming_an_older_attempt_is_refused(self, client, tokens, submit):
        submit()
        fetch = {"worker_id": "w", "max_tasks": 1, "lock_seconds": 600}
        [task] = client.post(
            "/api/v1/tasks/fetch-and-lock", json=fetch, headers=bearer(tokens["scjg"])
        ).json
        stale = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={"worker_id": "w", "outcome": "approve", "attempt": task["attempt"] - 1 or 99},
            headers=bearer(tokens["scjg"]),
        )
        fresh = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={"worker_id": "w", "outcome": "approve", "attempt": task["attempt"]},
            headers=bearer(tokens["scjg"]),
        )
        assert (stale.status_code, fresh.status_code) == (409, 204)
