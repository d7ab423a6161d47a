"""我的工作台 in a real browser: the queues, handing out a result, a correction notice, a stale
form, other roles refused, the access record of the case page, and accessibility."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.factories import FOOD_REQUIRED, bearer, intake_body

pytestmark = pytest.mark.browser
STALE = "该办件已被他人更新，请刷新后重试"


@pytest.fixture
def api(app, tokens):
    """The window's API through a test client: submit a case, act on it."""
    client = app.test_client()

    class Api:
        def submit(self, body):
            headers = {**bearer(tokens["window"]), "Idempotency-Key": uuid.uuid4().hex}
            response = client.post("/api/v1/applications", json=body, headers=headers)
            assert response.status_code == 201, response.json
            return response.json["number"]

        def act(self, number, action, payload=None):
            view = client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"]))
            headers = {**bearer(tokens["window"]), "If-Match": f'"{view.json["version"]}"'}
            response = client.post(
                f"/api/v1/applications/{number}/actions/{action}",
                json=payload or {},
                headers=headers,
            )
            assert response.status_code == 200, response.json
            return response.json

    return Api()


@pytest.fixture
def cases(api, decide):
    """One case per queue: online (pre-review), incomplete (correction), decided (to hand out)."""
    online = api.submit(intake_body(channel="online"))
    incomplete = api.submit(intake_body(materials=FOOD_REQUIRED[:3]))
    done = api.submit(intake_body())
    decide(done)
    return {"online": online, "incomplete": incomplete, "done": done}


def case_of(app, number):
    from windowsvc.extensions import db
    from windowsvc.models import Application

    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.number == number))
        db.session.expunge(application)
        return application


def tile(page, label):
    return page.get_by_role("navigation", name="待办队列").get_by_role("link", name=label)


def test_the_queues_show_their_counts_and_cases(page, site, sign_in, cases, axe, shot):
    sign_in("clerk")
    expect(page.get_by_role("heading", name="我的工作台", level=1)).to_be_visible()
    expect(tile(page, "网上申请待预审")).to_contain_text("1")
    expect(tile(page, "待补正")).to_contain_text("1")
    expect(tile(page, "待送达/待领取")).to_contain_text("1")
    expect(tile(page, "临近或超期")).to_contain_text("0")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(cases["online"])
    expect(rows.first).to_contain_text("张*丰")
    expect(rows.first).to_contain_text("已提交")
    axe(page)
    tile(page, "待送达/待领取").click()
    expect(tile(page, "待送达/待领取")).to_have_attribute("aria-current", "true")
    expect(page.locator("table tbody tr").first).to_contain_text(cases["done"])
    expect(page.locator("table tbody tr").first).to_contain_text("待领取")
    shot(page, "workbench")


def test_a_clerk_hands_out_a_result(page, site, sign_in, cases, app, axe, shot):
    sign_in("clerk")
    page.get_by_label("统一受理号").fill(cases["done"])
    page.get_by_role("button", name="查找").click()
    expect(page).to_have_url(re.compile(rf"/workbench/cases/{cases['done']}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(cases["done"])
    expect(page.locator(".wb-state")).to_contain_text("待领取")
    expect(page.get_by_role("heading", name="第 1 阶段")).to_be_visible()
    expect(page.get_by_role("heading", name="第 2 阶段")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("准予许可")
    expect(page.locator(".timeline")).to_contain_text("结果待领取")
    axe(page)
    shot(page, "case")
    page.get_by_text("送达结果", exact=True).click()  # opens the form
    page.get_by_label("快递寄送", exact=True).check()
    page.get_by_role("button", name="确认送达结果").click()
    expect(page.get_by_role("alert")).to_contain_text("未能送达结果")
    expect(page.locator(".has-error")).to_contain_text("快递送达须填写运单号")
    assert case_of(app, cases["done"]).state == "result_ready"
    page.get_by_label("运单号（快递寄送时必填）").fill("SF1234567890")
    page.get_by_role("button", name="确认送达结果").click()
    expect(page.get_by_role("status")).to_contain_text("已送达办理结果")
    expect(page.locator(".wb-state")).to_contain_text("已送达")
    delivered = case_of(app, cases["done"])
    assert delivered.state == "delivered"
    assert delivered.details["delivery_record"] == {
        **delivered.details["delivery_record"],
        "method": "express",
        "tracking": "SF1234567890",
    }
    expect(page.get_by_role("button", name="归档")).to_be_visible()  # the next action offered


def test_a_correction_notice_lists_the_materials_picked(page, site, sign_in, cases, app, axe):
    sign_in("clerk")
    page.get_by_role("link", name=cases["online"]).click()
    page.get_by_text("一次性告知补正", exact=True).click()
    for name in ("营业执照", "经营场所平面图", "食品安全管理制度"):
        page.get_by_label(name, exact=True).check()
    page.get_by_label("补正说明").fill("平面图须标明面积")
    axe(page)
    page.get_by_role("button", name="确认一次性告知补正").click()
    expect(page.get_by_role("status")).to_contain_text("已发出一次性补正告知")
    expect(page.locator(".wb-state")).to_contain_text("待补正")
    expect(page.locator(".timeline")).to_contain_text("营业执照、经营场所平面图、食品安全管理制度")
    after = case_of(app, cases["online"])
    assert after.state == "correction"
    assert [m["code"] for m in after.missing] == [
        "business_licence",
        "premises_floor_plan",
        "food_safety_rules",
    ]


def test_a_form_of_an_older_version_is_refused(page, site, sign_in, cases, api, app):
    sign_in("clerk")
    page.goto(f"{site}/workbench/cases/{cases['incomplete']}")
    page.get_by_text("撤回申请", exact=True).click()
    page.get_by_label("撤回理由（申请人书面申请）").fill("申请人书面申请撤回")
    api.act(cases["incomplete"], "supplement", {"materials": ["premises_floor_plan"]})
    page.get_by_role("button", name="确认撤回申请").click()
    expect(page.get_by_role("status")).to_contain_text(STALE)
    expect(page).to_have_url(re.compile(rf"/workbench/cases/{cases['incomplete']}$"))
    after = case_of(app, cases["incomplete"])
    assert after.state == "correction"
    assert "withdrawal" not in after.details


@pytest.mark.parametrize("username", ["chief", "watch"])
def test_other_roles_are_refused_the_workbench(page, site, sign_in, username):
    sign_in(username)
    response = page.goto(f"{site}/workbench/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
    expect(page.get_by_role("link", name="我的工作台")).to_have_count(0)


def test_reading_a_case_is_recorded(page, site, sign_in, cases, app):
    from windowsvc.extensions import db
    from windowsvc.models import AccessRecord, Application

    def records():
        with app.app_context():
            return db.session.execute(
                select(AccessRecord.principal_name, AccessRecord.purpose)
                .join(Application, Application.id == AccessRecord.application_id)
                .where(Application.number == cases["incomplete"])
            ).all()

    before = records()
    sign_in("clerk")
    page.goto(f"{site}/workbench/cases/{cases['incomplete']}")
    expect(page.get_by_text("11010519491231002X")).to_be_visible()
    assert records() == [*before, ("综合窗口01-王芳", "detail")]
    with app.app_context():
        assert db.session.scalar(select(func.count(AccessRecord.id))) == len(before) + 1
