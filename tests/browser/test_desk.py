"""The supervisor's desk in a real browser: 延期 seen before it is granted, incidents retried one
by one and in a batch, a work order taken from open to closed, and another department's
supervisor seeing none of it."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.factories import bearer, intake_body

pytestmark = pytest.mark.browser


@pytest.fixture
def submit(api, tokens):
    """A complete food-licence application (a step of scjg); the API's answer."""

    def _submit():
        headers = {**bearer(tokens["window"]), "Idempotency-Key": uuid.uuid4().hex}
        response = api.post("/api/v1/applications", json=intake_body(), headers=headers)
        assert response.status_code == 201, response.json
        return response.json

    return _submit


@pytest.fixture
def incident(api, tokens, submit):
    """A new case whose scjg step failed with no retries left (an incident); the task id."""

    def _incident(message="证照库接口超时"):
        number = submit()["number"]
        body = {"worker_id": "w1", "max_tasks": 1, "lock_seconds": 60}
        task = api.post("/api/v1/tasks/fetch-and-lock", json=body, headers=bearer(tokens["scjg"]))
        task_id = task.json[0]["id"]
        failure = {
            "worker_id": "w1",
            "error_message": message,
            "error_details": "requests.exceptions.ReadTimeout: read timeout=10",
            "retries": 0,
        }
        response = api.post(
            f"/api/v1/tasks/{task_id}/failure", json=failure, headers=bearer(tokens["scjg"])
        )
        assert response.status_code == 204, response.json
        return task_id, number

    return _incident


@pytest.fixture
def bad_rating(api, tokens, submit, decide):
    """A concluded case rated 非常不满意 with a comment: a work order for scjg; its case number."""

    def _bad_rating():
        created = submit()
        decide(created["number"])
        version = api.get(
            f"/api/v1/applications/{created['number']}", headers=bearer(tokens["window"])
        ).json["version"]
        delivered = api.post(
            f"/api/v1/applications/{created['number']}/actions/deliver",
            json={"method": "window"},
            headers={**bearer(tokens["window"]), "If-Match": f'"{version}"'},
        )
        assert delivered.status_code == 200, delivered.json
        rating = {
            "number": created["number"],
            "query_code": created["query_code"],
            "level": 1,
            "tags": ["attitude"],
            "comment": "窗口人员态度生硬, 材料要求讲不清楚",
        }
        assert api.post("/api/v1/ratings", json=rating).status_code == 201
        return created["number"]

    return _bad_rating


def step_of(app, task_id):
    from windowsvc.extensions import db
    from windowsvc.models import Step

    with app.app_context():
        step = db.session.get(Step, int(task_id))
        return step.state, step.retries


def test_a_supervisor_approves_an_extension_seeing_the_new_due_date_first(
    app, page, site, sign_in, submit, axe, shot
):
    from windowsvc.models import Application

    created = submit()
    sign_in("chief")
    expect(page.get_by_role("heading", name="科室办件", level=1)).to_be_visible()
    axe(page)
    shot(page, "desk")
    page.get_by_label("办件状态").select_option(label="办理中")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name=created["number"]).click()
    expect(page.get_by_role("heading", name=f"办件 {created['number']}")).to_be_visible()
    axe(page)

    page.get_by_label("延长工作日").fill("10")
    page.get_by_label("延期理由").fill("需现场核查经营场所, 申请人申请延期补充整改")
    page.get_by_label("批准人").fill("市场监管局 王局长")
    page.get_by_role("button", name="计算新的办结日期").click()

    expect(page.get_by_role("heading", name="确认延长办理期限")).to_be_visible()
    new_legal = page.get_by_test_id("new-legal-due-date").inner_text()
    assert new_legal[:10] > created["legal_due_date"]
    with app.app_context():  # nothing has changed yet
        before = Application.query.filter_by(number=created["number"]).one()
        assert before.legal_due_date.isoformat() == created["legal_due_date"]
    axe(page)
    page.get_by_role("button", name="确认延期").click()

    expect(page.get_by_role("status")).to_contain_text("已批准延长办理期限 10 个工作日")
    expect(page.get_by_test_id("legal-due-date")).to_contain_text(new_legal[:10])
    expect(page.get_by_role("button", name="计算新的办结日期")).to_have_count(0)
    expect(page.get_by_text("本件已延长过办理期限，不能再次延期。")).to_be_visible()
    with app.app_context():
        after = Application.query.filter_by(number=created["number"]).one()
        assert after.legal_due_date.isoformat() == new_legal[:10]
        assert after.details["extension"]["approver"] == "市场监管局 王局长"


def test_a_supervisor_retries_one_incident_then_a_batch(
    app, page, site, sign_in, incident, axe, shot
):
    first, first_number = incident("证照库接口超时")
    second, _ = incident("电子签章服务返回 502")
    third, _ = incident("档案系统拒绝连接")
    sign_in("chief")
    page.get_by_role("link", name="异常处理").click()
    expect(page.get_by_role("heading", name="待处理异常（3 项）")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=first_number)).to_contain_text("证照库接口超时")
    axe(page)
    shot(page, "incidents")

    row = page.get_by_role("row").filter(has_text=first_number)
    row.get_by_label("重试次数").fill("2")
    row.get_by_role("button", name=f"重试任务 {first}").click()

    expect(page.get_by_role("status")).to_contain_text(f"已为任务 {first} 设置重试次数 2")
    expect(page.get_by_role("heading", name="待处理异常（2 项）")).to_be_visible()
    assert step_of(app, first) == ("pending", 2)
    history = page.locator(".timeline")
    expect(history).to_contain_text("设置重试次数")
    expect(history).to_contain_text("市场监管局-李科长")

    page.get_by_label(re.compile(f"选择任务 {second}")).check()
    page.get_by_label(re.compile(f"选择任务 {third}")).check()
    page.get_by_label("批量重试次数").fill("1")
    page.get_by_role("button", name="重试所选").click()

    expect(page.get_by_role("status")).to_contain_text("已为 2 项异常设置重试次数 1")
    expect(page.get_by_text("本科室当前没有异常。")).to_be_visible()
    assert step_of(app, second) == ("pending", 1)
    assert step_of(app, third) == ("pending", 1)
    axe(page)


def test_a_supervisor_takes_a_work_order_from_open_to_closed(
    app, page, site, sign_in, bad_rating, axe, shot
):
    from windowsvc.models import Rectification

    number = bad_rating()
    sign_in("chief")
    page.get_by_role("link", name="差评整改").click()
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("待回访")
    expect(row).to_contain_text("非常不满意")
    axe(page)
    row.get_by_role("link").click()

    expect(page.get_by_role("heading", name=re.compile(r"整改工单 \d+"))).to_be_visible()
    expect(page.locator("main")).to_contain_text("窗口人员态度生硬")
    expect(page.locator("main")).not_to_contain_text("张")  # the rater: 张三丰 / 张*丰
    expect(page.locator("main")).not_to_contain_text("1381")
    axe(page)
    shot(page, "work-order")

    page.get_by_label("回访时间").fill("2026-12-01T09:30")
    page.get_by_label("回访情况").fill("已电话回访申请人, 就材料说明不清致歉")
    page.get_by_role("button", name="记录回访").click()
    expect(page.get_by_role("status")).to_contain_text("已记录回访")
    page.get_by_role("textbox", name="整改措施").fill("修订一次性告知单, 组织窗口人员服务规范培训")
    page.get_by_role("button", name="记录整改措施").click()
    expect(page.get_by_role("status")).to_contain_text("已记录整改措施")
    expect(page.get_by_role("button", name="解释说明")).to_have_count(0)
    page.get_by_role("button", name="整改办结").click()

    expect(page.get_by_role("status")).to_contain_text("已整改办结")
    expect(page.locator("main")).to_contain_text("已办结")
    expect(page.get_by_role("button", name="整改办结")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("市场监管局-李科长")
    with app.app_context():
        assert Rectification.query.one().state == "closed"


def test_another_department_sees_none_of_it(
    app, page, site, sign_in, submit, bad_rating, incident, axe
):
    from windowsvc.models import Rectification

    case = submit()["number"]
    rated = bad_rating()
    incident()
    with app.app_context():
        order_id = Rectification.query.one().id
    sign_in("chief_zjj")
    expect(page.get_by_text("没有符合条件的办件。")).to_be_visible()
    page.get_by_role("link", name="差评整改").click()
    expect(page.get_by_text("没有整改工单。")).to_be_visible()
    page.get_by_role("link", name="异常处理").click()
    expect(page.get_by_text("本科室当前没有异常。")).to_be_visible()

    for path in (f"/desk/cases/{case}", f"/desk/cases/{rated}", f"/desk/orders/{order_id}"):
        response = page.goto(f"{site}{path}")
        assert response.status == 404
        expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    axe(page)
