"""Staff sign-in in a real browser: the form, wrong passwords, sign-out, and accessibility."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_clerk_signs_in_and_out(page, site, sign_in, axe):
    page.goto(site)
    axe(page)
    page.get_by_role("link", name="工作人员登录").click()
    axe(page)
    sign_in("clerk")
    expect(page.locator(".who")).to_contain_text("综合窗口01-王芳")
    expect(page.locator(".who")).to_contain_text("综合窗口")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("status")).to_contain_text("您已安全退出")
    expect(page.locator(".who")).to_have_count(0)


def test_a_wrong_password_and_an_unknown_user_read_the_same(page, site, sign_in, axe):
    sign_in("clerk", "not-the-password")
    wrong_password = page.get_by_role("alert").inner_text()
    axe(page)
    sign_in("nobody-here", "not-the-password")
    assert page.get_by_role("alert").inner_text() == wrong_password == "用户名或密码不正确。"
    expect(page.locator(".who")).to_have_count(0)


def test_a_staff_page_sends_an_anonymous_visitor_to_sign_in_and_back(page, site, sign_in):
    page.goto(f"{site}/signin?next=//evil.example/")
    sign_in("chief")  # a supervisor: an unsafe next is ignored, the home page follows
    assert page.url.startswith(site)
