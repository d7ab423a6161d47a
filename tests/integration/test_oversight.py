"""电子监察: GET /api/v1/oversight/warnings and /stats, and the stored warning level of a case."""

import csv
import io
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import (
    INSTANT,
    INSTANT_REQUIRED,
    PARALLEL,
    PARALLEL_REQUIRED,
    bearer,
    intake_body,
    move_to,
)
from windowsvc import clock
from windowsvc.extensions import db
from windowsvc.models import Application, CatalogItem, Event
from windowsvc.services.admin import credentials
from windowsvc.services.oversight import warnings as oversight

# FOOD accepted on Monday 2 March 2026: promised 5 working days → Monday 9 March, legal 20 →
# Monday 30 March; its first step (3 working days) is due Thursday 5 March. No holiday in March.
ACCEPTED = date(2026, 3, 2)
DUE, LEGAL_DUE, STEP_DUE = date(2026, 3, 9), date(2026, 3, 30), date(2026, 3, 5)


def get_warnings(client, tokens, role="oversight", **query):
    response = client.get(
        "/api/v1/oversight/warnings", query_string=query, headers=bearer(tokens[role])
    )
    assert response.status_code == 200, response.json
    return response.json


def case_of(body, number):
    """The case's warning entry, or None."""
    return next((c for c in body["cases"] if c["number"] == number), None)


def steps_of(body, number):
    return [s for s in body["steps"] if s["number"] == number]


@pytest.fixture
def food_case(submit, frozen_clock):
    """A food licence accepted at the window on Monday 2 March 2026; its number."""
    created = submit().json
    assert (created["due_date"], created["legal_due_date"]) == (
        DUE.isoformat(),
        LEGAL_DUE.isoformat(),
    )
    assert created["steps"][0]["due_date"] == STEP_DUE.isoformat()
    return created["number"]


class TestCaseWarnings:
    def test_nothing_while_more_than_two_working_days_remain(
        self, client, tokens, food_case, frozen_clock
    ):
        for day in (ACCEPTED, date(2026, 3, 4)):
            move_to(frozen_clock, day)
            assert case_of(get_warnings(client, tokens), food_case) is None

    def test_the_yellow_warning_appears_with_two_working_days_left(
        self, client, tokens, food_case, frozen_clock
    ):
        move_to(frozen_clock, date(2026, 3, 5))
        entry = case_of(get_warnings(client, tokens), food_case)
        assert entry["level"] == "yellow_warning"
        assert (entry["working_days_left"], entry["working_days_over"]) == (2, 0)
        assert entry["department"] == "scjg" and entry["due_date"] == DUE.isoformat()

    def test_the_warning_holds_over_the_weekend_up_to_the_due_day(
        self, client, tokens, food_case, frozen_clock
    ):
        for day, left in ((date(2026, 3, 7), 1), (date(2026, 3, 8), 1), (DUE, 0)):
            move_to(frozen_clock, day)
            entry = case_of(get_warnings(client, tokens), food_case)
            assert (entry["level"], entry["working_days_left"]) == ("yellow_warning", left)

    def test_the_yellow_card_comes_the_day_after_the_due_date(
        self, client, tokens, food_case, frozen_clock
    ):
        move_to(frozen_clock, date(2026, 3, 10))
        entry = case_of(get_warnings(client, tokens), food_case)
        assert (entry["level"], entry["working_days_over"]) == ("yellow_card", 1)
        move_to(frozen_clock, date(2026, 3, 11))
        assert case_of(get_warnings(client, tokens), food_case)["level"] == "yellow_card"

    def test_the_red_card_comes_three_working_days_after_the_due_date(
        self, client, tokens, food_case, frozen_clock
    ):
        move_to(frozen_clock, date(2026, 3, 12))
        entry = case_of(get_warnings(client, tokens), food_case)
        assert (entry["level"], entry["working_days_over"]) == ("red_card", 3)
        assert entry["legal_level"] is None and not entry["legal_overdue"]

    def test_a_concluded_case_clears(self, client, tokens, food_case, frozen_clock, decide):
        move_to(frozen_clock, date(2026, 3, 12))
        decide(food_case)
        body = get_warnings(client, tokens)
        assert case_of(body, food_case) is None and steps_of(body, food_case) == []

    def test_an_extension_clears_the_card_against_the_longer_limit(
        self, client, tokens, food_case, frozen_clock, act
    ):
        move_to(frozen_clock, date(2026, 3, 10))
        extension = {"days": 10, "reason": "现场核查需要", "approver": "王科长"}
        assert act(food_case, "extend", extension, role="supervisor").status_code == 200
        assert case_of(get_warnings(client, tokens), food_case) is None  # due 23 March now
        move_to(frozen_clock, date(2026, 3, 18))  # 3 left: the window of a 15-day limit
        assert case_of(get_warnings(client, tokens), food_case)["level"] == "yellow_warning"

    def test_the_legal_due_date_passing_is_flagged(self, client, tokens, food_case, frozen_clock):
        move_to(frozen_clock, LEGAL_DUE)
        entry = case_of(get_warnings(client, tokens), food_case)
        assert (entry["legal_level"], entry["legal_overdue"]) == ("yellow_warning", False)
        move_to(frozen_clock, LEGAL_DUE + timedelta(days=1))
        body = get_warnings(client, tokens)
        entry = case_of(body, food_case)
        assert entry["legal_overdue"] and entry["legal_level"] == "yellow_card"
        assert entry["legal_working_days_over"] == 1 and entry["level"] == "red_card"
        assert body["summary"]["legal_overdue"] == 1

    def test_a_suspended_case_carries_no_warning(
        self, client, tokens, food_case, frozen_clock, act
    ):
        move_to(frozen_clock, date(2026, 3, 5))
        assert case_of(get_warnings(client, tokens), food_case) is not None
        procedure = {"reason": "委托检测", "kind": "testing", "expected_days": 10}
        assert act(food_case, "suspend", procedure).status_code == 200
        for day in (date(2026, 3, 5), date(2026, 3, 13), date(2026, 4, 1)):
            move_to(frozen_clock, day)
            body = get_warnings(client, tokens)
            assert case_of(body, food_case) is None and steps_of(body, food_case) == []

    def test_an_instant_item_open_after_its_day_is_flagged(
        self, client, tokens, submit, frozen_clock
    ):
        created = submit(intake_body(item=INSTANT, materials=INSTANT_REQUIRED)).json
        assert created["due_date"] == ACCEPTED.isoformat()
        entry = case_of(get_warnings(client, tokens), created["number"])
        assert (entry["level"], entry["instant_overdue"]) == ("yellow_warning", False)
        move_to(frozen_clock, date(2026, 3, 3))
        body = get_warnings(client, tokens)
        entry = case_of(body, created["number"])
        assert entry["instant"] and entry["instant_overdue"] and entry["level"] == "yellow_card"
        assert body["summary"]["instant_overdue"] == 1


class TestStepWarnings:
    def test_a_step_is_warned_two_working_days_before_its_due_date(
        self, client, tokens, food_case, frozen_clock
    ):
        assert steps_of(get_warnings(client, tokens), food_case) == []
        move_to(frozen_clock, date(2026, 3, 3))
        [step] = steps_of(get_warnings(client, tokens), food_case)
        assert (step["level"], step["working_days_left"]) == ("yellow_warning", 2)
        assert step["department"] == "scjg" and step["due_date"] == STEP_DUE.isoformat()

    def test_a_late_step_of_a_case_on_time_is_a_stage_overtime(
        self, client, tokens, food_case, frozen_clock
    ):
        move_to(frozen_clock, date(2026, 3, 6))
        body = get_warnings(client, tokens)
        [step] = steps_of(body, food_case)
        assert step["level"] == "yellow_card"
        assert step["working_days_over"] == 1
        assert step["stage_overtime"] is True  # the step is late while its case is not
        assert case_of(body, food_case)["level"] == "yellow_warning"
        assert body["summary"]["stage_overtime"] == 1

    def test_the_step_red_card_counts_working_days_over_the_weekend(
        self, client, tokens, food_case, frozen_clock
    ):
        move_to(frozen_clock, date(2026, 3, 9))  # Fri 6 and Mon 9: two working days over
        [step] = steps_of(get_warnings(client, tokens), food_case)
        assert (step["level"], step["working_days_over"]) == ("yellow_card", 2)
        move_to(frozen_clock, date(2026, 3, 10))
        [step] = steps_of(get_warnings(client, tokens), food_case)
        assert (step["level"], step["stage_overtime"]) == (
            "red_card",
            False,
        )  # the case is late too

    def test_a_completed_step_clears(self, client, tokens, food_case, frozen_clock, decide):
        move_to(frozen_clock, date(2026, 3, 6))
        decide(food_case)
        assert steps_of(get_warnings(client, tokens), food_case) == []


class TestRefusalsWithoutReason:
    def _refuse(self, submit, act):
        number = submit(intake_body(materials=["food_licence_application"])).json["number"]
        refusal = {"reason": "不属于本机关职权范围", "rights_notice": "可依法申请行政复议"}
        assert act(number, "refuse", refusal).status_code == 200
        return number

    def test_a_refusal_with_its_reason_is_not_flagged(
        self, client, tokens, submit, act, frozen_clock
    ):
        self._refuse(submit, act)
        assert get_warnings(client, tokens)["refusals_without_reason"] == []

    def test_a_refusal_whose_reason_went_missing_is_flagged(
        self, app, client, tokens, submit, act, frozen_clock
    ):
        number = self._refuse(submit, act)
        with app.app_context():
            db.session.execute(
                update(Application)
                .where(Application.number == number)
                .values(details={"refusal": {"reason": "  ", "rights_notice": "…"}})
            )
            db.session.commit()
        body = get_warnings(client, tokens)
        assert [r["number"] for r in body["refusals_without_reason"]] == [number]
        assert body["refusals_without_reason"][0]["department"] == "scjg"


class TestWarningsAccess:
    def test_the_window_may_not_read_warnings_or_stats(self, client, tokens):
        for path in ("/api/v1/oversight/warnings", "/api/v1/oversight/stats"):
            assert client.get(path, headers=bearer(tokens["window"])).status_code == 403
            assert client.get(path).status_code == 401

    def test_a_supervisor_sees_the_warnings_of_their_own_department_only(
        self, client, tokens, submit, food_case, frozen_clock
    ):
        parallel = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED)).json["number"]
        move_to(frozen_clock, date(2026, 3, 30))
        everything = get_warnings(client, tokens)
        assert {c["number"] for c in everything["cases"]} == {food_case, parallel}
        own = get_warnings(client, tokens, role="supervisor", department="zjj")
        assert [c["number"] for c in own["cases"]] == [food_case]
        assert {s["department"] for s in own["steps"]} == {"scjg"}
        zjj = get_warnings(client, tokens, department="zjj")
        assert [c["number"] for c in zjj["cases"]] == [parallel]

    def test_an_unknown_query_argument_is_422(self, client, tokens):
        response = client.get(
            "/api/v1/oversight/warnings?levle=red_card", headers=bearer(tokens["oversight"])
        )
        assert response.status_code == 422
        assert "levle" in response.json["errors"]


class TestStoredWarningLevel:
    def _stored(self, app, number):
        with app.app_context():
            application = db.session.scalar(select(Application).where(Application.number == number))
            events = db.session.scalars(
                select(Event.type)
                .where(Event.application_id == application.id, Event.type.like("oversight.%"))
                .order_by(Event.seq)
            ).all()
            return application.warning_level, events

    def _update(self, app):
        with app.app_context():
            return oversight.update_warning_levels()

    def test_a_rising_level_is_stored_and_recorded_once(self, app, food_case, frozen_clock):
        assert self._update(app) == 0
        move_to(frozen_clock, date(2026, 3, 5))
        assert self._update(app) == 1
        assert self._update(app) == 0  # idempotent
        assert self._stored(app, food_case) == ("yellow_warning", ["oversight.yellow_warning"])
        move_to(frozen_clock, date(2026, 3, 12))
        assert self._update(app) == 1
        assert self._stored(app, food_case) == (
            "red_card",
            ["oversight.yellow_warning", "oversight.red_card"],
        )

    def test_the_level_clears_without_an_event_when_the_case_concludes(
        self, app, food_case, frozen_clock, decide
    ):
        move_to(frozen_clock, date(2026, 3, 10))
        assert self._update(app) == 1
        decide(food_case)
        assert self._update(app) == 1
        assert self._stored(app, food_case) == (None, ["oversight.yellow_card"])

    def test_a_suspended_case_loses_its_level(self, app, food_case, frozen_clock, act):
        move_to(frozen_clock, date(2026, 3, 5))
        self._update(app)
        procedure = {"reason": "专家评审", "kind": "expert_review", "expected_days": 10}
        assert act(food_case, "suspend", procedure).status_code == 200
        move_to(frozen_clock, date(2026, 3, 20))
        assert self._update(app) == 1
        assert self._stored(app, food_case)[0] is None

    def test_the_record_still_verifies_after_oversight_events(
        self, app, client, tokens, food_case, frozen_clock
    ):
        move_to(frozen_clock, date(2026, 3, 12))
        self._update(app)
        events = client.get(
            f"/api/v1/applications/{food_case}/events", headers=bearer(tokens["window"])
        ).json
        assert events[-1]["type"] == "oversight.red_card"
        assert events[-1]["prev_hash"] == events[-2]["hash"]
        assert events[-1]["details"]["working_days_over"] == 3


# ---- indicators on a generated data set ---------------------------------------------------------

CLERKS = ("窗口一号 李静", "窗口二号 王芳", "窗口三号 陈刚")
CHANNELS = ("window", "online", "mobile", "self_service")
DELIVERY = ("window", "express", "electronic")
FEBRUARY = (date(2026, 2, 1), date(2026, 2, 28))
QUARTER = (date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture
def generated(app):
    """130 cases over January–March with varied items, channels, clerks, delivery and endings.

    Returns the generation parameters of each case: the test's own source of truth.
    """
    rng = random.Random(20260302)
    cases = []
    with app.app_context():
        clerks = [credentials.create("window", name)[0].id for name in CLERKS]
        items = db.session.execute(
            select(
                CatalogItem.id,
                CatalogItem.code,
                CatalogItem.version,
                CatalogItem.department,
                CatalogItem.promised_days,
                CatalogItem.legal_days,
                CatalogItem.instant,
            )
        ).all()
        for n in range(130):
            item = rng.choice(items)
            clerk = rng.randrange(len(clerks))
            received = date(2026, 1, 10) + timedelta(days=rng.randrange(80))
            ending = rng.choice(("open", "concluded", "concluded", "concluded", "refused"))
            accepted = None if ending == "refused" else received + timedelta(days=rng.randrange(3))
            due = (
                accepted + timedelta(days=item.promised_days + rng.randrange(4))
                if accepted
                else None
            )
            legal = accepted + timedelta(days=item.legal_days + 8) if accepted else None
            concluded = {
                "open": None,
                "refused": received + timedelta(days=rng.randrange(2)),
                "concluded": (accepted or received) + timedelta(days=rng.randrange(12)),
            }[ending]
            used = rng.randrange(0, 12) if ending == "concluded" else None
            case = {
                "item_id": item.id,
                "item_code": item.code,
                "item_version": item.version,
                "department": item.department,
                "promised_days": item.promised_days,
                "legal_days": item.legal_days,
                "instant": item.instant,
                "channel": rng.choice(CHANNELS),
                "window": CLERKS[clerk],
                "delivery_method": rng.choice(DELIVERY),
                "one_id": rng.random() < 0.4,
                "acceptance_date": accepted,
                "due_date": due,
                "concluded_on": concluded,
                "working_days_used": used,
            }
            cases.append(case)
            db.session.add(
                Application(
                    number=f"T{n:021d}",
                    query_code_hash="0" * 64,
                    item_id=item.id,
                    item_code=item.code,
                    item_version=item.version,
                    region_code="330100",
                    channel=case["channel"],
                    state={
                        "open": "in_progress",
                        "refused": "not_accepted",
                        "concluded": "delivered",
                    }[ending],
                    applicant={},
                    received_at=datetime.combine(received, time(9), tzinfo=clock.SHANGHAI),
                    received_by_id=clerks[clerk],
                    acceptance_date=accepted,
                    due_date=due,
                    legal_due_date=legal,
                    concluded_on=concluded,
                    working_days_used=used,
                    delivery_method=case["delivery_method"],
                    one_id=case["one_id"],
                )
            )
        db.session.commit()
    return cases


def rate(numerator, denominator):
    return round(numerator / denominator, 4) if denominator else None


def expected_indicators(cases, start, end):
    """The indicators counted in plain Python from the generation parameters."""

    def within(day):
        return day is not None and start <= day <= end

    accepted = [c for c in cases if within(c["acceptance_date"])]
    concluded = [c for c in cases if within(c["concluded_on"])]
    timed = [c for c in concluded if c["due_date"] is not None]
    on_time = [c for c in timed if c["concluded_on"] <= c["due_date"]]
    used = [c["working_days_used"] for c in concluded if c["working_days_used"] is not None]
    legal = sum(c["legal_days"] for c in accepted)
    online = [c for c in accepted if c["channel"] in ("online", "mobile")]
    return {
        "accepted": len(accepted),
        "concluded": len(concluded),
        "concluded_with_limit": len(timed),
        "on_time": len(on_time),
        "on_time_rate": rate(len(on_time), len(timed)),
        "average_working_days": round(sum(used) / len(used), 2) if used else None,
        "promised_compression": (
            round(1 - sum(c["promised_days"] for c in accepted) / legal, 4) if legal else None
        ),
        "instant_share": rate(sum(c["instant"] for c in accepted), len(accepted)),
        "zero_trip_rate": rate(
            sum(c["delivery_method"] in ("express", "electronic") for c in online), len(accepted)
        ),
        "one_id_rate": rate(sum(c["one_id"] for c in accepted), len(accepted)),
        "online_rate": rate(len(online), len(accepted)),
    }


def expected_groups(cases, key, start, end):
    groups = defaultdict(list)
    for case in cases:
        if any(
            case[d] is not None and start <= case[d] <= end
            for d in ("acceptance_date", "concluded_on")
        ):
            groups[case[key]].append(case)
    return {group: expected_indicators(members, start, end) for group, members in groups.items()}


def get_stats(client, tokens, start, end, group_by, fmt="json"):
    query = {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by, "format": fmt}
    response = client.get(
        "/api/v1/oversight/stats", query_string=query, headers=bearer(tokens["oversight"])
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


class TestStats:
    def test_the_generated_data_set_is_varied(self, generated):
        assert {c["channel"] for c in generated} == set(CHANNELS)
        assert {c["window"] for c in generated} == set(CLERKS)
        assert len({c["department"] for c in generated}) >= 5
        assert any(c["instant"] for c in generated) and any(
            c["concluded_on"] is None for c in generated
        )

    @pytest.mark.parametrize("group_by", ["department", "item", "channel", "window"])
    @pytest.mark.parametrize("period", [FEBRUARY, QUARTER], ids=["february", "quarter"])
    def test_indicators_match_an_independent_count(
        self, client, tokens, generated, group_by, period
    ):
        body = get_stats(client, tokens, *period, group_by).json
        key = "item_code" if group_by == "item" else group_by
        expected = expected_groups(generated, key, *period)
        assert {
            g["group"]: {k: v for k, v in g.items() if k != "group"} for g in body["groups"]
        } == expected
        assert [g["group"] for g in body["groups"]] == sorted(expected)
        assert body["total"] == expected_indicators(generated, *period)
        assert (body["from"], body["to"], body["group_by"]) == (
            period[0].isoformat(),
            period[1].isoformat(),
            group_by,
        )

    def test_the_csv_parses_and_matches_the_json(self, client, tokens, generated):
        as_json = get_stats(client, tokens, *QUARTER, "window").json
        response = get_stats(client, tokens, *QUARTER, "window", fmt="csv")
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and ".csv" in disposition
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert len(rows) == len(as_json["groups"]) == len(CLERKS)
        for row, group in zip(rows, as_json["groups"], strict=True):
            assert row["window"] == group["group"]
            for column, value in group.items():
                if column == "group":
                    continue
                cell = row[column]
                assert (None if cell == "" else float(cell)) == value, column

    def test_a_range_with_no_case_has_no_group_and_null_rates(self, client, tokens, generated):
        body = get_stats(client, tokens, date(2025, 1, 1), date(2025, 1, 31), "department").json
        assert body["groups"] == []
        assert body["total"]["accepted"] == 0 and body["total"]["on_time_rate"] is None

    def test_the_range_defaults_to_this_month_up_to_today(self, client, tokens, frozen_clock):
        body = client.get("/api/v1/oversight/stats", headers=bearer(tokens["oversight"])).json
        assert (body["from"], body["to"]) == ("2026-03-01", "2026-03-02")
        assert body["group_by"] == "department"

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
            ({"group_by": "region"}, "group_by"),
            ({"format": "xlsx"}, "format"),
            ({"to": "2026-02-30"}, "to"),
            ({"department": "scjg"}, "department"),
        ],
    )
    def test_bad_query_arguments_are_422(self, client, tokens, query, field):
        response = client.get(
            "/api/v1/oversight/stats", query_string=query, headers=bearer(tokens["oversight"])
        )
        assert response.status_code == 422
        assert field in response.json["errors"]
