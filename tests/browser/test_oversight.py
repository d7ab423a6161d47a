"""The oversight centre in a real browser: the warnings board with a red card, the indicators
against the API, an appeal upheld on the page, a tampered record found, and roles."""

import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import (
    FOOD,
    INSTANT,
    INSTANT_REQUIRED,
    bearer,
    forge_event,
    intake_body,
    move_to,
)
from windowsvc.web.oversight_views import INDICATORS, formatted, percent

pytestmark = pytest.mark.browser


# ---- setting cases up through the API and the services (fixtures of this module) ------------


@pytest.fixture
def submit(api, tokens):
    def _submit(body=None):
        headers = {**bearer(tokens["window"]), "Idempotency-Key": uuid.uuid4().hex}
        response = api.post("/api/v1/applications", json=body or intake_body(), headers=headers)
        assert response.status_code == 201, response.json
        return response.json

    return _submit


@pytest.fixture
def conclude(api, tokens, submit, decide):
    """A case submitted, decided by its departments through the queue and delivered."""

    def _act(number, action, payload):
        version = api.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"]))
        headers = {**bearer(tokens["window"]), "If-Match": f'"{version.json["version"]}"'}
        response = api.post(
            f"/api/v1/applications/{number}/actions/{action}", json=payload, headers=headers
        )
        assert response.status_code == 200, response.json

    def _conclude(body=None):
        created = submit(body)
        number = created["number"]
        if created["state"] == "submitted":  # online: the window's pre-review accepts it
            _act(number, "accept", {})
        decide(number)
        _act(number, "deliver", {"method": "window"})
        return number, created["query_code"]

    return _conclude


@pytest.fixture
def rate(api):
    def _rate(number, query_code, level, comment=""):
        body = {"number": number, "query_code": query_code, "level": level, "tags": []}
        if comment:
            body["comment"] = comment
        response = api.post("/api/v1/ratings", json=body)
        assert response.status_code == 201, response.json

    return _rate


# ---- the warnings board ------------------------------------------------------------------------


def test_oversight_sees_a_red_card_for_an_overdue_case(
    app, page, site, sign_in, submit, frozen_clock, axe, shot
):
    from windowsvc.rules.deadlines import working_days_between
    from windowsvc.services.calendar.working import working_calendar
    from windowsvc.services.oversight import warnings

    late = submit()
    due = date.fromisoformat(late["due_date"])
    day = due
    with app.app_context():
        red_days = warnings.thresholds().red_card_days
        while working_days_between(due, day, working_calendar()) < red_days:
            day += timedelta(days=1)
        move_to(frozen_clock, day)
        warnings.update_warning_levels()

    sign_in("watch")
    expect(page.get_by_role("heading", name="预警看板", level=1)).to_be_visible()
    row = page.locator("table.ov-cases tr", has_text=late["number"])
    expect(row).to_contain_text("红牌")
    expect(row).to_contain_text(f"超期 {red_days} 个工作日")
    expect(row).to_contain_text("食品经营许可证")
    expect(page.locator("td[data-level='red_card']")).to_have_text("1 件")
    # the filter keeps one department
    page.get_by_label("部门").select_option(label="杭州市住房和城乡建设局")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("tr", has_text=late["number"])).to_have_count(0)
    page.get_by_label("部门").select_option(label="全部部门")
    page.get_by_role("button", name="筛选").click()
    expect(row).to_contain_text("红牌")
    expect(page.locator("table.ov-steps tr", has_text=late["number"])).to_contain_text("审查")
    axe(page)
    shot(page, "warnings-board")


def test_a_clerk_gets_a_403_page_on_the_oversight_centre(page, site, sign_in, axe):
    sign_in("clerk")
    response = page.goto(f"{site}/oversight/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
    axe(page)


# ---- indicators --------------------------------------------------------------------------------


def test_the_indicators_page_shows_the_numbers_of_the_stats_endpoint(
    app, api, page, site, sign_in, tokens, conclude, rate, submit, axe, shot
):
    first = conclude()
    second = conclude()
    conclude(intake_body(INSTANT, materials=INSTANT_REQUIRED, channel="online"))
    submit(intake_body(FOOD, delivery={"method": "express", "address": "杭州市西湖区文三路 1 号"}))
    rate(*first, 5)
    rate(*second, 2, comment="等待时间太长")

    cases = api.get("/api/v1/oversight/stats", headers=bearer(tokens["oversight"])).json
    ratings = api.get("/api/v1/oversight/ratings", headers=bearer(tokens["oversight"])).json
    expected = [
        formatted((cases if source == "cases" else ratings)["total"][key], kind)
        for key, _label, source, kind in INDICATORS
    ]
    assert expected[0] == "4" and "—" not in expected[:3]

    sign_in("watch")
    page.get_by_role("link", name="指标统计").click()
    expect(page.get_by_role("heading", name="指标统计", level=1)).to_be_visible()
    total = page.locator("tr[data-row='total'] td")
    expect(total).to_have_text(expected)
    headers = page.locator("table.ov-indicators thead th")
    expect(headers).to_have_text(["部门", *(label for _k, label, _s, _kind in INDICATORS)])
    assert percent(ratings["total"]["good_rate"]) == "50.0%"
    # per department: the department's row matches the API's group
    scjg = next(g for g in cases["groups"] if g["group"] == "scjg")
    row = page.locator("tbody tr", has_text="市场监督管理局").locator("td")
    expect(row.nth(0)).to_have_text(str(scjg["accepted"]))
    expect(row.nth(2)).to_have_text(formatted(scjg["on_time_rate"], "rate"))
    # the charts: bars, weekly trends and the rating distribution, named and readable
    expect(page.get_by_role("img", name="各部门按时办结率")).to_be_visible()
    expect(page.get_by_role("img", name="按时办结率（按周）")).to_be_visible()
    expect(page.get_by_role("img", name="评价等级分布")).to_contain_text("非常满意")
    # another grouping keeps the period; the CSV link carries it
    page.get_by_label("分组").select_option("channel")
    page.get_by_role("button", name="统计").click()
    expect(page.locator("table.ov-indicators tbody th")).to_have_text(["网上", "窗口"])
    link = page.get_by_role("link", name="下载办件指标 CSV")
    expect(link).to_have_attribute(
        "href", "/oversight/indicators.csv?from=2026-12-01&to=2026-12-01&group_by=channel"
    )
    axe(page)
    page.get_by_label("分组").select_option("department")
    page.get_by_role("button", name="统计").click()
    shot(page, "indicators")


def test_a_bad_date_keeps_the_form_and_says_why(page, site, sign_in, axe):
    sign_in("watch")
    page.goto(f"{site}/oversight/indicators?from=2026-12-09&to=2026-12-01")
    expect(page.get_by_role("alert")).to_contain_text("统计条件有误")
    expect(page.locator("#f-from-error")).to_contain_text("起始日期不能晚于截止日期")
    expect(page.get_by_label("起始日期")).to_have_value("2026-12-09")
    axe(page)


# ---- appeals -----------------------------------------------------------------------------------


def test_an_appeal_upheld_on_the_page_changes_the_good_rating_rate(
    app, api, page, site, sign_in, conclude, rate, axe
):
    from windowsvc import clock
    from windowsvc.models import Rating
    from windowsvc.services.admin import credentials

    good, bad = conclude(), conclude()
    rate(*good, 5)
    rate(*bad, 1, comment="窗口人员态度差")
    with app.app_context():
        supervisor = bearer(credentials.create("supervisor", "x", "scjg")[1])
    order = api.get("/api/v1/rectifications", headers=supervisor).json["items"][0]["id"]
    base = f"/api/v1/rectifications/{order}/actions"
    followed = api.post(
        f"{base}/follow_up",
        json={"contacted_at": clock.now().isoformat(), "summary": "已电话回访申请人"},
        headers=supervisor,
    )
    assert followed.status_code == 200, followed.json
    appealed = api.post(
        f"{base}/appeal", json={"reason": "申请人误评: 办件当日办结"}, headers=supervisor
    )
    assert appealed.status_code == 200, appealed.json

    sign_in("watch")
    page.get_by_role("link", name="申诉复核").click()
    rate_now = page.locator("[data-indicator='good_rate']")
    expect(rate_now).to_have_text("50.0%")
    appeal = page.locator("article", has_text=bad[0])
    expect(appeal).to_contain_text("申请人误评: 办件当日办结")
    expect(appeal).to_contain_text("窗口人员态度差")
    axe(page)
    # without a reason: refused next to the field, nothing changes
    appeal.get_by_role("button", name="申诉成立").click()
    expect(page.locator("[data-indicator='good_rate']")).to_have_text("50.0%")
    page.locator("article", has_text=bad[0]).get_by_label("复核意见").fill("核实为误评")
    page.locator("article", has_text=bad[0]).get_by_role("button", name="申诉成立").click()
    expect(page.get_by_role("status")).to_contain_text("申诉成立")
    expect(page.locator("[data-indicator='good_rate']")).to_have_text("100.0%")
    expect(page.locator("article", has_text=bad[0])).to_have_count(0)
    expect(page.locator("tr", has_text=bad[0])).to_contain_text("不计入统计")
    with app.app_context():
        ratings = {r.level: r.excluded for r in Rating.query.all()}
    assert ratings == {5: False, 1: True}  # kept in the record, out of the statistics
    axe(page)


def test_a_blank_reason_is_refused_next_to_the_field(app, api, page, site, sign_in, conclude, rate):
    from windowsvc import clock
    from windowsvc.models import Rectification
    from windowsvc.services.admin import credentials

    bad = conclude()
    rate(*bad, 2, comment="材料反复提交")
    with app.app_context():
        supervisor = bearer(credentials.create("supervisor", "x", "scjg")[1])
    order = api.get("/api/v1/rectifications", headers=supervisor).json["items"][0]["id"]
    base = f"/api/v1/rectifications/{order}/actions"
    api.post(
        f"{base}/follow_up",
        json={"contacted_at": clock.now().isoformat(), "summary": "已回访"},
        headers=supervisor,
    )
    assert (
        api.post(f"{base}/appeal", json={"reason": "误评"}, headers=supervisor).status_code == 200
    )
    sign_in("watch")
    page.goto(f"{site}/oversight/appeals")
    page.evaluate(
        "document.querySelectorAll('textarea').forEach(t => t.removeAttribute('required'))"
    )
    page.get_by_role("button", name="驳回申诉").click()
    expect(page.locator(".ov-decide .error")).to_contain_text("须填写复核意见")
    with app.app_context():
        assert Rectification.query.one().state == "appealed"


# ---- the record's integrity and the calendar -------------------------------------------------


def test_verify_on_the_page_reports_a_tampered_event(
    app, api, page, site, sign_in, submit, tokens, axe
):
    kept, tampered = submit(), submit()
    api.get(f"/api/v1/applications/{kept['number']}", headers=bearer(tokens["oversight"]))
    sign_in("watch")
    page.get_by_role("link", name="记录核验").click()
    page.get_by_role("button", name="立即核验").click()
    expect(page.get_by_role("status")).to_contain_text("核验通过")
    axe(page)

    forge_event(app, tampered["number"], 1, {"forged": True})

    page.get_by_role("button", name="立即核验").click()
    expect(page.get_by_role("status")).to_contain_text("发现异常")
    fault = page.locator("table.ov-faults tbody tr")
    expect(fault).to_have_count(1)
    expect(fault).to_contain_text(tampered["number"])
    expect(fault.locator("td").nth(0)).to_have_text("1")
    expect(fault).to_contain_text("hash_mismatch")
    # the access record: the API read of the other case, found by its number
    page.get_by_label("受理号").fill(kept["number"])
    page.get_by_role("button", name="查询").click()
    expect(page.locator("table.ov-access tbody tr")).to_have_count(1)
    expect(page.locator("table.ov-access")).to_contain_text("测试监察")
    axe(page)


def test_the_calendar_page_lists_years_and_provisional_cases(app, page, site, sign_in, submit, axe):
    from windowsvc.extensions import db
    from windowsvc.models import Application

    created = submit()
    with app.app_context():
        row = db.session.query(Application).filter_by(number=created["number"]).one()
        provisional = row.due_date_provisional or row.legal_due_date_provisional
        if not provisional:
            row.legal_due_date_provisional = True
            db.session.commit()
    sign_in("watch")
    page.get_by_role("link", name="节假日数据").click()
    expect(page.locator("tr[data-year='2026']")).to_contain_text("2026 年")
    expect(page.locator("table.ov-provisional")).to_contain_text(created["number"])
    expect(page.locator("table.ov-provisional")).to_contain_text("（预计）")
    axe(page)
