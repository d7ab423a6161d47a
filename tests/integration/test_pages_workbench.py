"""我的工作台 over the Flask test client: queues, search, the case page and its action forms
(CSRF, roles, bad input, stale versions, actions of the wrong state), on both databases."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import FOOD_REQUIRED, csrf_of, intake_body, signed_in_client
from windowsvc.rules import acceptance_number

PASSWORD = "correct-horse-42"
STAFF = {
    "clerk": ("window", None, "综合窗口01-王芳"),
    "chief": ("supervisor", "scjg", "市场监管局-李科长"),
    "watch": ("oversight", None, "电子监察-赵敏"),
}
STALE = "该办件已被他人更新，请刷新后重试"


@pytest.fixture
def accounts(app):
    from windowsvc.services.admin import staff

    with app.app_context():
        for username, (role, department, name) in STAFF.items():
            staff.create(username, PASSWORD, role, name, department)


@pytest.fixture
def pages(app, accounts):
    """A second test client for the pages, signed in as the given account."""

    def _as(username="clerk"):
        return signed_in_client(app, username, PASSWORD)

    return _as


def case_row(app, number):
    from windowsvc.extensions import db
    from windowsvc.models import Application

    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.number == number))
        db.session.expunge(application)
        return application


def access_count(app, number):
    from windowsvc.extensions import db
    from windowsvc.models import AccessRecord, Application

    with app.app_context():
        return db.session.scalar(
            select(func.count(AccessRecord.id))
            .join(Application, Application.id == AccessRecord.application_id)
            .where(Application.number == number, AccessRecord.purpose == "detail")
        )


def tile_count(html: str, label: str) -> int:
    found = re.search(
        r'<span class="count">(\d+)</span>\s*<span class="wb-tile-label">' + re.escape(label), html
    )
    assert found, f"no tile {label}"
    return int(found.group(1))


def form_post(browser, number, action, data=None, version=None):
    """POST an action form the way the case page does: CSRF token and the version shown."""
    html = browser.get(f"/workbench/cases/{number}").get_data(as_text=True)
    shown = re.search(r'name="version" value="(\d+)"', html)
    fields = {"csrf_token": csrf_of(html), "version": version or (shown and shown.group(1))}
    return browser.post(
        f"/workbench/cases/{number}/actions/{action}", data={**fields, **(data or {})}
    )


@pytest.fixture
def cases(submit, decide, frozen_clock):
    """One case per queue: online (pre-review), incomplete (correction), decided (to hand out)."""
    online = submit(intake_body(channel="online")).json["number"]
    incomplete = submit(intake_body(materials=FOOD_REQUIRED[:3])).json["number"]
    done = submit(intake_body()).json["number"]
    decide(done)
    return {"online": online, "incomplete": incomplete, "done": done}


def test_the_queues_count_their_cases_and_list_them_masked(app, pages, cases):
    clerk = pages()
    html = clerk.get("/workbench/").get_data(as_text=True)
    assert tile_count(html, "网上申请待预审") == 1
    assert tile_count(html, "待补正") == 1
    assert tile_count(html, "待送达/待领取") == 1
    assert tile_count(html, "临近或超期") == 0
    assert cases["online"] in html  # the first queue is shown
    assert cases["incomplete"] not in html
    assert "张*丰" in html and "张三丰" not in html  # masked as the API's listings are
    listed = clerk.get("/workbench/?queue=deliver").get_data(as_text=True)
    assert cases["done"] in listed and cases["online"] not in listed
    assert "待领取" in listed


def test_a_case_near_its_limit_is_in_the_warning_queue(app, pages, submit, frozen_clock):
    from tests.factories import move_to
    from windowsvc.services.oversight import warnings

    number = submit(intake_body()).json["number"]
    move_to(frozen_clock, date(2026, 3, 6))  # promised limit 5 working days: few left
    with app.app_context():
        warnings.update_warning_levels()
    html = pages().get("/workbench/?queue=warning").get_data(as_text=True)
    assert tile_count(html, "临近或超期") == 1
    assert number in html and "预警" in html


def test_search_by_number_opens_the_case_or_says_what_is_wrong(app, pages, cases):
    clerk = pages()
    number = cases["online"]
    spaced = f"{number[:6]} {number[6:14]}-{number[14:]}"
    found = clerk.get("/workbench/", query_string={"number": spaced})
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/workbench/cases/{number}")
    wrong_check = number[:-1] + ("0" if number[-1] != "0" else "1")
    bad = clerk.get("/workbench/", query_string={"number": wrong_check})
    assert bad.status_code == 422
    assert "受理号有误" in bad.get_data(as_text=True)
    unknown = acceptance_number.compose(number[:6], date(2026, 3, 2), "window", 999_999)
    missing = clerk.get("/workbench/", query_string={"number": unknown})
    assert missing.status_code == 404
    assert "未找到受理号为" in missing.get_data(as_text=True)


def test_the_case_page_records_the_access_and_shows_personal_data(app, pages, cases):
    number = cases["incomplete"]
    before = access_count(app, number)
    page = pages().get(f"/workbench/cases/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert access_count(app, number) == before + 1
    assert "张三丰" in html and "11010519491231002X" in html
    assert "待补正" in html
    assert "补正告知期限" in html  # acceptance is pending: the notice must arrive in time
    assert "一次性补正告知书" in html  # the notice sent, with its delivery status
    assert "登记补交材料" in html and "不予受理" in html
    assert "送达结果" not in html  # not offered in this state


def test_other_roles_get_a_403_page(pages, cases):
    for username in ("chief", "watch"):
        browser = pages(username)
        for path in ("/workbench/", f"/workbench/cases/{cases['online']}"):
            refused = browser.get(path)
            assert refused.status_code == 403
            assert "无权访问" in refused.get_data(as_text=True)


def test_a_post_without_csrf_token_changes_nothing(app, pages, cases):
    number = cases["online"]
    version = case_row(app, number).version
    refused = pages().post(f"/workbench/cases/{number}/actions/accept", data={"version": version})
    assert refused.status_code == 400
    after = case_row(app, number)
    assert (after.state, after.version) == ("submitted", version)


def test_accepting_an_online_application_redirects_with_a_message(app, pages, cases):
    clerk = pages()
    number = cases["online"]
    done = form_post(clerk, number, "accept")
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/workbench/cases/{number}")
    assert case_row(app, number).state == "in_progress"  # accepted, handed to the back office
    shown = clerk.get(done.headers["Location"]).get_data(as_text=True)
    assert "已受理。办件" in shown


def test_a_correction_lists_the_materials_picked(app, pages, cases):
    number = cases["online"]
    picked = ["premises_floor_plan", "food_safety_rules"]
    done = form_post(pages(), number, "request_correction", {"missing": picked, "note": "请补交"})
    assert done.status_code == 302
    after = case_row(app, number)
    assert after.state == "correction"
    assert [m["code"] for m in after.missing] == picked


def test_a_refusal_without_a_reason_is_shown_at_the_form_and_changes_nothing(app, pages, cases):
    number = cases["online"]
    version = case_row(app, number).version
    refused = form_post(pages(), number, "refuse", {"reason": "  ", "rights_notice": "可复议"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "请填写不予受理的理由" in html
    assert 'aria-invalid="true"' in html and "可复议" in html  # what was typed is kept
    after = case_row(app, number)
    assert (after.state, after.version) == ("submitted", version)


def test_express_delivery_without_tracking_number_says_so(app, pages, cases):
    number = cases["done"]
    refused = form_post(pages(), number, "deliver", {"method": "express"})
    assert refused.status_code == 422
    assert "快递送达须填写运单号" in refused.get_data(as_text=True)
    assert case_row(app, number).state == "result_ready"


def test_delivering_hands_the_result_out(app, pages, cases):
    number = cases["done"]
    done = form_post(pages(), number, "deliver", {"method": "express", "tracking": "SF123"})
    assert done.status_code == 302
    after = case_row(app, number)
    assert after.state == "delivered"
    assert after.details["delivery_record"]["tracking"] == "SF123"


def test_a_stale_version_is_refused_with_the_message(app, pages, cases, act):
    clerk = pages()
    number = cases["online"]
    html = clerk.get(f"/workbench/cases/{number}").get_data(as_text=True)
    shown = re.search(r'name="version" value="(\d+)"', html).group(1)
    assert act(number, "accept").status_code == 200  # someone else acted meanwhile
    stale = clerk.post(
        f"/workbench/cases/{number}/actions/withdraw",
        data={"csrf_token": csrf_of(html), "version": shown, "reason": "申请人书面撤回"},
    )
    assert stale.status_code == 302
    assert STALE in clerk.get(stale.headers["Location"]).get_data(as_text=True)
    assert case_row(app, number).state == "in_progress"  # accepted, handed to the back office


def test_an_action_of_another_state_gets_a_friendly_message(app, pages, cases):
    clerk = pages()
    number = cases["online"]
    refused = form_post(clerk, number, "deliver", {"method": "window"})
    assert refused.status_code == 302
    shown = clerk.get(refused.headers["Location"]).get_data(as_text=True)
    assert "本件当前状态为“已提交”, 不能送达结果" in shown
    assert case_row(app, number).state == "submitted"


def test_unknown_actions_and_cases_are_404_pages(pages, cases):
    clerk = pages()
    html = clerk.get(f"/workbench/cases/{cases['online']}").get_data(as_text=True)
    unknown = clerk.post(
        f"/workbench/cases/{cases['online']}/actions/extend",
        data={"csrf_token": csrf_of(html), "version": "1"},
    )
    assert unknown.status_code == 404
    assert "页面不存在" in unknown.get_data(as_text=True)
    bad = clerk.get("/workbench/cases/12345")
    assert bad.status_code == 400
    assert "<html" in bad.get_data(as_text=True)


def test_accepting_with_materials_missing_says_what_is_missing(app, pages, cases):
    number = cases["incomplete"]
    refused = form_post(pages(), number, "accept")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'role="alert">未能受理: 材料不齐全, 不能受理: 缺少 经营场所平面图' in html
    assert case_row(app, number).state == "correction"


def test_the_notices_to_reprint_follow_the_case_history(app, pages, cases):
    from windowsvc.services.cases import records
    from windowsvc.web import workbench_view as view

    number = cases["incomplete"]
    html = form_post(
        pages(), number, "refuse", {"reason": "不属于本机关职权范围", "rights_notice": "可复议"}
    )
    assert html.status_code == 302
    with app.app_context():
        from windowsvc.services.cases import applications
        from windowsvc.services.cases.records import Actor

        application = applications.find(number, Actor(None, "t", "window"))
        kinds = [k for k, _title in view.reprints(application, records.events_of(application))]
    assert kinds == ["receipt", "correction", "refusal"]


@pytest.mark.parametrize("endpoint", ["web_desk.index", "web_oversight.index"])
def test_a_clerk_is_refused_the_other_roles_pages(app, pages, endpoint):
    if endpoint not in app.view_functions:
        pytest.skip(f"{endpoint} is not on this branch yet")
    with app.test_request_context():
        from flask import url_for

        path = url_for(endpoint)
    refused = pages().get(path)
    assert refused.status_code == 403
    assert "无权访问" in refused.get_data(as_text=True)
