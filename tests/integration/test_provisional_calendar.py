"""The counter never stops for a missing holiday calendar (clock frozen in December 2026).

chinesecalendar knows 2026 and no later year: every deadline that reaches 2027 is counted on the
statutory holidays, marked provisional wherever it is shown, and counted again when the notice is
loaded. The notice below is synthetic: 4 January 2027 (a Monday) is a bridging day off, Saturday
9 January a make-up working day, and 春节 runs from 5 to 11 February.
"""

import datetime as dt
import json

import pytest

from tests.factories import PARALLEL, PARALLEL_REQUIRED, bearer, intake_body, move_to, staff_view

NOTICE_2027 = {
    "holidays": [
        "2027-01-01",
        "2027-01-04",
        *(f"2027-02-{day:02d}" for day in range(5, 12)),
    ],
    "workdays": ["2027-01-09", "2027-02-20"],
    "note": "国务院办公厅关于2027年部分节假日安排的通知 (test fixture)",
}
PROVISIONAL_NOTE = "预计，待国务院公布 2027 年节假日安排后确认"


def load_2027(client, tokens, notice=NOTICE_2027):
    """PUT the synthetic notice as an administrator; the answer."""
    response = client.put(
        "/api/v1/calendar/years/2027", json=notice, headers=bearer(tokens["admin"])
    )
    assert response.status_code == 200, response.json
    return response.json


def audit_ok(client, tokens):
    """The record verifies."""
    report = client.get("/api/v1/oversight/audit/verify", headers=bearer(tokens["oversight"])).json
    return report["ok"], report["problems"]


@pytest.fixture
def december(frozen_clock):
    """Friday 2026-12-04, 10:00 Shanghai: 20 working days from today end in 2027."""
    move_to(frozen_clock, dt.date(2026, 12, 4))
    return frozen_clock


class TestProvisionalDeadlinesAtIntake:
    def test_a_single_item_is_accepted_with_a_provisional_legal_limit(
        self, client, tokens, submit, december
    ):
        created = submit()
        assert created.status_code == 201, created.json
        body = created.json
        # promised 5: 7–11 December (official); legal 20: 元旦 is a day off (provisional)
        assert (body["due_date"], body["due_date_provisional"]) == ("2026-12-11", False)
        assert (body["legal_due_date"], body["legal_due_date_provisional"]) == (
            "2027-01-04",
            True,
        )
        assert body["deadlines_provisional"] is True
        assert body["provisional_note"] == PROVISIONAL_NOTE

    def test_a_parallel_item_gets_its_45_days_across_the_spring_festival(
        self, client, tokens, submit, december
    ):
        created = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
        assert created.status_code == 201, created.json
        body = created.json
        # promised 7: 7–15 December; legal 45: 元旦, and 春节 from 除夕 (Fri 5 Feb) to the
        # weekdays given for 初一 and 初二 falling on the weekend (补假, Tue 9 and Wed 10 Feb)
        assert (body["due_date"], body["due_date_provisional"]) == ("2026-12-15", False)
        assert (body["legal_due_date"], body["legal_due_date_provisional"]) == (
            "2027-02-12",
            True,
        )

    def test_the_flag_is_shown_in_the_listing_tasks_and_to_the_citizen(
        self, client, tokens, submit, frozen_clock
    ):
        move_to(frozen_clock, dt.date(2026, 12, 28))
        created = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED)).json
        # promised 7: 29, 30, 31 December, 4–7 January (元旦 off)
        assert (created["due_date"], created["due_date_provisional"]) == ("2027-01-07", True)
        listing = client.get(
            "/api/v1/applications?per_page=5", headers=bearer(tokens["oversight"])
        ).json
        [item] = [i for i in listing["items"] if i["number"] == created["number"]]
        assert item["deadlines_provisional"] is True
        fetched = client.post(
            "/api/v1/tasks/fetch-and-lock",
            json={"worker_id": "w1", "max_tasks": 5},
            headers=bearer(tokens["zjj"]),
        ).json
        [task] = fetched
        # the zjj step has 5 working days: 29, 30, 31 December, 4 and 5 January
        assert (task["due_date"], task["due_date_provisional"]) == ("2027-01-05", True)
        assert task["application"]["due_date_provisional"] is True
        status = client.post(
            "/api/v1/status",
            json={"number": created["number"], "query_code": created["query_code"]},
        ).json
        assert (status["due_date"], status["due_date_provisional"]) == ("2027-01-07", True)
        assert status["provisional_note"] == PROVISIONAL_NOTE

    def test_a_case_near_its_provisional_limit_is_warned_and_flagged(
        self, client, tokens, submit, frozen_clock
    ):
        move_to(frozen_clock, dt.date(2026, 12, 28))
        number = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED)).json["number"]
        move_to(frozen_clock, dt.date(2027, 1, 5))  # due 7 January: two working days left
        warnings = client.get(
            "/api/v1/oversight/warnings", headers=bearer(tokens["oversight"])
        ).json
        [warned] = [c for c in warnings["cases"] if c["number"] == number]
        assert (warned["level"], warned["deadlines_provisional"]) == ("yellow_warning", True)
        assert all(s["due_date_provisional"] for s in warnings["steps"])

    def test_a_supervisor_extends_a_case_into_the_unknown_year(
        self, client, tokens, submit, act, december
    ):
        number = submit().json["number"]
        extended = act(
            number,
            "extend",
            {"days": 10, "reason": "需现场核查", "approver": "李局长"},
            role="supervisor",
        )
        assert extended.status_code == 200, extended.json
        body = extended.json
        # promised 11 Dec + 10: 14–25 December; legal 4 Jan + 10: 5–8, 11–15, 18 January
        assert (body["due_date"], body["due_date_provisional"]) == ("2026-12-25", False)
        assert (body["legal_due_date"], body["legal_due_date_provisional"]) == (
            "2027-01-18",
            True,
        )
        assert body["extension"]["legal_due_date_provisional"] is True


class TestLoadingTheNotice:
    def test_open_cases_are_recounted_recorded_and_confirmed(
        self, app, client, tokens, submit, december
    ):
        single = submit().json["number"]
        parallel = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED)).json["number"]
        result = load_2027(client, tokens)
        assert result["changed"] is True
        assert result["recounted"]["cases"] == 2
        assert result["recounted"]["still_provisional"] == 0
        moved = staff_view(client, tokens["window"], single)
        # 4 January is now a day off: the 20th working day is the 5th
        assert (moved["legal_due_date"], moved["legal_due_date_provisional"]) == (
            "2027-01-05",
            False,
        )
        assert moved["deadlines_provisional"] is False and moved["provisional_note"] is None
        joint = staff_view(client, tokens["window"], parallel)
        # 9 January is worked, 5–11 February are off: 12 and 15 February are the 44th and 45th
        assert (joint["legal_due_date"], joint["legal_due_date_provisional"]) == (
            "2027-02-15",
            False,
        )
        events = client.get(
            f"/api/v1/applications/{single}/events", headers=bearer(tokens["oversight"])
        ).json
        [recounted] = [e for e in events if e["type"] == "calendar.recounted"]
        assert recounted["details"]["deadlines"] == [
            {
                "deadline": "legal_due_date",
                "old": "2027-01-04",
                "new": "2027-01-05",
                "old_provisional": True,
                "provisional": False,
            }
        ]
        assert "2027" in recounted["details"]["why"]
        assert audit_ok(client, tokens) == (True, [])

    def test_loading_the_same_notice_twice_changes_nothing(self, client, tokens, submit, december):
        number = submit().json["number"]
        load_2027(client, tokens)
        version = staff_view(client, tokens["window"], number)["version"]
        again = load_2027(client, tokens)
        assert again["changed"] is False
        assert again["recounted"]["cases"] == 0
        assert staff_view(client, tokens["window"], number)["version"] == version

    def test_cases_accepted_after_the_notice_use_it_directly(
        self, client, tokens, submit, december
    ):
        load_2027(client, tokens)
        body = submit().json
        assert (body["legal_due_date"], body["legal_due_date_provisional"]) == (
            "2027-01-05",
            False,
        )

    def test_the_same_day_counted_again_after_the_notice_is_not_the_remembered_date(
        self, client, tokens, submit, december
    ):
        """Deadlines counted once per calendar snapshot are not reused once a notice is loaded:
        the same item accepted the same day before and after it gets two different limits."""
        before = submit().json
        assert (before["legal_due_date"], before["legal_due_date_provisional"]) == (
            "2027-01-04",
            True,
        )
        load_2027(client, tokens)
        after = submit().json
        assert (after["legal_due_date"], after["legal_due_date_provisional"]) == (
            "2027-01-05",
            False,
        )

    def test_the_cli_loads_a_notice_file_and_says_what_changed(
        self, app, client, tokens, submit, december, tmp_path
    ):
        submit()
        path = tmp_path / "2027.json"
        path.write_text(json.dumps({"years": [2027], **NOTICE_2027}), "utf-8")
        first = app.test_cli_runner().invoke(args=["calendar", "load", str(path)])
        assert first.exit_code == 0, first.output
        assert "recounted: 1 cases changed" in first.output
        second = app.test_cli_runner().invoke(args=["calendar", "load", str(path)])
        assert "already loaded, nothing changed" in second.output
        assert "recounted: 0 cases changed" in second.output

    def test_another_process_sees_the_notice_at_once(self, app, config, client, tokens, december):
        from windowsvc import create_app
        from windowsvc.extensions import db

        other = create_app(config)
        try:
            other_client = other.test_client()
            url = "/api/v1/calendar/deadline?start=2026-12-31&working_days=1"
            assert other_client.get(url).json["due_date"] == "2027-01-04"
            load_2027(client, tokens)
            assert other_client.get(url).json == {
                "due_date": "2027-01-05",
                "provisional": False,
                "provisional_note": None,
            }
        finally:
            with other.app_context():
                db.session.remove()
                db.engine.dispose()

    def test_a_notice_only_admins_may_load_and_only_for_its_year(self, client, tokens):
        url = "/api/v1/calendar/years/2027"
        assert (
            client.put(url, json=NOTICE_2027, headers=bearer(tokens["window"])).status_code == 403
        )
        wrong = client.put(url, json={"holidays": ["2028-01-01"]}, headers=bearer(tokens["admin"]))
        assert wrong.status_code == 422 and "2028-01-01" in str(wrong.json["errors"])
        both = client.put(
            url,
            json={"holidays": ["2027-01-04"], "workdays": ["2027-01-04"]},
            headers=bearer(tokens["admin"]),
        )
        assert both.status_code == 422
        ancient = client.put(
            "/api/v1/calendar/years/362", json=NOTICE_2027, headers=bearer(tokens["admin"])
        )
        assert ancient.status_code == 422


class TestClocksAcrossTheYearBoundary:
    def test_deemed_acceptance_waits_for_the_recounted_notice_limit(
        self, app, client, tokens, submit, frozen_clock
    ):
        from windowsvc.services.admin import sweep

        move_to(frozen_clock, dt.date(2026, 12, 28))  # Monday: an online submission
        number = submit(intake_body(channel="online")).json["number"]
        pending = staff_view(client, tokens["window"], number)
        # 29, 30, 31 December, 4 and 5 January (元旦 off): provisional
        assert pending["correction_limit"] == {"date": "2027-01-05", "provisional": True}
        load_2027(client, tokens)
        limit = staff_view(client, tokens["window"], number)["correction_limit"]
        assert limit == {"date": "2027-01-06", "provisional": False}  # 4 January is off too
        move_to(frozen_clock, dt.date(2027, 1, 6))
        with app.app_context():
            assert sweep.deem_acceptances() == []
        move_to(frozen_clock, dt.date(2027, 1, 7))
        with app.app_context():
            assert sweep.deem_acceptances() == [number]
        accepted = staff_view(client, tokens["window"], number)
        assert accepted["acceptance_date"] == "2026-12-28"
        # promised 5 from receipt on the official calendar: 29, 30, 31 Dec, 5 and 6 Jan
        assert (accepted["due_date"], accepted["due_date_provisional"]) == ("2027-01-06", False)

    def test_a_pause_over_new_year_is_counted_again(
        self, client, tokens, submit, act, frozen_clock
    ):
        move_to(frozen_clock, dt.date(2026, 12, 14))
        number = submit().json["number"]  # promised 5: 21 December; legal 20: 12 January
        move_to(frozen_clock, dt.date(2026, 12, 28))
        suspended = act(
            number,
            "suspend",
            {"reason": "组织听证", "kind": "hearing", "expected_days": 10},
            role="supervisor",
        )
        assert suspended.status_code == 200, suspended.json
        assert suspended.json["suspensions"][0]["expected_end_provisional"] is True
        move_to(frozen_clock, dt.date(2027, 1, 8))
        resumed = act(number, "resume", {"result": "听证结束"}, role="supervisor").json
        # paused 29, 30, 31 Dec, 4–8 Jan: 8 working days on the provisional calendar
        assert resumed["suspensions"][0]["paused_working_days"] == 8
        before = (resumed["due_date"], resumed["legal_due_date"])
        assert before == ("2026-12-31", "2027-01-22")
        assert resumed["due_date_provisional"] and resumed["legal_due_date_provisional"]
        load_2027(client, tokens)
        after = staff_view(client, tokens["window"], number)
        # the notice takes 4 January out of the pause (7 days) and out of the counting
        assert (after["due_date"], after["legal_due_date"]) == ("2026-12-30", "2027-01-21")
        assert not (after["due_date_provisional"] or after["legal_due_date_provisional"])
        events = client.get(
            f"/api/v1/applications/{number}/events", headers=bearer(tokens["oversight"])
        ).json
        [recounted] = [e for e in events if e["type"] == "calendar.recounted"]
        assert recounted["details"]["pauses"] == [
            {
                "from": "2026-12-28",
                "to": "2027-01-08",
                "old_days": 8,
                "new_days": 7,
                "provisional": False,
            }
        ]
        assert audit_ok(client, tokens) == (True, [])

    def test_a_rectification_due_in_the_new_year_is_recounted(
        self, client, tokens, conclude, rate, frozen_clock
    ):
        move_to(frozen_clock, dt.date(2026, 12, 1))
        number, code = conclude()
        move_to(frozen_clock, dt.date(2026, 12, 29))
        rating = rate(number, code, 1, ["attitude"], "态度差").json
        order = rating["rectification"]
        # five working days: 30, 31 December, 4, 5, 6 January
        assert (order["due_date"], order["due_date_provisional"]) == ("2027-01-06", True)
        load_2027(client, tokens)
        orders = client.get("/api/v1/rectifications", headers=bearer(tokens["oversight"])).json[
            "items"
        ]
        [recounted] = [o for o in orders if o["number"] == number]
        assert (recounted["due_date"], recounted["due_date_provisional"]) == ("2027-01-07", False)


class TestSelfHealing:
    def test_the_sweep_recounts_a_case_written_while_the_notice_was_loading(
        self, app, client, tokens, submit, december
    ):
        """A deadline counted on the old calendar and committed after the load's recount."""
        from windowsvc.db import write_transaction
        from windowsvc.models import CalendarDay, CalendarState, CalendarYear
        from windowsvc.services.admin import sweep

        number = submit().json["number"]
        with app.app_context(), write_transaction() as session:
            # the notice lands without the load's own recount, as if this case raced it
            session.add(CalendarYear(year=2027, note="raced"))
            for day in NOTICE_2027["holidays"]:
                session.add(CalendarDay(day=dt.date.fromisoformat(day), working=False))
            session.get(CalendarState, 1).revision += 1
        assert staff_view(client, tokens["window"], number)["legal_due_date"] == "2027-01-04"
        with app.app_context():
            report = sweep.run()
        assert report.recounted == [number]
        assert staff_view(client, tokens["window"], number)["legal_due_date"] == "2027-01-05"
        with app.app_context():
            assert sweep.run().recounted == []


class TestCoverage:
    def test_oversight_sees_the_missing_year_and_the_provisional_work(
        self, client, tokens, submit, december
    ):
        submit()
        coverage = client.get("/api/v1/calendar/coverage", headers=bearer(tokens["oversight"])).json
        years = {y["year"]: (y["source"], y["official"]) for y in coverage["years"]}
        assert years[2026] == ("package", True)
        assert years[2027] == ("provisional", False)
        assert coverage["next_year_missing_warning"] is True
        assert coverage["open_cases_provisional"] == 1
        assert client.get("/readyz").status_code == 200
        load_2027(client, tokens)
        after = client.get("/api/v1/calendar/coverage", headers=bearer(tokens["oversight"])).json
        assert {y["year"]: y["source"] for y in after["years"]}[2027] == "notice"
        assert after["next_year_missing_warning"] is False
        assert after["open_cases_provisional"] == 0
        assert after["last_loads"][0]["recounted"]["cases"] == 1

    def test_no_warning_before_the_first_of_october(self, client, tokens, frozen_clock):
        move_to(frozen_clock, dt.date(2026, 9, 30))
        coverage = client.get("/api/v1/calendar/coverage", headers=bearer(tokens["admin"])).json
        assert coverage["next_year_missing_warning"] is False


class TestDeadlineCalculator:
    def test_a_date_in_an_unknown_year_is_answered_provisionally(self, client):
        answer = client.get("/api/v1/calendar/deadline?start=2030-06-03&working_days=5").json
        assert answer == {
            "due_date": "2030-06-11",  # 端午 2030 is Tuesday 5 June
            "provisional": True,
            "provisional_note": "预计，待国务院公布 2030 年节假日安排后确认",
        }

    @pytest.mark.parametrize(
        "query, field",
        [
            ("start=0362-01-01&working_days=5", "start"),
            ("start=9999-12-31&working_days=5", "start"),
            ("start=2026-12-01&working_days=1000000", "working_days"),
        ],
    )
    def test_implausible_inputs_are_refused_with_the_bounds(self, client, query, field):
        response = client.get(f"/api/v1/calendar/deadline?{query}")
        assert response.status_code == 422
        assert "between" in " ".join(response.json["errors"][field])


class TestLateDecember:
    """Every endpoint that counts working days, on 28 and 31 December with no 2027 or 2028 data."""

    def test_no_endpoint_that_counts_dates_answers_5xx(
        self, app, client, tokens, submit, act, decide, rate, frozen_clock
    ):
        from windowsvc.services.admin import sweep

        statuses = []

        def check(response):
            statuses.append((response.request.method, response.request.path, response.status_code))
            return response

        for day in (dt.date(2026, 12, 28), dt.date(2026, 12, 31)):
            move_to(frozen_clock, day)
            numbers = {}
            for item in check(client.get("/api/v1/items")).json:
                required = [m["code"] for m in item["materials"] if m["required"]]
                created = check(submit(intake_body(item=item["code"], materials=required)))
                assert created.status_code == 201, (item["code"], created.json)
                numbers[item["code"]] = (created.json["number"], created.json["query_code"])
            food, food_code = numbers["330100-XK-SCJG-0012"]
            online = check(submit(intake_body(channel="online", materials=[]))).json["number"]
            check(act(online, "request_correction", {"missing": ["business_licence"]}))
            check(act(online, "supplement", {"materials": ["business_licence"]}))
            check(
                act(
                    food,
                    "suspend",
                    {"reason": "专家评审", "kind": "expert_review", "expected_days": 30},
                    role="supervisor",
                )
            )
            move_to(frozen_clock, day + dt.timedelta(days=6))
            check(act(food, "resume", {"result": "评审通过"}, role="supervisor"))
            check(
                act(
                    food,
                    "extend",
                    {"days": 10, "reason": "需现场核查", "approver": "李局长"},
                    role="supervisor",
                )
            )
            parallel, _ = numbers[PARALLEL]
            check(act(parallel, "withdraw", {"reason": "申请人书面申请撤回"}))
            check(
                client.post(
                    "/api/v1/tasks/fetch-and-lock",
                    json={"worker_id": "w", "max_tasks": 10},
                    headers=bearer(tokens["scjg"]),
                )
            )
            decide(food)
            check(act(food, "deliver", {"method": "window"}))
            check(rate(food, food_code, 1, ["attitude"], "等待太久"))
            check(client.post("/api/v1/status", json={"number": food, "query_code": food_code}))
            for path, role in [
                (f"/api/v1/applications/{food}", "window"),
                (f"/api/v1/applications/{food}/events", "oversight"),
                ("/api/v1/applications?per_page=50", "oversight"),
                ("/api/v1/oversight/warnings", "oversight"),
                ("/api/v1/oversight/stats?group_by=department", "oversight"),
                ("/api/v1/oversight/ratings?group_by=department", "oversight"),
                ("/api/v1/rectifications", "oversight"),
                ("/api/v1/calendar/coverage", "oversight"),
                ("/api/v1/calendar/deadline?start=2026-12-31&working_days=365", "window"),
            ]:
                check(client.get(path, headers=bearer(tokens[role])))
            with app.app_context():
                report = sweep.run()
            assert report.failures == []
        failures = [s for s in statuses if s[2] >= 500]
        assert failures == []
        assert len(statuses) > 40


class TestRecountUnderConcurrency:
    def test_a_change_committed_between_the_read_and_the_lock_does_not_abort_the_recount(
        self, client, tokens, submit, database_url, december, monkeypatch
    ):
        """The recount reads without a lock first: that read must write nothing."""
        from sqlalchemy import create_engine, text

        from windowsvc.services.calendar import recount

        number = submit().json["number"]
        counted = recount.recount_case
        other_node = create_engine(database_url)
        raced = []

        def another_node_commits_meanwhile(application):
            changes = counted(application)
            if not raced:  # the first call is the unlocked read
                with other_node.begin() as connection:
                    connection.execute(
                        text("UPDATE applications SET version = version + 1 WHERE number = :n"),
                        {"n": number},
                    )
                raced.append(number)
            return changes

        monkeypatch.setattr(recount, "recount_case", another_node_commits_meanwhile)
        try:
            result = load_2027(client, tokens)
        finally:
            other_node.dispose()
        assert raced == [number]
        assert result["recounted"]["cases"] == 1
        assert staff_view(client, tokens["window"], number)["legal_due_date"] == "2027-01-05"

    def test_a_transaction_keeps_its_calendar_whatever_another_thread_installs(
        self, app, client, tokens, december
    ):
        from windowsvc.adapters.calendar import ChineseWorkingCalendar, NoticeCalendar
        from windowsvc.extensions import db
        from windowsvc.platform.context import adapters
        from windowsvc.services.calendar.working import working_calendar

        load_2027(client, tokens)
        with app.app_context():
            seen = working_calendar()
            assert seen.is_official(2027)
            # a thread still on an older snapshot installs the calendar it read
            adapters().calendar = NoticeCalendar(ChineseWorkingCalendar(), revision=0)
            assert working_calendar() is seen
            db.session.rollback()
            assert working_calendar().is_official(2027)  # the next transaction reads again
            assert adapters().calendar.revision == seen.revision

    def test_the_stored_notices_are_read_once_per_revision_not_per_transaction(self, app):
        """Revision 0 (no notice ever loaded) is installed like any other: later transactions
        read the revision alone, not every stored day and year again."""
        from sqlalchemy import event

        from windowsvc.extensions import db
        from windowsvc.services.calendar.working import working_calendar

        statements = []

        def note(_conn, _cursor, statement, *_args):
            statements.append(statement)

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", note)
            try:
                first = working_calendar()
                db.session.rollback()
                del statements[:]
                second = working_calendar()
                db.session.rollback()
            finally:
                event.remove(db.engine, "before_cursor_execute", note)
        assert second is first
        read = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(read) == 1 and "calendar_state" in read[0], statements


class TestWhatTheRecountKeeps:
    def test_a_step_moved_before_pauses_were_counted_keeps_that_move(
        self, app, client, tokens, submit, act, frozen_clock
    ):
        """A step of a case from before migration 0007: moved by a pause, nothing recorded."""
        from windowsvc.db import write_transaction
        from windowsvc.models import Application

        move_to(frozen_clock, dt.date(2026, 12, 14))
        number = submit().json["number"]
        with app.app_context(), write_transaction():
            application = Application.query.filter_by(number=number).one()
            [step] = application.steps  # 3 working days: 17 December
            step.due_date, step.moved_working_days = dt.date(2026, 12, 21), None  # moved by 2
        move_to(frozen_clock, dt.date(2026, 12, 28))
        act(
            number,
            "suspend",
            {"reason": "组织听证", "kind": "hearing", "expected_days": 10},
            role="supervisor",
        )
        move_to(frozen_clock, dt.date(2027, 1, 8))
        resumed = act(number, "resume", {"result": "听证结束"}, role="supervisor").json
        # 8 provisional working days on: 22–25, 28–31 December
        assert resumed["steps"][0]["due_date"] == "2026-12-31"
        load_2027(client, tokens)
        # the pause is 7 days on the notice; the earlier 2 stay: 17 December + 9
        assert staff_view(client, tokens["window"], number)["steps"][0]["due_date"] == "2026-12-30"

    def test_a_commitment_outliving_the_recounted_promise_is_recorded(
        self, app, client, tokens, submit, frozen_clock
    ):
        from windowsvc import clock
        from windowsvc.adapters.evidence import InMemoryEvidenceSource

        # 容缺 needs the credit record: an in-memory source that knows nobody as 失信
        app.extensions["windowsvc.adapters"].evidence = InMemoryEvidenceSource({}, clock.now)
        move_to(frozen_clock, dt.date(2027, 1, 5))
        required = [
            "food_licence_application",
            "business_licence",
            "legal_representative_id",
            "premises_floor_plan",
            "food_process_layout",
            "staff_health_certificates",
        ]
        late = intake_body(
            materials=required,
            deferred=[{"code": "food_safety_rules", "commit_date": "2027-01-13"}],
        )
        refused = submit(late)
        # promised 5: 6, 7, 8, 11, 12 January on the statutory rule
        assert refused.status_code == 422
        assert "2027-01-12（预计）" in str(refused.json["errors"])
        body = intake_body(
            materials=required,
            deferred=[{"code": "food_safety_rules", "commit_date": "2027-01-12"}],
        )
        created = submit(body)
        assert created.status_code == 201, created.json
        number = created.json["number"]
        load_2027(client, tokens)  # Saturday 9 January is worked: the promise ends on the 11th
        events = client.get(
            f"/api/v1/applications/{number}/events", headers=bearer(tokens["oversight"])
        ).json
        [recounted] = [e for e in events if e["type"] == "calendar.recounted"]
        assert recounted["details"]["commitments_after_due"] == [
            {"code": "food_safety_rules", "commit_date": "2027-01-12"}
        ]

    def test_the_camunda_facade_says_a_due_date_is_provisional(
        self, client, tokens, submit, frozen_clock
    ):
        move_to(frozen_clock, dt.date(2026, 12, 28))
        submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
        fetched = client.post(
            "/engine-rest/external-task/fetchAndLock",
            json={
                "workerId": "w",
                "maxTasks": 1,
                "topics": [{"topicName": "zjj.joint-acceptance.quality", "lockDuration": 60000}],
            },
            headers=bearer(tokens["zjj"]),
        ).json
        [task] = fetched
        assert task["variables"]["dueDateProvisional"] == {
            "type": "Boolean",
            "value": True,
            "valueInfo": {},
        }


class TestNoticeFilesThatAreWrong:
    @pytest.mark.parametrize(
        "content",
        [
            b'{"years": [0]}',
            b'{"years": [10000]}',
            b'{"years": [1e20]}',
            b'{"years": [1]}',
            b'{"holidays": ["1999-12-31"]}',
            b'{"years": [2027], "holidays": ["2027-02-30"]}',
            '{"note": "春节"}'.encode("utf-16"),
        ],
    )
    def test_a_bad_notice_is_refused_with_a_message_and_stores_nothing(
        self, app, tmp_path, content
    ):
        from windowsvc.models import CalendarDay, CalendarYear

        path = tmp_path / "notice.json"
        path.write_bytes(content)
        result = app.test_cli_runner().invoke(args=["calendar", "load", str(path)])
        assert result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.output.startswith("Error:")
        with app.app_context():
            assert CalendarYear.query.count() == 0 and CalendarDay.query.count() == 0
