"""The citizen's pages over the Flask test client: 办件查询 with number + query code (never in a
URL, the cookie or a log), the shared failure budget, the session proof, 好差评 and 整改评价."""

import logging
import re

import pytest
from sqlalchemy import func, select

from tests.factories import bearer, csrf_of
from windowsvc.extensions import db
from windowsvc.models import Rating, Rectification
from windowsvc.rules import acceptance_number

pytestmark = pytest.mark.usefixtures("frozen_clock")

FOLLOW_UP = {"contacted_at": "2026-03-02T09:30:00+08:00", "summary": "已电话回访"}


def csrf(client, path="/query/"):
    return csrf_of(client.get(path).get_data(as_text=True))


def find(client, number, code, token=None):
    """POST the query form as a browser does."""
    data = {"number": number, "query_code": code, "csrf_token": token or csrf(client)}
    return client.post("/query/", data=data)


def wrong(code):
    return "000000" if code != "000000" else "111111"


def unknown_number(number):
    day = acceptance_number.parse(number).desk_date
    return acceptance_number.compose("330100", day, "window", 999)


def message(response):
    found = re.search(r'<p class="flash flash-error" role="alert"[^>]*>([^<]*)</p>', response.text)
    return found.group(1) if found else None


def ratings_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Rating))


class TestQuery:
    def test_the_right_code_leads_to_the_progress_page_with_masked_data(self, client, submit):
        created = submit().json
        number, code = created["number"], created["query_code"]
        response = find(client, number, code)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/query/cases/{number}"
        page = client.get(f"/query/cases/{number}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "110105********002X" in text and "138****5678" in text and "张*丰" in text
        assert "11010519491231002X" not in text and "13812345678" not in text
        assert "张三丰" not in text
        assert code not in text
        assert "食品经营许可证核发" in text and "办理中" in text

    def test_the_form_is_prefilled_from_the_receipts_link(self, client, submit):
        number = submit().json["number"]
        page = client.get(f"/query/?number={number}").get_data(as_text=True)
        assert f'value="{number}"' in page

    def test_a_wrong_code_and_an_unknown_number_read_the_same(self, client, submit):
        created = submit().json
        number, code = created["number"], created["query_code"]
        a = find(client, number, wrong(code))
        b = find(client, unknown_number(number), code)
        assert a.status_code == b.status_code == 404
        assert message(a) == message(b) == "未查到办件，请核对受理号和查询密码。"
        assert client.get(f"/query/cases/{number}").status_code == 302  # nothing proved

    def test_a_mistyped_check_character_is_named_next_to_the_number(self, client, submit):
        created = submit().json
        number = created["number"]
        typo = number[:-1] + ("0" if number[-1] != "0" else "1")
        response = find(client, typo, created["query_code"])
        assert response.status_code == 422
        assert "受理号校验位不正确" in response.text
        assert 'id="f-number-error"' in response.text and message(response) is None

    def test_a_malformed_code_is_refused_before_any_lookup(self, client, submit):
        number = submit().json["number"]
        response = find(client, number, "12ab")
        assert response.status_code == 422
        assert "查询密码为 6 位数字" in response.text

    def test_the_progress_page_needs_the_proof(self, client, submit):
        number = submit().json["number"]
        response = client.get(f"/query/cases/{number}")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/query/?number={number}"

    def test_a_post_without_the_csrf_token_proves_nothing(self, client, submit):
        created = submit().json
        response = client.post(
            "/query/", data={"number": created["number"], "query_code": created["query_code"]}
        )
        assert response.status_code == 400
        assert client.get(f"/query/cases/{created['number']}").status_code == 302

    def test_the_code_is_neither_in_the_cookie_nor_in_a_log(self, app, client, submit, caplog):
        created = submit().json
        number, code = created["number"], created["query_code"]
        caplog.set_level(logging.DEBUG)
        find(client, number, wrong(code))
        assert find(client, number, code).status_code == 302
        client.get(f"/query/cases/{number}")
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        held = app.session_interface.get_signing_serializer(app).loads(cookie.value)
        assert number in held["citizen_cases"]
        assert code not in repr(held) and code not in cookie.value
        assert all(code not in r.getMessage() for r in caplog.records)


class TestThrottling:
    @pytest.fixture
    def config(self, config):
        return {**config, "STATUS_FAILURES_PER_CLIENT": "3 per minute"}

    def test_failures_are_throttled_with_a_friendly_page(self, client, submit):
        created = submit().json
        number, code = created["number"], created["query_code"]
        token = csrf(client)
        assert [find(client, number, wrong(code), token).status_code for _ in range(3)] == [404] * 3
        blocked = find(client, number, code, token)
        assert blocked.status_code == 429
        assert "查询过于频繁，请 1 分钟后再试" in blocked.text
        assert int(blocked.headers["Retry-After"]) > 0
        assert client.get(f"/query/cases/{number}").status_code == 302

    def test_the_api_and_the_page_share_one_budget(self, client, submit):
        created = submit().json
        number, code = created["number"], created["query_code"]
        for _ in range(3):
            body = {"number": number, "query_code": wrong(code)}
            assert client.post("/api/v1/status", json=body).status_code == 404
        assert find(client, number, code).status_code == 429

    def test_malformed_numbers_count_against_the_client(self, client, submit):
        created = submit().json
        token = csrf(client)
        for _ in range(3):
            assert find(client, "1234", created["query_code"], token).status_code == 422
        assert find(client, created["number"], created["query_code"], token).status_code == 429


@pytest.fixture
def proven(client, conclude):
    """A concluded (delivered) case this client has proved the code for: number, code."""
    number, code = conclude()
    assert find(client, number, code).status_code == 302
    return number, code


def rate(client, number, **fields):
    data = {"csrf_token": csrf(client), **fields}
    return client.post(f"/query/cases/{number}/rating", data=data)


class TestRating:
    def test_a_concluded_case_offers_the_form_with_its_channels_tags(self, client, proven):
        number, _code = proven
        page = client.get(f"/query/cases/{number}").get_data(as_text=True)
        for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
            assert f">{label}</label>" in page
        assert "服务态度" in page and "系统易用性" not in page  # a window case
        assert "已送达" in page and "窗口领取" in page

    def test_a_rating_is_stored_and_shown(self, app, client, proven):
        number, code = proven
        response = rate(client, number, level="5", tags="efficiency", query_code=code)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/query/cases/{number}"
        with app.app_context():
            rating = db.session.scalars(select(Rating)).one()
            assert (rating.level, rating.tags) == (5, ["efficiency"])
        page = client.get(f"/query/cases/{number}").get_data(as_text=True)
        assert "您的评价" in page and "非常满意" in page and "办事效率" in page
        assert 'name="level"' not in page

    def test_a_bad_rating_without_a_reason_stores_nothing(self, app, client, proven):
        number, code = proven
        response = rate(client, number, level="2", comment="  ", query_code=code)
        assert response.status_code == 422
        assert 'id="f-comment-error"' in response.text
        assert "差评须选择标签或填写评价内容" in response.text
        assert 'value="2" checked' in response.text
        assert ratings_count(app) == 0

    def test_a_wrong_code_stores_nothing_and_counts_as_a_failure(self, app, client, proven):
        number, code = proven
        response = rate(client, number, level="5", query_code=wrong(code))
        assert response.status_code == 422
        assert "查询密码不正确" in response.text
        assert ratings_count(app) == 0
        assert code not in response.text

    def test_no_level_stores_nothing(self, app, client, proven):
        number, code = proven
        response = rate(client, number, query_code=code, comment="很好")
        assert response.status_code == 422 and "请选择评价等级" in response.text
        assert "很好</textarea>" in response.text
        assert ratings_count(app) == 0

    def test_rating_needs_the_session_proof(self, app, client, conclude):
        number, code = conclude()
        token = csrf(client)
        response = client.post(
            f"/query/cases/{number}/rating",
            data={"csrf_token": token, "level": "5", "query_code": code},
        )
        assert response.status_code == 302 and response.headers["Location"].startswith("/query/?")
        assert ratings_count(app) == 0

    def test_a_case_rated_already_says_so(self, app, client, proven):
        number, code = proven
        assert rate(client, number, level="4", query_code=code).status_code == 302
        again = rate(client, number, level="1", comment="再评一次", query_code=code)
        assert again.status_code == 302
        assert "本件已评价" in client.get(f"/query/cases/{number}").get_data(as_text=True)
        assert ratings_count(app) == 1

    def test_the_rectification_verdict_after_the_work_order_closed(
        self, app, client, tokens, proven
    ):
        number, code = proven
        comment = "窗口人员态度生硬"
        assert rate(client, number, level="1", comment=comment, query_code=code).status_code == 302
        page = client.get(f"/query/cases/{number}").get_data(as_text=True)
        assert "差评整改" in page and 'name="verdict"' not in page
        early = client.post(
            f"/query/cases/{number}/rectification",
            data={"csrf_token": csrf(client), "query_code": code, "verdict": "satisfied"},
        )
        assert early.status_code == 302
        assert "没有可以评价的整改结果" in client.get(early.headers["Location"]).text
        with app.app_context():
            order_id = db.session.scalars(select(Rectification.id)).one()
        for action, payload in (
            ("follow_up", FOLLOW_UP),
            ("rectify", {"measures": "对窗口人员开展服务规范培训"}),
            ("close", {}),
        ):
            response = client.post(
                f"/api/v1/rectifications/{order_id}/actions/{action}",
                json=payload,
                headers=bearer(tokens["supervisor"]),
            )
            assert response.status_code == 200, response.json
        page = client.get(f"/query/cases/{number}").get_data(as_text=True)
        assert "对窗口人员开展服务规范培训" in page and 'name="verdict"' in page
        token = csrf(client, f"/query/cases/{number}")
        url = f"/query/cases/{number}/rectification"
        refused = client.post(url, data={"csrf_token": token, "query_code": code})
        assert refused.status_code == 422 and "请选择对整改结果的评价" in refused.text
        given = client.post(
            url, data={"csrf_token": token, "query_code": code, "verdict": "basically_satisfied"}
        )
        assert given.status_code == 302
        with app.app_context():
            assert db.session.get(Rectification, order_id).verdict == "basically_satisfied"
        page = client.get(f"/query/cases/{number}").get_data(as_text=True)
        assert "您对整改的评价" in page and 'name="verdict"' not in page
