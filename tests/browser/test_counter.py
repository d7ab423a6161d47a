"""综合受理 in a real browser: find the food licence, take an application in, print its notices."""

import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.factories import FOOD, FOOD_REQUIRED
from windowsvc import clock
from windowsvc.adapters.evidence import InMemoryEvidenceSource, demo_holders
from windowsvc.catalog import DEMO_DIR
from windowsvc.rules import acceptance_number

pytestmark = pytest.mark.browser

GOOD_ID = "11010519491231002X"  # 张三丰: the demo shared data holds his resident ID
FOOD_FILE = DEMO_DIR / "items" / f"{FOOD.lower()}.json"
NAMES = {m["code"]: m["name"] for m in json.loads(FOOD_FILE.read_text("utf-8"))["materials"]}


@pytest.fixture
def shared_data(app):
    """The demo shared data (一证通办) as the app's evidence source."""
    app.extensions["windowsvc.adapters"].evidence = InMemoryEvidenceSource(
        demo_holders(), clock.now
    )


@pytest.fixture
def clerk(page, site, sign_in, shared_data):
    """A clerk signed in, on the counter's first page."""
    sign_in("clerk")
    page.goto(f"{site}/counter/")
    return page


def cases(app) -> int:
    from windowsvc.extensions import db
    from windowsvc.models import Application

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Application))


def fill_applicant(page, id_number=GOOD_ID):
    page.get_by_label("申请人姓名或单位名称").fill("张三丰")
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("联系电话").fill("13812345678")


def tick(page, codes):
    """Tick the paper materials handed in (a shared one: handed in on paper after all)."""
    for code in codes:
        page.locator(f'input[name="materials"][value="{code}"]').check()


def number_of(page) -> str:
    return re.search(r"/cases/([0-9X]{22})/receipt$", page.url).group(1)


def test_a_clerk_accepts_a_complete_application_and_prints_the_receipt(
    clerk, site, app, axe, shot, tmp_path
):
    page = clerk
    axe(page)
    page.get_by_label("事项名称、编码或部门").fill("食品经营")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("heading", name=re.compile("查找结果"))).to_contain_text("1 项")
    shot(page, "counter")
    page.get_by_role("link", name="食品经营许可证核发", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("办事指南：食品经营许可证核发")
    expect(page.get_by_role("row", name=re.compile("法定代表人身份证"))).to_contain_text("共享获取")
    axe(page)
    shot(page, "guide")

    page.get_by_role("link", name="开始收件").click()
    axe(page)
    fill_applicant(page)
    # the resident ID comes from shared data: everything else is handed in on paper
    tick(page, [c for c in FOOD_REQUIRED if c != "legal_representative_id"])
    page.get_by_role("button", name="提交收件").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("已受理")
    number = number_of(page)
    assert acceptance_number.parse(number).text == number  # the check character holds
    code = page.get_by_test_id("query-code").inner_text()
    assert re.fullmatch(r"\d{6,}", code)
    assert code not in page.url
    expect(page.get_by_role("heading", name="受理通知书")).to_be_visible()
    notice = page.locator("article.notice")
    expect(notice).to_contain_text("张三丰")
    expect(notice).to_contain_text("110105********002X")  # the masked ID number
    expect(notice).to_contain_text("承诺办结日期")
    qr = notice.get_by_role("img", name="查询办件进度的二维码")
    expect(qr.locator("svg")).to_have_count(1)
    expect(notice).to_contain_text(f"/query/?number={number}")
    axe(page)
    shot(page, "receipt")

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    page.pdf(path=str(tmp_path / "receipt.pdf"), format="A4")
    assert (tmp_path / "receipt.pdf").stat().st_size > 5000
    page.emulate_media(media="screen")

    page.reload()
    expect(page.get_by_test_id("query-code")).to_have_count(0)
    expect(page.locator("article.notice")).to_contain_text("查询密码仅在首次打印时显示")
    assert code not in page.content()
    assert cases(app) == 1


def test_an_incomplete_application_gets_a_correction_notice_listing_every_missing_material(
    clerk, site, app
):
    page = clerk
    page.goto(f"{site}/counter/items/{FOOD}/apply")
    fill_applicant(page)
    tick(page, ["food_licence_application", "premises_floor_plan"])
    page.get_by_role("button", name="提交收件").click()
    expect(page.get_by_role("heading", name="收件回执")).to_be_visible()
    correction = page.locator("article.notice", has=page.get_by_role("heading", name="补正告知书"))
    missing = ["business_licence", "food_process_layout", "food_safety_rules"]
    missing.append("staff_health_certificates")
    rows = correction.locator("tbody tr")
    expect(rows).to_have_count(len(missing))
    for i, code in enumerate(missing):
        expect(rows.nth(i)).to_contain_text(NAMES[code])
    page.get_by_role("link", name="补打补正告知书").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("补正告知书")
    expect(page.locator("article.notice tbody tr")).to_have_count(len(missing))
    assert cases(app) == 1


def test_back_and_resubmit_and_a_double_click_create_one_case(clerk, site, app):
    page = clerk
    page.goto(f"{site}/counter/items/{FOOD}/apply")
    fill_applicant(page)
    tick(page, FOOD_REQUIRED)
    page.get_by_role("button", name="提交收件").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已受理")
    first = page.url
    page.go_back()  # the form again (personal data is not kept by the browser: typed anew)
    expect(page.get_by_role("heading", level=1)).to_contain_text("收件登记")
    fill_applicant(page)
    tick(page, FOOD_REQUIRED)
    page.get_by_role("button", name="提交收件").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已受理")
    assert page.url == first
    assert cases(app) == 1

    page.goto(f"{site}/counter/items/{FOOD}/apply")
    fill_applicant(page)
    tick(page, FOOD_REQUIRED)
    page.get_by_role("button", name="提交收件").dblclick()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已受理")
    assert page.url != first
    assert cases(app) == 2


def test_a_wrong_resident_id_is_explained_at_the_field_and_nothing_is_created(
    clerk, site, app, axe
):
    page = clerk
    page.goto(f"{site}/counter/items/{FOOD}/apply")
    fill_applicant(page, GOOD_ID[:-1] + "3")
    tick(page, FOOD_REQUIRED)
    page.get_by_role("button", name="提交收件").click()
    field = page.get_by_label("证件号码")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-applicant-id_number-error")).to_have_text("居民身份证号码校验位不正确")
    expect(page.get_by_role("alert")).to_contain_text("未生成办件")
    expect(field).to_have_value(GOOD_ID[:-1] + "3")
    expect(page.get_by_label("申请人姓名或单位名称")).to_have_value("张三丰")
    expect(page.locator('input[name="materials"]:checked')).to_have_count(len(FOOD_REQUIRED))
    axe(page)
    assert cases(app) == 0


def tab_to(page, selector, limit=80):
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_intake_form_can_be_completed_with_the_keyboard_alone(clerk, site, app):
    page = clerk
    page.goto(f"{site}/counter/items/{FOOD}/apply")
    tab_to(page, "#f-applicant-name")
    page.keyboard.type("张三丰")
    tab_to(page, "#f-applicant-id_number")
    page.keyboard.type(GOOD_ID)
    page.keyboard.press("Tab")
    page.keyboard.type("13812345678")
    for code in FOOD_REQUIRED:
        tab_to(page, f'input[name="materials"][value="{code}"]')
        page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已受理")
    expect(page.get_by_test_id("query-code")).to_be_visible()
    assert cases(app) == 1
