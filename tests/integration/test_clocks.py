"""Statutory clocks: deemed acceptance, special procedures, extensions, stored calendars."""

import datetime as dt

from tests.factories import FOOD_REQUIRED, intake_body, move_to, staff_view


class TestDeemedAcceptance:
    """视为受理 (Art 32): no correction notice within 5 working days."""

    def test_a_submission_is_deemed_accepted_on_the_sixth_working_day(
        self, app, client, tokens, submit, frozen_clock
    ):
        from windowsvc.services.admin import sweep

        number = submit(intake_body(channel="online")).json["number"]  # Monday 2026-03-02
        move_to(frozen_clock, dt.date(2026, 3, 9))  # the 5th working day after receipt
        with app.app_context():
            assert sweep.deem_acceptances() == []
        move_to(frozen_clock, dt.date(2026, 3, 10))  # the 6th working day
        with app.app_context():
            assert sweep.deem_acceptances() == [number]
            assert sweep.deem_acceptances() == []  # idempotent
        case = staff_view(client, tokens["window"], number)
        assert case["state"] == "in_progress"
        assert case["acceptance_date"] == "2026-03-02"  # the day of receipt
        assert case["due_date"] == "2026-03-09"  # counted from receipt, not from today

    def test_a_correction_notice_delivered_in_time_prevents_it(
        self, app, client, tokens, submit, act, frozen_clock
    ):
        from windowsvc.adapters.push import LogNotifier
        from windowsvc.services.admin import sweep
        from windowsvc.services.queue import dispatch

        number = submit(intake_body(channel="online", materials=FOOD_REQUIRED[:4])).json["number"]
        act(number, "request_correction", {"missing": FOOD_REQUIRED[4:]})
        with app.app_context():
            dispatch.deliver_outbox({"notice": LogNotifier("/dev/null")})
        move_to(frozen_clock, dt.date(2026, 3, 16))
        with app.app_context():
            assert sweep.deem_acceptances() == []
        assert staff_view(client, tokens["window"], number)["state"] == "correction"

    def test_a_correction_notice_never_delivered_does_not_stop_the_clock(
        self, app, client, tokens, submit, act, frozen_clock
    ):
        from windowsvc.services.admin import sweep

        number = submit(intake_body(channel="online", materials=FOOD_REQUIRED[:4])).json["number"]
        act(number, "request_correction", {"missing": FOOD_REQUIRED[4:]})
        move_to(frozen_clock, dt.date(2026, 3, 10))
        with app.app_context():
            assert sweep.deem_acceptances() == [number]
        case = staff_view(client, tokens["window"], number)
        assert case["state"] == "in_progress" and case["acceptance_date"] == "2026-03-02"

    def test_a_window_correction_is_handed_over_on_the_spot(
        self, app, client, tokens, submit, frozen_clock
    ):
        from windowsvc.services.admin import sweep

        number = submit(intake_body(materials=FOOD_REQUIRED[:4])).json["number"]
        move_to(frozen_clock, dt.date(2026, 3, 20))
        with app.app_context():
            assert sweep.deem_acceptances() == []
        assert staff_view(client, tokens["window"], number)["state"] == "correction"

    def test_a_clerk_accepting_after_the_notice_limit_dates_it_from_receipt(
        self, submit, act, frozen_clock
    ):
        number = submit(intake_body(channel="online")).json["number"]  # Monday 03-02
        frozen_clock.moment += dt.timedelta(days=14)
        accepted = act(number, "accept").json
        assert accepted["acceptance_date"] == "2026-03-02"
        assert accepted["due_date"] == "2026-03-09"


class TestSpecialProcedure:
    def test_a_suspension_of_three_working_days_moves_every_due_date_by_three(
        self, client, tokens, submit, act, frozen_clock
    ):
        before = submit().json  # Monday 03-02: due 03-09, legal 03-30
        number = before["number"]
        step_due = before["steps"][0]["due_date"]
        move_to(frozen_clock, dt.date(2026, 3, 3))
        act(number, "suspend", {"reason": "组织听证", "kind": "hearing", "expected_days": 3})
        move_to(frozen_clock, dt.date(2026, 3, 6))  # Friday: Wed, Thu, Fri paused
        resumed = act(number, "resume", {"result": "听证完毕"}).json
        assert resumed["suspensions"][0]["paused_working_days"] == 3
        assert resumed["due_date"] == "2026-03-12"
        assert resumed["legal_due_date"] == "2026-04-02"
        assert resumed["steps"][0]["due_date"] > step_due

    def test_a_department_correction_pauses_the_clock_until_the_supplement(
        self, app, client, tokens, submit, act, frozen_clock
    ):
        from windowsvc.services.cases.records import Actor
        from windowsvc.services.queue import claims, tasks

        number = submit().json["number"]
        scjg = Actor(None, "scjg", "backoffice", "scjg")
        with app.app_context():
            [task] = claims.fetch_and_lock(scjg, claims.Lease("w", 1, 600))
            tasks.complete(task["id"], scjg, "w", "correction", missing=["food_safety_rules"])
        move_to(frozen_clock, dt.date(2026, 3, 4))
        back = act(number, "supplement", {"materials": ["food_safety_rules"]}).json
        assert back["state"] == "in_progress"
        assert back["correction"]["paused_working_days"] == 2
        assert back["due_date"] == "2026-03-11"

    def test_a_case_concluded_while_paused_does_not_count_the_paused_days_as_used(
        self, app, submit, act, frozen_clock
    ):
        from windowsvc.models import Application
        from windowsvc.services.cases.records import Actor
        from windowsvc.services.queue import claims, tasks

        number = submit().json["number"]  # Monday 03-02
        scjg = Actor(None, "scjg", "backoffice", "scjg")
        with app.app_context():
            [task] = claims.fetch_and_lock(scjg, claims.Lease("w", 1, 600))
            tasks.complete(task["id"], scjg, "w", "correction", missing=["food_safety_rules"])
        frozen_clock.moment += dt.timedelta(days=14)  # two weeks waiting for the applicant
        act(number, "withdraw", {"reason": "申请人撤回"})
        with app.app_context():
            row = Application.query.filter_by(number=number).one()
            assert row.paused_working_days == 10
            assert row.working_days_used == 0
            assert row.pause_started_on is None


class TestExtension:
    def test_the_applicant_is_notified_of_an_extension(self, app, submit, act, frozen_clock):
        from windowsvc.models import OutboxMessage

        number = submit().json["number"]
        act(
            number,
            "extend",
            {"days": 5, "reason": "需现场核查", "approver": "李局长"},
            role="supervisor",
        )
        with app.app_context():
            titles = [
                m.payload["title"]
                for m in OutboxMessage.query.all()
                if m.payload["number"] == number
            ]
        assert "延长办理期限告知书" in titles


class TestStoredCalendar:
    def test_a_loaded_notice_replaces_the_provisional_answer(self, app, client, tmp_path):
        notice = tmp_path / "2027.json"
        notice.write_text('{"years": [2027], "holidays": ["2027-01-01", "2027-01-04"]}', "utf-8")
        before = client.get("/api/v1/calendar/deadline?start=2026-12-31&working_days=1")
        assert before.json["due_date"] == "2027-01-04"
        assert before.json["provisional"] is True
        result = app.test_cli_runner().invoke(args=["calendar", "load", str(notice)])
        assert result.exit_code == 0, result.output
        after = client.get("/api/v1/calendar/deadline?start=2026-12-31&working_days=1")
        assert after.json == {
            "due_date": "2027-01-05",
            "provisional": False,
            "provisional_note": None,
        }

    def test_a_notice_that_is_not_json_is_refused_and_changes_nothing(self, app, tmp_path):
        notice = tmp_path / "broken.json"
        notice.write_text('{"years": [2027], "holidays": ["2027-13-01"]}', "utf-8")
        result = app.test_cli_runner().invoke(args=["calendar", "load", str(notice)])
        assert result.exit_code == 1
        assert "not a calendar notice" in result.output
        with app.app_context():
            from windowsvc.models import CalendarYear

            assert CalendarYear.query.count() == 0


class TestSweep:
    def test_a_sweep_runs_every_timer_and_is_idempotent(self, app, submit, frozen_clock):
        from windowsvc.services.admin import sweep

        submit(intake_body(channel="online"))
        move_to(frozen_clock, dt.date(2026, 3, 10))
        with app.app_context():
            first = sweep.run()
            second = sweep.run()
        assert len(first.deemed_accepted) == 1 and first.checkpoint
        assert second.deemed_accepted == [] and second.terminated == []

    def test_the_cli_sweep_exits_zero_on_a_clean_record(self, app):
        result = app.test_cli_runner().invoke(args=["sweep"])
        assert result.exit_code == 0, result.output
        assert "deemed accepted 0" in result.output
