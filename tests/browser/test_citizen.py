"""The citizen's pages in a real browser at phone width: 办件查询 with number + query code,
the same answer for a wrong code and an unknown number, throttling, the progress page (masked),
好差评 on a concluded case, accessibility and no horizontal scrolling at 390px."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.factories import FOOD_REQUIRED, bearer, intake_body
from windowsvc.rules import acceptance_number

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NO_MATCH = "未查到办件，请核对受理号和查询密码。"


@pytest.fixture
def submitted(api, tokens):
    """A food licence handed in at the window (accepted, with scjg): its number and code."""

    def _submit(**extra):
        headers = {**bearer(tokens["window"]), "Idempotency-Key": uuid.uuid4().hex}
        body = intake_body(materials=extra.pop("materials", FOOD_REQUIRED), **extra)
        response = api.post("/api/v1/applications", json=body, headers=headers)
        assert response.status_code == 201, response.json
        return response.json["number"], response.json["query_code"]

    return _submit


@pytest.fixture
def concluded(api, tokens, submitted, decide):
    """A case decided by every department (through the queue) and delivered at the window:
    its number and code."""

    def _conclude():
        number, code = submitted()
        decide(number)
        headers = bearer(tokens["window"])
        version = api.get(f"/api/v1/applications/{number}", headers=headers).json["version"]
        delivered = api.post(
            f"/api/v1/applications/{number}/actions/deliver",
            json={"method": "window"},
            headers={**headers, "If-Match": f'"{version}"'},
        )
        assert delivered.status_code == 200, delivered.json
        return number, code

    return _conclude


@pytest.fixture
def phone(page):
    """The page at phone width, recording every URL it requests."""
    page.set_viewport_size(PHONE)
    page.visited = []
    page.on("request", lambda request: page.visited.append(request.url))
    return page


def ask(page, site, number, code):
    """Open the receipt's link and submit the code; the POST's status."""
    page.goto(f"{site}/query/?number={number}")
    page.get_by_label("查询密码").fill(code)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    return answer.value.status


def fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def ratings_stored(app):
    from windowsvc.extensions import db
    from windowsvc.models import Rating

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Rating))


def test_a_citizen_finds_the_case_and_guesses_read_alike(phone, site, submitted, axe, shot):
    number, code = submitted()
    wrong = "000000" if code != "000000" else "111111"
    unknown = acceptance_number.compose(
        "330100", acceptance_number.parse(number).desk_date, "window", 999
    )

    phone.goto(f"{site}/query/?number={number}")
    expect(phone.get_by_role("heading", name="办件查询")).to_be_visible()
    expect(phone.get_by_label("受理号")).to_have_value(number)
    axe(phone)
    fits_the_phone(phone)

    wrong_status = ask(phone, site, number, wrong)
    wrong_message = phone.get_by_role("alert").inner_text()
    expect(phone.get_by_label("查询密码")).to_have_value("")  # a code is never echoed
    axe(phone)
    unknown_status = ask(phone, site, unknown, code)
    unknown_message = phone.get_by_role("alert").inner_text()
    assert wrong_status == unknown_status == 404
    assert wrong_message == unknown_message == NO_MATCH

    assert ask(phone, site, number, code) == 302
    expect(phone).to_have_url(f"{site}/query/cases/{number}")
    expect(phone.get_by_role("heading", name="办件进度", level=1)).to_be_visible()
    main = phone.locator("main")
    expect(main).to_contain_text("食品经营许可证核发")
    expect(main).to_contain_text("办理中")
    expect(main).to_contain_text("110105********002X")  # the ID number masked like the API
    expect(main).to_contain_text("张*丰")
    expect(main).not_to_contain_text("11010519491231002X")
    expect(phone.get_by_role("heading", name="各部门办理情况")).to_be_visible()
    expect(main).to_contain_text("杭州市市场监督管理局")
    expect(phone.get_by_role("heading", name="办理过程")).to_be_visible()
    expect(phone.locator(".timeline li")).to_have_count(3)  # 已收件, 已受理, 办理中
    assert code not in phone.content()
    axe(phone)
    fits_the_phone(phone)
    shot(phone, "citizen-progress")

    assert phone.visited and all(code not in url and wrong not in url for url in phone.visited)


def test_the_progress_page_without_the_code_goes_back_to_the_form(phone, site, submitted):
    number, _code = submitted()
    phone.goto(f"{site}/query/cases/{number}")
    expect(phone).to_have_url(f"{site}/query/?number={number}")
    expect(phone.get_by_label("受理号")).to_have_value(number)
    expect(phone.get_by_role("status")).to_contain_text("请输入查询密码")


def test_a_case_in_correction_lists_what_to_bring(phone, site, submitted):
    number, code = submitted(materials=FOOD_REQUIRED[:-1])
    assert ask(phone, site, number, code) == 302
    expect(phone.get_by_role("heading", name="请补正材料")).to_be_visible()
    expect(phone.locator("main")).to_contain_text("待补正")
    fits_the_phone(phone)


def test_repeated_failures_show_the_friendly_wait(app, phone, site, submitted, axe):
    app.config["STATUS_FAILURES_PER_CLIENT"] = "3 per minute"
    number, code = submitted()
    for _ in range(3):
        assert ask(phone, site, number, "000000" if code != "000000" else "111111") == 404
    assert ask(phone, site, number, code) == 429
    expect(phone.get_by_role("heading", name="查询过于频繁")).to_be_visible()
    expect(phone.get_by_role("alert")).to_have_text("查询过于频繁，请 1 分钟后再试。")
    axe(phone)
    fits_the_phone(phone)
    phone.goto(f"{site}/query/cases/{number}")  # the right code did not get through
    expect(phone).to_have_url(re.compile(r"/query/\?number="))


def test_a_citizen_rates_a_concluded_case(app, phone, site, concluded, axe, shot):
    number, code = concluded()
    assert ask(phone, site, number, code) == 302
    main = phone.locator("main")
    expect(main).to_contain_text("已送达")
    expect(
        phone.get_by_role("heading", name="领取办理结果").or_(
            phone.get_by_role("heading", name="办理结果已送达")
        )
    ).to_be_visible()
    levels = phone.get_by_role("group", name="总体评价")
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        expect(levels.get_by_label(label, exact=True)).to_be_visible()
    expect(
        phone.get_by_role("group", name="涉及的方面（可多选）").get_by_label("服务态度")
    ).to_be_visible()
    axe(phone)
    fits_the_phone(phone)

    # 不满意 with neither a reason nor an aspect: the error next to the comment, nothing stored
    levels.get_by_label("不满意", exact=True).check()
    phone.get_by_label("查询密码").fill(code)
    phone.get_by_role("button", name="提交评价").click()
    expect(phone.locator("#f-comment-error")).to_contain_text("差评须选择标签或填写评价内容")
    expect(phone.get_by_label("评价内容")).to_have_attribute("aria-invalid", "true")
    expect(levels.get_by_label("不满意", exact=True)).to_be_checked()
    assert ratings_stored(app) == 0
    axe(phone)

    phone.goto(f"{site}/query/cases/{number}")
    levels.get_by_label("满意", exact=True).check()
    phone.get_by_role("group", name="涉及的方面（可多选）").get_by_label("办事效率").check()
    phone.get_by_label("评价内容").fill("窗口一次讲清了需要的材料，办事很快。")
    phone.get_by_label("查询密码").fill(code)
    shot(phone, "citizen-rating")
    phone.get_by_role("button", name="提交评价").click()
    expect(phone).to_have_url(f"{site}/query/cases/{number}")
    expect(phone.get_by_role("status")).to_contain_text("评价已提交")
    rated = phone.get_by_role("region", name="您的评价")
    expect(rated).to_contain_text("满意")
    expect(rated).to_contain_text("办事效率")
    expect(phone.get_by_role("button", name="提交评价")).to_have_count(0)
    assert ratings_stored(app) == 1
    assert code not in phone.content()
    axe(phone)
    fits_the_phone(phone)
    assert all(code not in url for url in phone.visited)
