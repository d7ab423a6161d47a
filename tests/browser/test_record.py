"""A case's full record in a real browser: oversight and the handling department's supervisor
read every event with its hash, the chain check and the path on the state diagram; a tampered
event shows as a fault; other departments get the 404 page, the window a 403."""

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.factories import bearer, forge_event, intake_body

pytestmark = pytest.mark.browser


@pytest.fixture
def case(api, tokens, decide, frozen_clock):
    """A food licence (scjg only): received online, accepted, expert review, decided, delivered
    and rated badly; its number."""

    def act(number, action, payload=None):
        version = api.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"]))
        headers = {**bearer(tokens["window"]), "If-Match": f'"{version.json["version"]}"'}
        response = api.post(
            f"/api/v1/applications/{number}/actions/{action}", json=payload or {}, headers=headers
        )
        assert response.status_code == 200, response.json

    headers = {**bearer(tokens["window"]), "Idempotency-Key": uuid.uuid4().hex}
    created = api.post(
        "/api/v1/applications", json=intake_body(channel="online"), headers=headers
    ).json
    number = created["number"]
    frozen_clock.moment += timedelta(hours=1)
    act(number, "accept")
    frozen_clock.moment += timedelta(days=1)
    act(
        number, "suspend", {"reason": "需组织专家评审", "kind": "expert_review", "expected_days": 3}
    )
    frozen_clock.moment += timedelta(days=1)
    act(number, "resume", {"result": "专家评审通过"})
    decide(number)
    frozen_clock.moment += timedelta(days=1)
    act(number, "deliver", {"method": "window"})
    rating = {
        "number": number,
        "query_code": created["query_code"],
        "level": 2,
        "tags": ["efficiency"],
        "comment": "材料审查等待时间较长",
    }
    assert api.post("/api/v1/ratings", json=rating).status_code == 201
    return number


def recorded(app, number):
    """The case's events and the access records of the record page."""
    from windowsvc.extensions import db
    from windowsvc.models import AccessRecord, Application, Event

    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.number == number))
        events = db.session.scalars(
            select(Event).where(Event.application_id == application.id).order_by(Event.seq)
        ).all()
        reads = db.session.execute(
            select(AccessRecord.principal_name, AccessRecord.purpose).where(
                AccessRecord.application_id == application.id, AccessRecord.purpose == "record"
            )
        ).all()
        return [(e.seq, e.hash) for e in events], reads


def test_oversight_reads_the_whole_record_with_hashes_chain_and_diagram(
    page, site, sign_in, app, case, axe, shot
):
    sign_in("watch")
    page.goto(f"{site}/cases/{case}/record")
    expect(page.get_by_role("heading", name="办件全过程记录", level=1)).to_be_visible()
    expect(page.get_by_text(case).first).to_be_visible()

    events, reads = recorded(app, case)
    rows = page.locator("table.record-events tbody tr")
    expect(rows).to_have_count(len(events))
    for seq, digest in events:
        row = page.locator(f"#event-{seq}")
        expect(row.locator("code[title]").first).to_have_attribute("title", digest)
        expect(row.locator("summary code")).to_have_text(digest[:12] + "…")
    first = page.locator("#event-1")
    first.locator(".event-hash summary").click()
    expect(first.locator(".full-hash").first).to_have_text(events[0][1])
    expect(page.locator("#event-2")).to_contain_text("已提交")
    expect(page.locator("#event-2")).to_contain_text("已受理")

    chain = page.locator(".chain-check")
    expect(chain).to_contain_text("记录完整")
    expect(chain).to_contain_text(f"已核验 {len(events)} 条事件")

    diagram = page.locator(".record-diagram svg[role=img]")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g.state.current")).to_have_attribute("data-state", "delivered")
    expect(diagram.locator('g.state.visited[data-state="suspended"]')).to_have_count(1)
    path = page.get_by_role("list").filter(has_text="（当前状态）")
    expect(path.locator("li")).to_have_text(
        [
            "已提交",
            "已受理",
            "办理中",
            "特别程序",
            "办理中",
            "准予许可",
            "待领取",
            "已送达（当前状态）",
        ]
    )

    steps = page.locator("table.record-steps")
    expect(steps).to_have_count(2)
    expect(steps.first).to_contain_text("杭州市市场监督管理局")
    expect(steps.first).to_contain_text("已办结")
    expect(page.locator("table.record-notices")).to_contain_text("受理通知书")
    rating = page.get_by_role("region", name="评价与整改")
    expect(rating).to_contain_text("不满意")
    expect(rating).to_contain_text("办事效率")
    expect(rating).to_contain_text("材料审查等待时间较长")
    expect(rating).to_contain_text("待回访")

    assert reads == [("电子监察-赵敏", "record")]
    axe(page)
    page.set_viewport_size({"width": 390, "height": 844})  # diagram and tables scroll sideways
    axe(page)
    shot(page, "case-record")


def test_a_tampered_event_shows_as_a_fault_of_the_chain(page, site, sign_in, app, case, axe):
    forge_event(app, case, 5, {"reason": "改过的理由"})
    sign_in("watch")
    page.goto(f"{site}/cases/{case}/record")
    chain = page.locator(".chain-check")
    expect(chain).to_contain_text("记录异常")
    expect(chain).not_to_contain_text("记录完整")
    expect(chain.get_by_role("listitem")).to_have_count(1)
    expect(chain.get_by_role("listitem")).to_contain_text("第 5 条: 内容与哈希不符")
    expect(page.locator("#event-5")).to_have_class("fault")
    expect(page.locator("#event-5")).to_contain_text("改过的理由")
    expect(page.locator("#event-6")).not_to_have_class("fault")
    axe(page)


def test_the_handling_supervisor_sees_it_another_department_gets_404_a_clerk_403(
    page, site, sign_in, app, case
):
    sign_in("chief_zjj")
    response = page.goto(f"{site}/cases/{case}/record")
    assert response.status == 404
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(page.locator("table.record-events")).to_have_count(0)

    page.get_by_role("button", name="退出").click()
    sign_in("clerk")
    response = page.goto(f"{site}/cases/{case}/record")
    assert response.status == 403
    expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
    assert recorded(app, case)[1] == []

    page.get_by_role("button", name="退出").click()
    sign_in("chief")
    response = page.goto(f"{site}/cases/{case}/record")
    assert response.status == 200
    expect(page.locator(".chain-check")).to_contain_text("记录完整")
    rating = page.get_by_role("region", name="评价与整改")
    expect(rating).to_contain_text("材料审查等待时间较长")
    expect(rating).not_to_contain_text("张")  # the rater is never named
    assert recorded(app, case)[1] == [("市场监管局-李科长", "record")]
