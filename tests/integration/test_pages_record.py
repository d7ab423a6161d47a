"""The case record page (/cases/<number>/record) through the Flask test client: who may open
it, what it shows, that the read is recorded, and that a tampered event is named."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import (
    PARALLEL,
    PARALLEL_REQUIRED,
    bearer,
    forge_event,
    intake_body,
    move_to,
    signed_in_client,
)
from windowsvc.extensions import db
from windowsvc.models import AccessRecord, Application, Event

PASSWORD = "correct-horse-42"
STAFF = {
    "clerk": ("window", None, "综合窗口01-王芳"),
    "chief": ("supervisor", "scjg", "市场监管局-李科长"),
    "chief_zjj": ("supervisor", "zjj", "住建局-周科长"),
    "watch": ("oversight", None, "电子监察-赵敏"),
}


@pytest.fixture
def staff_accounts(app):
    """A page account per role (this module's own: the shared conftest has none)."""
    from windowsvc.services.admin import staff

    with app.app_context():
        for username, (role, department, name) in STAFF.items():
            staff.create(username, PASSWORD, role, name, department)


@pytest.fixture
def signed_in(app, staff_accounts):
    """A test client signed in as the given account through the sign-in form."""

    def _signed_in(username):
        return signed_in_client(app, username, PASSWORD)

    return _signed_in


@pytest.fixture
def decided_case(submit, decide, act):
    """A food licence (scjg only) through expert review, decision and delivery; its number."""
    number = submit(intake_body(channel="online")).json["number"]
    assert act(number, "accept").status_code == 200
    act(
        number, "suspend", {"reason": "需组织专家评审", "kind": "expert_review", "expected_days": 3}
    )
    act(number, "resume", {"result": "专家评审通过"})
    decide(number)
    assert act(number, "deliver", {"method": "window"}).status_code == 200
    return number


def events(app, number):
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.number == number))
        return list(
            db.session.scalars(
                select(Event).where(Event.application_id == application.id).order_by(Event.seq)
            )
        )


def access_rows(app, number):
    """The case's access records of the record page (the API's detail reads left out)."""
    with app.app_context():
        return db.session.execute(
            select(AccessRecord.principal_name, AccessRecord.role, AccessRecord.purpose)
            .join(Application, Application.id == AccessRecord.application_id)
            .where(Application.number == number, AccessRecord.purpose == "record")
            .order_by(AccessRecord.id)
        ).all()


class TestWhoMayOpenIt:
    def test_oversight_sees_every_event_with_its_hash_and_a_whole_chain(
        self, app, signed_in, decided_case
    ):
        page = signed_in("watch").get(f"/cases/{decided_case}/record")
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        recorded = events(app, decided_case)
        assert len(recorded) >= 10
        for event in recorded:
            assert f'id="event-{event.seq}"' in body
            assert event.hash in body and event.hash[:12] in body
        assert "记录完整" in body and "记录异常" not in body
        assert 'class="state current" data-state="delivered"' in body
        assert "已送达（当前状态）" in body

    def test_the_supervisor_of_the_handling_department_sees_it(self, signed_in, decided_case):
        page = signed_in("chief").get(f"/cases/{decided_case}/record")
        assert page.status_code == 200
        assert "记录完整" in page.get_data(as_text=True)

    def test_a_supervisor_of_another_department_gets_the_not_found_page(
        self, app, signed_in, decided_case
    ):
        page = signed_in("chief_zjj").get(f"/cases/{decided_case}/record")
        body = page.get_data(as_text=True)
        assert page.status_code == 404
        assert "页面不存在" in body and "全过程记录" not in body
        assert access_rows(app, decided_case) == []

    def test_a_clerk_is_refused(self, app, signed_in, decided_case):
        page = signed_in("clerk").get(f"/cases/{decided_case}/record")
        assert page.status_code == 403
        assert "无权访问" in page.get_data(as_text=True)
        assert access_rows(app, decided_case) == []

    def test_an_anonymous_visitor_is_sent_to_sign_in(self, client, decided_case):
        page = client.get(f"/cases/{decided_case}/record")
        assert page.status_code == 302 and "/signin" in page.headers["Location"]

    def test_a_number_with_a_wrong_check_character_is_a_friendly_400(
        self, app, signed_in, decided_case
    ):
        wrong = decided_case[:-1] + ("1" if decided_case[-1] != "1" else "2")
        page = signed_in("watch").get(f"/cases/{wrong}/record")
        assert page.status_code == 400
        assert "请求有误" in page.get_data(as_text=True)
        assert access_rows(app, decided_case) == []


class TestWhatItShows:
    def test_reading_the_record_is_itself_recorded(self, app, signed_in, decided_case):
        signed_in("watch").get(f"/cases/{decided_case}/record")
        signed_in("chief").get(f"/cases/{decided_case}/record")
        assert access_rows(app, decided_case) == [
            ("电子监察-赵敏", "oversight", "record"),
            ("市场监管局-李科长", "supervisor", "record"),
        ]

    def test_a_tampered_event_is_named_and_its_row_marked(self, app, signed_in, decided_case):
        forge_event(app, decided_case, 3, {"forged": True})
        body = signed_in("watch").get(f"/cases/{decided_case}/record").get_data(as_text=True)
        assert "记录异常" in body and "记录完整" not in body
        assert "第 3 条: 内容与哈希不符" in body
        assert '<tr id="event-3" class="fault">' in body
        assert '<tr id="event-4" class="">' in body  # the next link still holds
        assert "forged: true" in body

    def test_steps_of_a_parallel_case_are_shown_per_stage_and_department(
        self, signed_in, submit, frozen_clock
    ):
        move_to(frozen_clock, date(2030, 12, 2))  # limits reach into a year nobody published
        number = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED)).json["number"]
        body = signed_in("chief_zjj").get(f"/cases/{number}/record").get_data(as_text=True)
        assert "第 1 环节" in body
        for department in ("住房和城乡建设局", "规划和自然资源局", "消防救援支队"):
            assert department in body
        assert "待办" in body
        assert "办理中（当前状态）" in body
        facts = body.split('id="facts-h"')[1].split("</section>")[0]
        assert "（预计）" in facts  # the legal limit reaches into a year without a notice

    def test_a_failed_step_shows_its_incident_attempts_and_error(
        self, client, tokens, signed_in, submit
    ):
        number = submit().json["number"]
        [task] = client.post(
            "/api/v1/tasks/fetch-and-lock",
            json={"worker_id": "w1", "max_tasks": 1},
            headers=bearer(tokens["scjg"]),
        ).json
        failed = client.post(
            f"/api/v1/tasks/{task['id']}/failure",
            json={"worker_id": "w1", "error_message": "审批系统连接超时", "retries": 0},
            headers=bearer(tokens["scjg"]),
        )
        assert failed.status_code == 204
        body = signed_in("chief").get(f"/cases/{number}/record").get_data(as_text=True)
        steps = body.split('id="steps-h"')[1].split("</section>")[0]
        assert "异常" in steps and "错误: 审批系统连接超时" in steps
        assert "1 次" in steps
        assert "<td>0</td>" in steps  # retries left
        assert "转为异常" in body  # the step.incident event

    def test_notices_show_their_delivery_status_with_the_phone_masked(
        self, signed_in, decided_case
    ):
        body = signed_in("watch").get(f"/cases/{decided_case}/record").get_data(as_text=True)
        assert "受理通知书" in body and "送达回证" in body
        assert "待发送" in body
        assert "138****5678" in body and "13812345678" not in body

    def test_a_bad_rating_shows_level_tags_comment_and_its_work_order_not_the_rater(
        self, signed_in, conclude, rate
    ):
        number, code = conclude(intake_body(channel="online"))
        assert rate(number, code, 1, ["efficiency"], "等了很久没有人处理").status_code == 201
        body = signed_in("chief").get(f"/cases/{number}/record").get_data(as_text=True)
        rating = body.split('id="rating-h"')[1]
        assert "非常不满意" in rating and "办事效率" in rating
        assert "等了很久没有人处理" in rating
        assert "整改工单" in rating and "待回访" in rating
        assert "张三丰" not in body and "11010519491231002X" not in body
