"""好差评: POST /api/v1/ratings, the status view of a rating, invitations and default ratings."""

import threading
from datetime import date

import pytest
import requests
from sqlalchemy import select

from tests.factories import PARALLEL, PARALLEL_REQUIRED, bearer, intake_body, move_to
from windowsvc.extensions import db
from windowsvc.models import Application, Event, OutboxMessage, Principal, Rating
from windowsvc.platform.errors import Conflict
from windowsvc.services.admin import sweep
from windowsvc.services.cases.records import CITIZEN
from windowsvc.services.ratings import ratings

pytestmark = pytest.mark.usefixtures("frozen_clock")


def _status(client, number, query_code):
    return client.post("/api/v1/status", json={"number": number, "query_code": query_code})


def _wrong(code):
    return "000000" if code != "000000" else "111111"


class TestGivingARating:
    def test_a_concluded_case_is_rated_and_the_rating_recorded(self, app, conclude, rate):
        number, code = conclude()
        response = rate(number, code, 5, ["efficiency", "attitude"], "窗口服务很好")
        assert response.status_code == 201, response.json
        body = response.json
        assert (body["number"], body["level"], body["level_label"]) == (number, 5, "非常满意")
        assert body["tag_labels"] == ["办事效率", "服务态度"]
        assert body["default"] is False and body["rectification"] is None
        with app.app_context():
            application = db.session.scalar(select(Application).filter_by(number=number))
            rating = db.session.scalar(select(Rating))
            window = db.session.get(Principal, rating.window_principal_id)
            event = db.session.scalar(select(Event).filter_by(type="rating.given"))
        assert rating.application_id == application.id and window.name == "测试window"
        assert rating.departments == ["scjg"]
        assert event.actor_role == "citizen" and event.actor_id is None
        assert event.details["level"] == 5

    def test_every_department_that_handled_a_step_is_attached(self, app, conclude, rate):
        number, code = conclude(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
        assert rate(number, code, 4).status_code == 201
        with app.app_context():
            assert db.session.scalar(select(Rating)).departments == ["zjj", "zrzy", "xfjy"]

    def test_a_case_still_in_progress_cannot_be_rated(self, submit, rate):
        created = submit().json
        response = rate(created["number"], created["query_code"], 5)
        assert response.status_code == 409 and "办结" in response.json["detail"]

    def test_no_rating_is_ever_stored_on_a_case_not_concluded(self, app, submit, decide):
        """ratings.add, the one place a rating is made, refuses it (the status lookup relies on
        it: it reads no rating for a case that is not concluded)."""
        number = submit().json["number"]
        decide(number)  # approved, result ready: not concluded
        with app.app_context():
            application = db.session.scalar(select(Application).filter_by(number=number))
            with pytest.raises(Conflict):
                ratings.add(application, 5, [], "", by=CITIZEN)
            db.session.rollback()
            assert db.session.scalar(select(Rating)) is None

    def test_an_approved_result_not_yet_delivered_cannot_be_rated(self, submit, decide, rate):
        created = submit().json
        decide(created["number"])
        assert rate(created["number"], created["query_code"], 5).status_code == 409

    def test_a_denied_case_can_be_rated_before_its_result_is_collected(self, conclude, rate):
        number, code = conclude(outcome="deny")
        assert rate(number, code, 2, ["efficiency"]).status_code == 201

    def test_a_refused_or_withdrawn_case_can_be_rated(self, submit, act, rate):
        refused = submit(intake_body(channel="online")).json
        refusal = {"reason": "不属于本机关职权范围", "rights_notice": "可申请行政复议"}
        assert act(refused["number"], "refuse", refusal).status_code == 200
        assert rate(refused["number"], refused["query_code"], 3).status_code == 201
        withdrawn = submit().json
        assert act(withdrawn["number"], "withdraw", {"reason": "不再需要"}).status_code == 200
        assert rate(withdrawn["number"], withdrawn["query_code"], 4).status_code == 201

    def test_a_wrong_query_code_is_the_same_404_as_the_status_lookup(self, client, conclude, rate):
        number, code = conclude()
        response = rate(number, _wrong(code), 5)
        assert response.status_code == 404
        assert response.json["detail"] == _status(client, number, _wrong(code)).json["detail"]

    def test_a_bad_rating_without_a_tag_or_a_comment_is_refused(self, conclude, rate):
        number, code = conclude()
        for level in (1, 2):
            response = rate(number, code, level)
            assert response.status_code == 422
            assert "comment" in response.json["errors"]
        assert rate(number, code, 2, comment="等了很久").status_code == 201

    def test_a_tag_of_another_channel_is_refused(self, conclude, rate):
        number, code = conclude()
        response = rate(number, code, 1, ["usability"])  # 系统易用性: online channels only
        assert response.status_code == 422 and "tags" in response.json["errors"]
        assert rate(number, code, 1, ["nonsense"]).status_code == 422

    def test_an_online_case_offers_the_online_tags(self, conclude, rate):
        number, code = conclude(intake_body(channel="online"))
        assert rate(number, code, 2, ["attitude"]).status_code == 422
        assert rate(number, code, 2, ["usability", "guide_accuracy"]).status_code == 201

    def test_a_level_outside_one_to_five_is_refused(self, conclude, rate):
        number, code = conclude()
        assert rate(number, code, 0).status_code == 422
        assert rate(number, code, 6).status_code == 422

    def test_unknown_fields_are_refused(self, client, conclude):
        number, code = conclude()
        body = {"number": number, "query_code": code, "level": 5, "rater": "张三丰"}
        assert client.post("/api/v1/ratings", json=body).status_code == 422


class TestOneRatingPerCase:
    def test_a_second_rating_is_409(self, conclude, rate):
        number, code = conclude()
        assert rate(number, code, 5).status_code == 201
        second = rate(number, code, 1, comment="改主意了")
        assert second.status_code == 409 and "一次" in second.json["detail"]

    def test_two_concurrent_ratings_give_exactly_one_201(self, app, served, conclude):
        number, code = conclude()
        barrier, statuses = threading.Barrier(4), []

        def rate_once(level):
            barrier.wait()
            response = requests.post(
                f"{served}/api/v1/ratings",
                json={"number": number, "query_code": code, "level": level, "comment": "并发"},
                timeout=30,
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=rate_once, args=(level,)) for level in (5, 4, 2, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 409, 409, 409]
        with app.app_context():
            assert db.session.query(Rating).count() == 1
            given = db.session.scalars(select(Event).filter_by(type="rating.given")).all()
        assert len(given) == 1


class TestThrottling:
    def test_failed_ratings_and_failed_lookups_share_one_budget(self, client, conclude, rate):
        number, code = conclude()
        for _ in range(3):
            assert rate(number, _wrong(code), 5).status_code == 404
        for _ in range(2):
            assert _status(client, number, _wrong(code)).status_code == 404
        blocked = rate(number, code, 5)
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
        assert _status(client, number, code).status_code == 429

    def test_refused_ratings_of_the_right_case_are_not_counted(self, conclude, rate):
        number, code = conclude()
        assert {rate(number, code, 1).status_code for _ in range(8)} == {422}
        assert rate(number, code, 5).status_code == 201


class TestStatusView:
    def test_the_status_offers_a_rating_once_concluded_and_then_shows_it(
        self, client, submit, decide, act, rate
    ):
        created = submit().json
        number, code = created["number"], created["query_code"]
        assert _status(client, number, code).json["can_rate"] is False
        decide(number)
        assert _status(client, number, code).json["can_rate"] is False  # result not collected
        act(number, "deliver", {"method": "window"})
        before = _status(client, number, code).json
        assert before["can_rate"] is True and before["rating"] is None
        rate(number, code, 2, ["efficiency"], "排队太久")
        after = _status(client, number, code).json
        assert after["can_rate"] is False
        rating = after["rating"]
        assert (rating["level"], rating["tags"], rating["comment"]) == (
            2,
            ["efficiency"],
            "排队太久",
        )
        assert rating["at"].endswith("+08:00")
        assert rating["rectification"]["state"] == "open"
        assert rating["rectification"]["state_label"] == "待回访"
        assert rating["rectification"]["can_rate"] is False
        assert "已评价" in [t["label"] for t in after["timeline"]]

    def test_a_denied_case_is_rateable_in_the_status_view(self, client, conclude, rate):
        number, code = conclude(outcome="deny")
        body = _status(client, number, code).json
        assert body["state"] == "result_ready" and body["can_rate"] is True
        # concluded by its decision, not its state: its rating is shown before the collection
        assert rate(number, code, 4).status_code == 201
        body = _status(client, number, code).json
        assert body["state"] == "result_ready" and body["can_rate"] is False
        assert body["rating"]["level"] == 4


class TestInvitations:
    def _titles(self, app, number):
        with app.app_context():
            return [
                (m.payload["title"], m.payload["event"])
                for m in OutboxMessage.query.order_by(OutboxMessage.id)
                if m.payload["number"] == number
            ]

    def test_the_applicant_is_invited_to_rate_when_the_result_is_delivered(self, app, conclude):
        number, _code = conclude()
        invitations = [t for t in self._titles(app, number) if t[0] == "评价邀请"]
        assert invitations == [("评价邀请", "application.delivered")]

    def test_a_denial_invites_once_at_the_decision(self, app, conclude, act):
        number, _code = conclude(outcome="deny")
        assert act(number, "deliver", {"method": "window"}).status_code == 200
        invitations = [t for t in self._titles(app, number) if t[0] == "评价邀请"]
        assert invitations == [("评价邀请", "application.denied")]

    def test_an_open_case_gets_no_invitation(self, app, submit):
        number = submit().json["number"]
        assert "评价邀请" not in [t[0] for t in self._titles(app, number)]


class TestDefaultRatings:
    def test_no_default_rating_unless_configured(self, app, conclude, frozen_clock):
        conclude()
        move_to(frozen_clock, date(2026, 4, 1))
        with app.app_context():
            assert sweep.run().default_ratings == []
            assert db.session.query(Rating).count() == 0

    def test_an_unrated_case_counts_as_satisfied_after_the_configured_working_days(
        self, app, client, conclude, rate, frozen_clock
    ):
        app.config["DEFAULT_RATING_DAYS"] = 5
        quiet, quiet_code = conclude()  # delivered Monday 2 March: 5 working days end 9 March
        rated, rated_code = conclude()
        rate(rated, rated_code, 3)
        move_to(frozen_clock, date(2026, 3, 9))
        with app.app_context():
            assert sweep.run().default_ratings == []
        move_to(frozen_clock, date(2026, 3, 10))
        with app.app_context():
            assert sweep.run().default_ratings == [quiet]
            assert sweep.run().default_ratings == []  # idempotent
            event = db.session.scalar(
                select(Event).filter_by(type="rating.given").order_by(Event.id.desc())
            )
        assert event.actor_role == "system" and event.details["default"] is True
        rating = _status(client, quiet, quiet_code).json["rating"]
        assert (rating["level"], rating["level_label"], rating["default"]) == (4, "满意", True)
        assert _status(client, rated, rated_code).json["rating"]["default"] is False

    def test_the_default_counts_from_the_delivery_not_the_decision(
        self, app, submit, decide, act, frozen_clock
    ):
        app.config["DEFAULT_RATING_DAYS"] = 5
        number = submit().json["number"]
        decide(number)  # decided Monday 2 March
        move_to(frozen_clock, date(2026, 3, 4))
        act(number, "deliver", {"method": "window"})  # collected Wednesday 4 March
        move_to(frozen_clock, date(2026, 3, 11))
        with app.app_context():
            assert sweep.run().default_ratings == []
        move_to(frozen_clock, date(2026, 3, 12))
        with app.app_context():
            assert sweep.run().default_ratings == [number]

    def test_the_cli_sweep_reports_default_ratings(self, app, tokens):
        result = app.test_cli_runner().invoke(args=["sweep"])
        assert "default ratings 0" in result.output


def test_only_masked_data_reaches_a_department(client, tokens, conclude, rate):
    number, code = conclude()
    rate(number, code, 1, ["attitude"], "态度差")
    listing = client.get("/api/v1/rectifications", headers=bearer(tokens["supervisor"]))
    text = listing.get_data(as_text=True)
    assert "张三丰" not in text and "13812345678" not in text and "11010519491231002X" not in text
    assert listing.json["items"][0]["rater"]["name"] == "张*丰"
