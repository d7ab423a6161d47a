"""The supervisor's desk over the test client: department scope, 延期 in two steps, incidents,
work orders, and what bad input, a stale version or a missing CSRF token change (nothing)."""

import re

import pytest

from tests.factories import bearer, csrf_of, signed_in_client

pytestmark = pytest.mark.usefixtures("frozen_clock")
PASSWORD = "correct-horse-42"
STAFF = {
    "chief": ("supervisor", "scjg", "市场监管局-李科长"),
    "chief_zjj": ("supervisor", "zjj", "住建局-周科长"),
    "clerk": ("window", None, "综合窗口01-王芳"),
}


@pytest.fixture
def accounts(app):
    """Staff accounts: scjg's and zjj's supervisors and a clerk."""
    from windowsvc.services.admin import staff

    with app.app_context():
        for username, (role, department, name) in STAFF.items():
            staff.create(username, PASSWORD, role, name, department)


@pytest.fixture
def signed_in(app, accounts):
    """A test client signed in as the given account, and a function giving a CSRF token."""

    def _signed_in(username):
        return signed_in_client(app, username, PASSWORD)

    return _signed_in


def csrf(client):
    """A CSRF token of the client's session."""
    return csrf_of(client.get("/desk/").get_data(as_text=True))


def case_row(app, number):
    from windowsvc.models import Application

    with app.app_context():
        return Application.query.filter_by(number=number).one()


def extension_form(client, version, **overrides):
    return {
        "csrf_token": csrf(client),
        "version": str(version),
        "days": "10",
        "reason": "需现场核查经营场所",
        "approver": "李局长",
        **overrides,
    }


class TestScope:
    def test_a_supervisor_sees_the_departments_cases_and_another_department_none(
        self, app, submit, signed_in
    ):
        number = submit().json["number"]  # the food licence: a step of scjg

        chief = signed_in("chief").get("/desk/")
        zjj = signed_in("chief_zjj").get("/desk/")

        assert number in chief.get_data(as_text=True)
        assert number not in zjj.get_data(as_text=True)

    def test_another_departments_case_is_the_404_page_and_is_not_recorded_as_read(
        self, app, submit, signed_in
    ):
        from windowsvc.models import AccessRecord

        number = submit().json["number"]

        response = signed_in("chief_zjj").get(f"/desk/cases/{number}")

        assert response.status_code == 404
        assert "页面不存在" in response.get_data(as_text=True)
        with app.app_context():
            assert AccessRecord.query.filter_by(purpose="desk").count() == 0

    def test_reading_a_case_on_the_desk_records_the_access(self, app, submit, signed_in):
        from windowsvc.models import AccessRecord

        number = submit().json["number"]

        response = signed_in("chief").get(f"/desk/cases/{number}")

        assert response.status_code == 200
        page = response.get_data(as_text=True)
        # the applicant is masked on the desk: the rater of a work order is the applicant
        assert "110105********002X" in page and "11010519491231002X" not in page
        with app.app_context():
            records = AccessRecord.query.filter_by(purpose="desk").all()
            assert [(r.principal_name, r.role) for r in records] == [
                ("市场监管局-李科长", "supervisor")
            ]

    def test_the_window_is_refused_the_desk(self, signed_in):
        assert signed_in("clerk").get("/desk/").status_code == 403

    def test_an_unknown_filter_value_is_a_422_with_the_message_on_the_form(self, signed_in):
        response = signed_in("chief").get("/desk/?state=nonsense&warning=purple")

        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "没有这个办件状态" in page and "没有这个预警等级" in page


class TestExtension:
    def test_the_preview_shows_the_new_due_date_and_changes_nothing(self, app, submit, signed_in):
        created = submit().json
        client = signed_in("chief")

        response = client.post(
            f"/desk/cases/{created['number']}/extend/preview",
            data=extension_form(client, created["version"]),
        )

        assert response.status_code == 200
        page = response.get_data(as_text=True)
        before = case_row(app, created["number"])
        assert before.legal_due_date.isoformat() == created["legal_due_date"]
        assert before.version == created["version"]
        from windowsvc.services.cases.actions import extension_due_date

        with app.app_context():
            moved = extension_due_date(before, 10)
        assert f'new-legal-due-date"><strong>{moved["legal_due_date"].date}' in page
        assert f'new-due-date"><strong>{moved["due_date"].date}' in page
        assert moved["legal_due_date"].date > before.legal_due_date

    def test_confirming_moves_the_due_dates_once_and_the_form_is_gone(self, app, submit, signed_in):
        created = submit().json
        client = signed_in("chief")
        form = extension_form(client, created["version"])
        preview = client.post(f"/desk/cases/{created['number']}/extend/preview", data=form)
        new_legal = re.search(r'new-legal-due-date"><strong>(\d{4}-\d\d-\d\d)', preview.text)

        done = client.post(f"/desk/cases/{created['number']}/extend", data=form)

        assert done.status_code == 302
        after = case_row(app, created["number"])
        assert after.legal_due_date.isoformat() == new_legal.group(1)
        assert after.details["extension"]["approver"] == "李局长"
        page = client.get(f"/desk/cases/{created['number']}").get_data(as_text=True)
        assert "已批准延长办理期限 10 个工作日" in page
        assert "计算新的办结日期" not in page and "本件已延长过办理期限" in page
        again = client.post(
            f"/desk/cases/{created['number']}/extend/preview",
            data=extension_form(client, after.version),
        )
        assert again.status_code == 302
        assert case_row(app, created["number"]).legal_due_date == after.legal_due_date

    def test_a_stale_version_is_told_and_changes_nothing(self, app, submit, signed_in):
        created = submit().json
        client = signed_in("chief")
        form = extension_form(client, created["version"] - 1)

        response = client.post(f"/desk/cases/{created['number']}/extend", data=form)

        assert response.status_code == 302
        page = client.get(response.location).get_data(as_text=True)
        assert "该办件已被他人更新，请刷新后重试" in page
        assert case_row(app, created["number"]).details.get("extension") is None

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [("days", "11", "延长期限须为 1 至 10 个工作日"), ("reason", " ", "请填写延期理由")],
    )
    def test_bad_input_is_a_422_next_to_the_field_and_changes_nothing(
        self, app, submit, signed_in, field, value, message
    ):
        created = submit().json
        client = signed_in("chief")
        form = extension_form(client, created["version"], **{field: value})

        response = client.post(f"/desk/cases/{created['number']}/extend", data=form)

        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert case_row(app, created["number"]).details.get("extension") is None

    def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
        self, app, submit, signed_in
    ):
        created = submit().json
        client = signed_in("chief")
        form = extension_form(client, created["version"])
        del form["csrf_token"]

        response = client.post(f"/desk/cases/{created['number']}/extend", data=form)

        assert response.status_code == 400
        assert case_row(app, created["number"]).details.get("extension") is None

    def test_another_department_cannot_extend(self, app, submit, signed_in):
        created = submit().json
        client = signed_in("chief_zjj")

        response = client.post(
            f"/desk/cases/{created['number']}/extend",
            data=extension_form(client, created["version"]),
        )

        assert response.status_code == 404
        assert case_row(app, created["number"]).details.get("extension") is None


def fail_for_good(client, tokens, message="证照库返回格式错误"):
    """scjg's system fetches its task and reports a failure with no retries left; the task."""
    body = {"worker_id": "w1", "max_tasks": 1, "lock_seconds": 60}
    task = client.post("/api/v1/tasks/fetch-and-lock", json=body, headers=bearer(tokens["scjg"]))
    task = task.json[0]
    failure = {"worker_id": "w1", "error_message": message, "retries": 0}
    response = client.post(
        f"/api/v1/tasks/{task['id']}/failure", json=failure, headers=bearer(tokens["scjg"])
    )
    assert response.status_code == 204, response.json
    return task


class TestIncidents:
    def test_a_supervisor_retries_an_incident_and_the_record_says_who(
        self, app, client, tokens, submit, signed_in
    ):
        from windowsvc.extensions import db
        from windowsvc.models import Step

        number = submit().json["number"]
        task = fail_for_good(client, tokens)
        chief = signed_in("chief")
        assert "证照库返回格式错误" in chief.get("/desk/incidents").get_data(as_text=True)
        assert number not in signed_in("chief_zjj").get("/desk/incidents").get_data(as_text=True)

        response = chief.post(
            f"/desk/incidents/{task['id']}/retries",
            data={"csrf_token": csrf(chief), "retries": "2"},
        )

        assert response.status_code == 302
        with app.app_context():
            step = db.session.get(Step, int(task["id"]))
            assert (step.state, step.retries) == ("pending", 2)
        page = chief.get("/desk/incidents").get_data(as_text=True)
        assert "本科室当前没有异常" in page
        assert "设置重试次数" in page and "市场监管局-李科长" in page

    def test_a_batch_reports_each_task_that_could_not_be_retried(
        self, app, client, tokens, submit, signed_in
    ):
        submit()
        task = fail_for_good(client, tokens)
        chief = signed_in("chief")

        response = chief.post(
            "/desk/incidents/retries",
            data={"csrf_token": csrf(chief), "task_id": [task["id"], "999999"], "batch_retries": 1},
        )

        page = chief.get(response.location).get_data(as_text=True)
        assert f"已为 1 项异常设置重试次数 1: 任务 {task['id']}" in page
        assert "1 项未能重试 — 任务 999999" in page

    @pytest.mark.parametrize("chosen", [["x1"], [str(n) for n in range(1, 102)]])
    def test_a_batch_takes_at_most_100_task_ids_and_only_ids(self, signed_in, chosen):
        chief = signed_in("chief")
        form = {"csrf_token": csrf(chief), "task_id": chosen, "batch_retries": 1}
        response = chief.post("/desk/incidents/retries", data=form)
        assert response.status_code == 422
        assert "一次最多选择 100 项异常" in response.get_data(as_text=True)

    def test_bad_retries_are_a_422_and_change_nothing(self, app, client, tokens, submit, signed_in):
        from windowsvc.extensions import db
        from windowsvc.models import Step

        submit()
        task = fail_for_good(client, tokens)
        chief = signed_in("chief")

        response = chief.post(
            f"/desk/incidents/{task['id']}/retries",
            data={"csrf_token": csrf(chief), "retries": "0"},
        )

        assert response.status_code == 422
        assert "重试次数须在 1 至 1000 之间" in response.get_data(as_text=True)
        with app.app_context():
            assert db.session.get(Step, int(task["id"])).state == "incident"


class TestWorkOrders:
    @pytest.fixture
    def order_id(self, app, conclude, rate):
        from windowsvc.models import Rectification

        number, query_code = conclude()
        assert rate(number, query_code, 1, comment="窗口态度差").status_code == 201
        with app.app_context():
            return Rectification.query.one().id

    def test_another_department_sees_no_order_and_gets_the_404_page(self, order_id, signed_in):
        zjj = signed_in("chief_zjj")

        assert f"工单 {order_id}" not in zjj.get("/desk/orders").get_data(as_text=True)
        assert zjj.get(f"/desk/orders/{order_id}").status_code == 404

    def test_the_rater_is_never_shown(self, order_id, signed_in):
        page = signed_in("chief").get(f"/desk/orders/{order_id}").get_data(as_text=True)

        assert "窗口态度差" in page and "非常不满意" in page
        for leak in ("张三丰", "张*丰", "13812345678", "138****5678", "11010519491231002X"):
            assert leak not in page

    def test_from_open_to_closed(self, app, order_id, signed_in):
        from windowsvc.extensions import db
        from windowsvc.models import Rectification

        chief = signed_in("chief")
        steps = [
            ("follow_up", {"contacted_at": "2026-03-02T09:00", "summary": "已致电说明"}),
            ("rectify", {"measures": "窗口人员服务规范培训"}),
            ("close", {}),
        ]
        for action, form in steps:
            response = chief.post(
                f"/desk/orders/{order_id}/{action}", data={"csrf_token": csrf(chief), **form}
            )
            assert response.status_code == 302, (action, response.get_data(as_text=True))

        with app.app_context():
            assert db.session.get(Rectification, order_id).state == "closed"

    @pytest.mark.parametrize("moment", ["0001-01-01T07:59", "1999-12-31T23:59"])
    def test_a_follow_up_out_of_the_calendar_is_a_422(self, app, order_id, signed_in, moment):
        chief = signed_in("chief")
        form = {"csrf_token": csrf(chief), "contacted_at": moment, "summary": "x"}
        response = chief.post(f"/desk/orders/{order_id}/follow_up", data=form)
        assert response.status_code == 422
        assert "回访时间须在 2000 年至 2099 年之间" in response.get_data(as_text=True)

    def test_a_follow_up_in_the_future_is_a_422_and_changes_nothing(self, app, order_id, signed_in):
        from windowsvc.extensions import db
        from windowsvc.models import Rectification

        chief = signed_in("chief")
        form = {"csrf_token": csrf(chief), "contacted_at": "2026-03-09T09:00", "summary": "x"}

        response = chief.post(f"/desk/orders/{order_id}/follow_up", data=form)

        assert response.status_code == 422
        assert "回访时间不能晚于当前时间" in response.get_data(as_text=True)
        with app.app_context():
            assert db.session.get(Rectification, order_id).state == "open"
