"""差评整改: the work order a bad rating opens, its closed loop, appeals, verdict and oversight."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import bearer, move_to
from windowsvc.extensions import db
from windowsvc.models import Event, OutboxMessage, Rating
from windowsvc.services.admin import credentials

pytestmark = pytest.mark.usefixtures("frozen_clock")

FOLLOW_UP = {
    "contacted_at": "2026-03-02T09:30:00+08:00",
    "summary": "已电话回访, 申请人反映排队时间长",
}


@pytest.fixture
def bad_rating(conclude, rate):
    """A food licence (scjg) delivered and rated 非常不满意: number, query code, the rating."""
    number, code = conclude()
    response = rate(number, code, 1, ["attitude"], "窗口人员态度生硬")
    assert response.status_code == 201, response.json
    return number, code, response.json


@pytest.fixture
def other_supervisor(app):
    """A supervisor of another department (zjj)."""
    with app.app_context():
        return credentials.create("supervisor", "住建局主管", "zjj")[1]


@pytest.fixture
def order_action(client, tokens):
    """POST an action on a work order as a role (default: the scjg supervisor)."""

    def _act(order_id, action, payload=None, role="supervisor", token=None):
        return client.post(
            f"/api/v1/rectifications/{order_id}/actions/{action}",
            json=payload or {},
            headers=bearer(token or tokens[role]),
        )

    return _act


def verdict(client, rating, number, code, level="satisfied"):
    return client.post(
        f"/api/v1/ratings/{rating['id']}/rectification-rating",
        json={"number": number, "query_code": code, "level": level},
    )


def refused(response, allowed):
    """A 409 naming what the state allows."""
    assert response.status_code == 409, response.json
    assert response.json["allowed_actions"] == allowed
    return response


def event_types(app):
    with app.app_context():
        return [e.type for e in db.session.scalars(select(Event).order_by(Event.id))]


def warnings(client, tokens, role="oversight"):
    response = client.get("/api/v1/oversight/warnings", headers=bearer(tokens[role]))
    assert response.status_code == 200, response.json
    return response.json


class TestOpening:
    def test_a_bad_rating_opens_a_work_order_for_the_items_department(
        self, client, tokens, bad_rating
    ):
        number, _code, rating = bad_rating
        assert rating["rectification"]["state"] == "open"
        [order] = client.get("/api/v1/rectifications", headers=bearer(tokens["supervisor"])).json[
            "items"
        ]
        assert (order["number"], order["department"], order["state"]) == (number, "scjg", "open")
        assert order["due_date"] == "2026-03-09"  # 5 working days after Monday 2 March
        assert order["rating"]["comment"] == "窗口人员态度生硬"
        assert order["rating"]["tag_labels"] == ["服务态度"]
        assert order["allowed_actions"] == ["follow_up"]

    def test_the_due_date_follows_the_configuration(self, app, client, tokens, conclude, rate):
        app.config["RATING_RECTIFY_DAYS"] = 3
        number, code = conclude()
        rating = rate(number, code, 2, ["efficiency"]).json
        assert rating["rectification"]["due_date"] == "2026-03-05"

    @pytest.mark.parametrize("level", [3, 4, 5])
    def test_no_work_order_for_a_rating_that_is_not_bad(
        self, client, tokens, conclude, rate, level
    ):
        number, code = conclude()
        assert rate(number, code, level).json["rectification"] is None
        listing = client.get("/api/v1/rectifications", headers=bearer(tokens["oversight"])).json
        assert listing["total"] == 0

    def test_another_departments_supervisor_neither_sees_nor_lists_it(
        self, client, bad_rating, other_supervisor
    ):
        order_id = bad_rating[2]["rectification"]["id"]
        listing = client.get("/api/v1/rectifications", headers=bearer(other_supervisor)).json
        assert listing["items"] == [] and listing["total"] == 0
        own_filter = client.get(
            "/api/v1/rectifications?department=scjg", headers=bearer(other_supervisor)
        ).json
        assert own_filter["total"] == 0
        detail = client.get(f"/api/v1/rectifications/{order_id}", headers=bearer(other_supervisor))
        assert detail.status_code == 404

    def test_oversight_reads_every_order_and_filters(self, client, tokens, bad_rating):
        headers = bearer(tokens["oversight"])
        assert client.get("/api/v1/rectifications", headers=headers).json["total"] == 1
        for query, total in (("department=scjg", 1), ("department=zjj", 0), ("state=closed", 0)):
            listing = client.get(f"/api/v1/rectifications?{query}", headers=headers).json
            assert listing["total"] == total, query

    def test_other_roles_cannot_read_work_orders(self, client, tokens, bad_rating):
        for role in ("window", "scjg"):
            response = client.get("/api/v1/rectifications", headers=bearer(tokens[role]))
            assert response.status_code == 403


class TestTheLoop:
    def test_the_full_path_refusing_every_shortcut(
        self, app, client, tokens, bad_rating, order_action, other_supervisor
    ):
        number, code, rating = bad_rating
        order_id = rating["rectification"]["id"]
        # nothing before the follow-up call
        refused(order_action(order_id, "close"), ["follow_up"])
        refused(order_action(order_id, "rectify", {"measures": "加强培训"}), ["follow_up"])
        refused(order_action(order_id, "appeal", {"reason": "恶意差评"}), ["follow_up"])
        assert verdict(client, rating, number, code).status_code == 409
        # not by another department, nor by oversight
        assert order_action(
            order_id, "follow_up", FOLLOW_UP, token=other_supervisor
        ).status_code == (404)
        assert order_action(order_id, "follow_up", FOLLOW_UP, role="oversight").status_code == 403
        # the follow-up needs its record
        no_summary = order_action(order_id, "follow_up", {**FOLLOW_UP, "summary": "  "})
        assert no_summary.status_code == 422 and "summary" in no_summary.json["errors"]
        future = order_action(
            order_id, "follow_up", {**FOLLOW_UP, "contacted_at": "2026-03-03T09:00:00"}
        )
        assert future.status_code == 422 and "contacted_at" in future.json["errors"]

        followed = order_action(order_id, "follow_up", FOLLOW_UP)
        assert followed.status_code == 200, followed.json
        assert followed.json["follow_up"]["contacted_at"] == "2026-03-02T09:30:00+08:00"
        assert followed.json["allowed_actions"] == ["rectify", "explain", "appeal"]
        refused(order_action(order_id, "close"), ["rectify", "explain", "appeal"])
        refused(order_action(order_id, "follow_up", FOLLOW_UP), ["rectify", "explain", "appeal"])
        assert order_action(order_id, "rectify", {"measures": " "}).status_code == 422

        rectified = order_action(order_id, "rectify", {"measures": "对窗口人员开展服务规范培训"})
        assert rectified.json["state"] == "rectified"
        closed = order_action(order_id, "close")
        assert closed.status_code == 200 and closed.json["state"] == "closed"
        assert closed.json["allowed_actions"] == []
        refused(order_action(order_id, "appeal", {"reason": "恶意差评"}), [])

        # the rater is told the result and may rate the rectification, once
        with app.app_context():
            told = [
                m.payload
                for m in OutboxMessage.query.order_by(OutboxMessage.id)
                if m.payload["title"] == "整改结果告知"
            ]
        assert len(told) == 1 and told[0]["details"]["measures"] == "对窗口人员开展服务规范培训"
        status = client.post("/api/v1/status", json={"number": number, "query_code": code}).json
        shown = status["rating"]["rectification"]
        assert (shown["state"], shown["can_rate"]) == ("closed", True)
        assert shown["measures"] == "对窗口人员开展服务规范培训"
        wrong_code = "000000" if code != "000000" else "111111"
        assert verdict(client, rating, number, wrong_code).status_code == 404
        assert verdict(client, rating, number, code, "thrilled").status_code == 422
        given = verdict(client, rating, number, code, "basically_satisfied")
        assert given.status_code == 200, given.json
        assert given.json["rectification"]["verdict_label"] == "基本满意"
        assert verdict(client, rating, number, code).status_code == 409
        assert [t for t in event_types(app) if t.startswith(("rating.", "rectification."))] == [
            "rating.given",
            "rectification.opened",
            "rectification.followed_up",
            "rectification.rectified",
            "rectification.closed",
            "rectification.rated",
        ]

    def test_an_explanation_closes_the_loop_too(self, client, tokens, bad_rating, order_action):
        order_id = bad_rating[2]["rectification"]["id"]
        order_action(order_id, "follow_up", FOLLOW_UP)
        refused(order_action(order_id, "close"), ["rectify", "explain", "appeal"])
        explained = order_action(order_id, "explain", {"explanation": "依法须现场核查, 无法缩短"})
        assert explained.json["state"] == "explained"
        refused(order_action(order_id, "rectify", {"measures": "加强培训"}), ["close", "appeal"])
        assert order_action(order_id, "close").json["state"] == "closed"

    def test_an_unknown_action_is_404(self, bad_rating, order_action):
        order_id = bad_rating[2]["rectification"]["id"]
        assert order_action(order_id, "teleport").status_code == 404
        assert order_action(order_id + 1000, "follow_up", FOLLOW_UP).status_code == 404

    def test_a_verdict_on_another_cases_rating_is_404(self, client, bad_rating, conclude, rate):
        number, code = conclude()
        rate(number, code, 5)
        assert verdict(client, bad_rating[2], number, code).status_code == 404


class TestAppeal:
    def test_only_oversight_decides_and_a_rejection_returns_to_the_loop(
        self, app, client, tokens, bad_rating, order_action
    ):
        order_id = bad_rating[2]["rectification"]["id"]
        order_action(order_id, "follow_up", FOLLOW_UP)
        assert order_action(order_id, "appeal", {"reason": ""}).status_code == 422
        appealed = order_action(order_id, "appeal", {"reason": "申请人所述与事实不符"})
        assert appealed.json["state"] == "appealed" and appealed.json["allowed_actions"] == []
        decision = {"upheld": False, "reason": "差评理由成立"}
        for role in ("supervisor", "window", "admin"):
            response = order_action(order_id, "decide_appeal", decision, role=role)
            assert response.status_code == 403, role
        for bad in ({"upheld": False, "reason": " "}, {"upheld": "no", "reason": "理由"}):
            response = order_action(order_id, "decide_appeal", bad, role="oversight")
            assert response.status_code == 422, bad
        rejected = order_action(order_id, "decide_appeal", decision, role="oversight")
        assert rejected.status_code == 200, rejected.json
        assert rejected.json["state"] == "followed_up"
        assert rejected.json["appeal"]["upheld"] is False
        # one appeal only; the loop goes on
        refused(order_action(order_id, "appeal", {"reason": "再次申诉"}), ["rectify", "explain"])
        order_action(order_id, "rectify", {"measures": "调整窗口排班"})
        assert order_action(order_id, "close").json["state"] == "closed"
        with app.app_context():
            assert db.session.scalar(select(Rating)).excluded is False

    def test_a_rejected_appeal_returns_to_the_state_it_came_from(self, bad_rating, order_action):
        order_id = bad_rating[2]["rectification"]["id"]
        order_action(order_id, "follow_up", FOLLOW_UP)
        order_action(order_id, "explain", {"explanation": "无法律依据调整"})
        order_action(order_id, "appeal", {"reason": "申请人所述与事实不符"})
        decision = {"upheld": False, "reason": "差评理由成立"}
        assert (
            order_action(order_id, "decide_appeal", decision, role="oversight").json["state"]
            == "explained"
        )

    def test_an_upheld_appeal_changes_the_good_rate_but_not_the_number_of_ratings(
        self, app, client, tokens, bad_rating, conclude, rate, order_action
    ):
        number, code = conclude()
        assert rate(number, code, 5).status_code == 201

        def total():
            response = client.get(
                "/api/v1/oversight/ratings?from=2026-03-01&to=2026-03-31",
                headers=bearer(tokens["oversight"]),
            )
            assert response.status_code == 200, response.json
            return response.json["total"]

        before = total()
        assert (before["ratings"], before["valid"], before["good_rate"]) == (2, 2, 0.5)
        order_id = bad_rating[2]["rectification"]["id"]
        order_action(order_id, "follow_up", FOLLOW_UP)
        order_action(order_id, "appeal", {"reason": "评价人并非申请人本人"})
        upheld = order_action(
            order_id,
            "decide_appeal",
            {"upheld": True, "reason": "经核实申诉成立"},
            role="oversight",
        )
        assert upheld.json["state"] == "appeal_upheld" and upheld.json["rating"]["excluded"]
        assert upheld.json["allowed_actions"] == []
        after = total()
        assert after["ratings"] == 2  # never deleted
        assert (after["valid"], after["excluded"]) == (1, 1)  # but left out of the statistics
        assert (after["good_rate"], after["bad_rate"]) == (1.0, 0.0)
        with app.app_context():
            assert db.session.query(Rating).count() == 2
            given = db.session.scalars(select(Event).filter_by(type="rating.given")).all()
            excluded = db.session.scalars(select(Event).filter_by(type="rating.excluded")).all()
        assert len(given) == 2 and len(excluded) == 1
        assert excluded[0].actor_role == "oversight"
        audit = client.get("/api/v1/oversight/audit/verify", headers=bearer(tokens["oversight"]))
        assert audit.json["ok"] is True


class TestOversightWarnings:
    def test_an_overdue_work_order_shows_until_it_is_closed(
        self, client, tokens, bad_rating, order_action, frozen_clock
    ):
        order_id = bad_rating[2]["rectification"]["id"]
        move_to(frozen_clock, date(2026, 3, 9))
        assert warnings(client, tokens)["rectifications_overdue"] == []
        move_to(frozen_clock, date(2026, 3, 11))
        body = warnings(client, tokens)
        [flag] = body["rectifications_overdue"]
        assert (flag["id"], flag["department"], flag["working_days_over"]) == (order_id, "scjg", 2)
        assert body["summary"]["rectifications_overdue"] == 1
        assert warnings(client, tokens, role="supervisor")["rectifications_overdue"] != []
        order_action(order_id, "follow_up", {**FOLLOW_UP, "contacted_at": "2026-03-11T09:00:00"})
        assert warnings(client, tokens)["rectifications_overdue"] != []  # followed up, still open
        order_action(order_id, "rectify", {"measures": "加强培训"})
        order_action(order_id, "close")
        assert warnings(client, tokens)["rectifications_overdue"] == []

    def test_a_supervisor_sees_only_their_departments_overdue_orders(
        self, client, tokens, bad_rating, frozen_clock, other_supervisor
    ):
        move_to(frozen_clock, date(2026, 3, 11))
        response = client.get("/api/v1/oversight/warnings", headers=bearer(other_supervisor))
        assert response.json["rectifications_overdue"] == []
