"""综合受理 pages through the Flask test client: search, guide, intake (once per form), notices."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import FOOD, FOOD_REQUIRED, csrf_of, signed_in_client
from windowsvc import clock
from windowsvc.adapters.evidence import InMemoryEvidenceSource, demo_holders
from windowsvc.rules import acceptance_number

PASSWORD = "correct-horse-42"
GOOD_ID = "11010519491231002X"  # 张三丰 in the demo shared data: holds a resident ID
FOOD_SHARED = ["business_licence", "legal_representative_id"]  # 共享获取 in the catalog


@pytest.fixture
def config(config):
    """The demo shared data (一证通办) as the evidence source."""
    return {**config, "EVIDENCE_ADAPTER": InMemoryEvidenceSource(demo_holders(), clock.now)}


def _signed_in(app, username, role, department=None):
    from windowsvc.services.admin import staff

    with app.app_context():
        staff.create(username, PASSWORD, role, f"测试-{username}", department)
    return signed_in_client(app, username, PASSWORD)


@pytest.fixture
def clerk(app):
    """A test client signed in as a window clerk."""
    return _signed_in(app, "clerk", "window")


def _cases(app) -> int:
    from windowsvc.extensions import db
    from windowsvc.models import Application

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Application))


def _form(client, item=FOOD):
    """The intake form's hidden fields (CSRF token and its own Idempotency-Key)."""
    text = client.get(f"/counter/items/{item}/apply").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', text).group(1)
    return {"csrf_token": csrf_of(text), "idempotency_key": key}


def _filled(hidden, materials=FOOD_REQUIRED, **fields):
    data = {
        **hidden,
        "applicant.type": "person",
        "applicant.name": "张三丰",
        "applicant.id_type": "resident_id",
        "applicant.id_number": GOOD_ID,
        "applicant.phone": "13812345678",
        "delivery.method": "window",
        **fields,
    }
    data["materials"] = list(materials)
    return data


def _submit(client, data):
    return client.post(f"/counter/items/{FOOD}/apply", data=data)


class TestFindingAndReadingAnItem:
    def test_the_search_finds_an_item_by_name_code_or_department(self, clerk):
        for query in ("食品经营", FOOD.lower(), "市场监督管理局"):
            text = clerk.get("/counter/", query_string={"q": query}).text
            assert "食品经营许可证核发" in text, query
        assert "职工参保登记" not in clerk.get("/counter/?q=食品").text
        assert "没有找到" in clerk.get("/counter/?q=不存在的事项").text

    def test_the_guide_shows_materials_limits_and_stages(self, clerk):
        text = clerk.get(f"/counter/items/{FOOD}").text
        assert "共享获取" in text and "可容缺" in text
        assert "法定时限</dt><dd>20 个工作日" in text
        assert "承诺时限</dt><dd>5 个工作日" in text
        parallel = clerk.get("/counter/items/330100-XK-ZJJ-0031").text
        assert "个部门并联办理" in parallel

    def test_every_demo_item_has_a_guide_and_an_intake_form(self, app, clerk):
        from windowsvc.services.admin import catalog

        with app.app_context():
            codes = [row.code for row in catalog.current_items()]
        assert len(codes) >= 12
        for code in codes:
            assert clerk.get(f"/counter/items/{code}").status_code == 200, code
            form = clerk.get(f"/counter/items/{code}/apply")
            assert form.status_code == 200 and 'name="idempotency_key"' in form.text, code

    def test_each_render_of_the_form_carries_its_own_key(self, clerk):
        assert _form(clerk)["idempotency_key"] != _form(clerk)["idempotency_key"]

    def test_an_unknown_item_is_a_friendly_404(self, clerk):
        answer = clerk.get("/counter/items/NO-SUCH-ITEM")
        assert answer.status_code == 404
        assert "页面不存在" in answer.text


class TestIntake:
    def test_the_qr_address_is_the_public_one_when_configured(self, app, clerk):
        app.config["PUBLIC_BASE_URL"] = "https://zwfw.example.gov.cn/"
        answer = _submit(clerk, _filled(_form(clerk)))
        number = answer.location.rsplit("/", 2)[-2]
        receipt = clerk.get(answer.location).text
        assert f"https://zwfw.example.gov.cn/query/?number={number}" in receipt
        assert "http://localhost/query/" not in receipt

    def test_a_complete_application_is_accepted_and_its_receipt_shows_the_code_once(
        self, app, clerk
    ):
        answer = _submit(clerk, _filled(_form(clerk)))
        assert answer.status_code == 303
        number = answer.location.rsplit("/", 2)[-2]
        assert acceptance_number.parse(number).text == number
        receipt = clerk.get(answer.location).text
        code = re.search(r'data-testid="query-code">(\d+)<', receipt).group(1)
        assert code not in answer.location
        assert "受理通知书" in receipt and "已受理" in receipt
        assert f"query/?number={number}" in receipt and f"{code}" not in receipt.split("<svg")[1]
        again = clerk.get(answer.location).text
        assert code not in again and "查询密码仅在首次打印时显示" in again
        reprint = clerk.get(f"/counter/cases/{number}/notices/receipt").text
        assert code not in reprint and "查询密码仅在首次打印时显示" in reprint
        assert _cases(app) == 1

    def test_shared_materials_need_no_tick(self, app, clerk):
        paper = [c for c in FOOD_REQUIRED if c not in FOOD_SHARED]
        organisation = {
            "applicant.type": "organization",
            "applicant.name": "杭州味道餐饮管理有限公司",
            "applicant.id_type": "uscc",
            "applicant.id_number": "91330100MA2H3X4Y5K",
        }
        answer = _submit(clerk, _filled(_form(clerk), paper, **organisation))
        receipt = clerk.get(answer.location).text
        # the business licence came from shared data; the representative's ID did not
        assert "补正告知书" in receipt and "法定代表人身份证" in receipt
        assert "营业执照</td>" not in receipt

    def test_the_same_form_posted_twice_creates_one_case(self, app, clerk):
        data = _filled(_form(clerk))
        first, second = _submit(clerk, data), _submit(clerk, data)
        assert first.location == second.location
        assert _cases(app) == 1

    def test_a_replayed_form_shows_the_code_only_if_the_receipt_has_not(self, app, clerk):
        data = _filled(_form(clerk))
        _submit(clerk, data)  # its answer was lost (a double click)
        second = _submit(clerk, data)
        assert 'data-testid="query-code"' in clerk.get(second.location).text
        third = _submit(clerk, data)  # back and resubmit after the receipt was printed
        assert 'data-testid="query-code"' not in clerk.get(third.location).text
        assert _cases(app) == 1

    def test_a_changed_resubmission_of_the_same_form_is_refused(self, app, clerk):
        data = _filled(_form(clerk))
        _submit(clerk, data)
        changed = _submit(clerk, {**data, "applicant.phone": "13900000000"})
        assert changed.status_code == 422
        assert "此表单已提交过" in changed.text
        assert _cases(app) == 1

    def test_a_wrong_resident_id_check_digit_is_shown_at_the_field(self, app, clerk):
        answer = _submit(
            clerk, _filled(_form(clerk), **{"applicant.id_number": GOOD_ID[:-1] + "1"})
        )
        assert answer.status_code == 422
        assert "居民身份证号码校验位不正确" in answer.text
        assert 'id="f-applicant-id_number-error"' in answer.text
        assert f'value="{GOOD_ID[:-1]}1"' in answer.text and 'value="张三丰"' in answer.text
        assert _cases(app) == 0

    def test_missing_fields_are_named_in_chinese_and_nothing_is_created(self, app, clerk):
        answer = _submit(
            clerk, _filled(_form(clerk), **{"applicant.name": "", "applicant.phone": "abc"})
        )
        assert answer.status_code == 422
        assert "请填写申请人名称" in answer.text and "请填写联系电话" in answer.text
        assert _cases(app) == 0

    def test_express_delivery_needs_an_address(self, app, clerk):
        answer = _submit(clerk, _filled(_form(clerk), **{"delivery.method": "express"}))
        assert answer.status_code == 422
        assert "快递送达须填写收件地址" in answer.text
        assert _cases(app) == 0

    def test_a_post_without_the_csrf_token_changes_nothing(self, app, clerk):
        data = _filled(_form(clerk))
        del data["csrf_token"]
        answer = _submit(clerk, data)
        assert answer.status_code == 400
        assert _cases(app) == 0

    def test_other_roles_cannot_use_the_counter(self, app):
        chief = _signed_in(app, "chief", "supervisor", "scjg")
        assert chief.get("/counter/").status_code == 403
        assert chief.get(f"/counter/items/{FOOD}/apply").status_code == 403
        anonymous = app.test_client().get("/counter/")
        assert anonymous.status_code == 302 and "/signin" in anonymous.location


class TestNotices:
    def test_an_incomplete_application_gets_one_correction_notice_listing_everything(
        self, app, clerk
    ):
        answer = _submit(clerk, _filled(_form(clerk), ["food_licence_application"]))
        number = answer.location.rsplit("/", 2)[-2]
        receipt = clerk.get(answer.location).text
        assert "收件回执" in receipt and "补正告知书" in receipt
        notice = clerk.get(f"/counter/cases/{number}/notices/correction").text
        for name in ("营业执照", "经营场所平面图", "食品安全管理制度", "从业人员健康证明"):
            assert name in notice, name
        rows = re.findall(r"<tr><td>\d+</td>", notice)
        assert len(rows) == 5  # every required material but the form and the fetched ID
        assert clerk.get(f"/counter/cases/{number}/notices/deferral").status_code == 404

    def test_a_deferral_notice_lists_each_commitment_date(self, app, clerk):
        handed = [c for c in FOOD_REQUIRED if c != "food_safety_rules"]
        data = _filled(
            _form(clerk),
            handed,
            defer=["food_safety_rules"],
            **{"commit_date.food_safety_rules": date.today().isoformat()},
        )
        answer = _submit(clerk, data)
        assert answer.status_code == 303, answer.text
        number = answer.location.rsplit("/", 2)[-2]
        notice = clerk.get(f"/counter/cases/{number}/notices/deferral").text
        assert "容缺受理通知书" in notice and "食品安全管理制度" in notice
        assert f"{date.today().year}年{date.today().month}月{date.today().day}日" in notice

    def test_a_commitment_date_in_the_past_is_refused_at_its_material(self, app, clerk):
        handed = [c for c in FOOD_REQUIRED if c != "food_safety_rules"]
        data = _filled(
            _form(clerk),
            handed,
            defer=["food_safety_rules"],
            **{"commit_date.food_safety_rules": "2000-01-01"},
        )
        answer = _submit(clerk, data)
        assert answer.status_code == 422
        assert 'id="e-commit_date-food_safety_rules"' in answer.text
        assert "承诺补交日期不能早于今天" in answer.text
        assert _cases(app) == 0

    def test_a_denial_notice_carries_the_reason_and_the_appeal_rights(self, app, clerk, decide):
        number = _submit(clerk, _filled(_form(clerk))).location.rsplit("/", 2)[-2]
        assert clerk.get(f"/counter/cases/{number}/notices/denial").status_code == 404
        decide(number, "deny", reason="经营场所与申请材料不符")
        notice = clerk.get(f"/counter/cases/{number}/notices/denial").text
        assert "不予许可决定书" in notice and "经营场所与申请材料不符" in notice
        assert "行政复议" in notice and "行政诉讼" in notice

    def test_a_refusal_notice_carries_the_reason_and_the_appeal_rights(self, app, clerk):
        from windowsvc.db import write_transaction
        from windowsvc.models import Application
        from windowsvc.services.cases import actions
        from windowsvc.services.cases.records import Actor

        answer = _submit(clerk, _filled(_form(clerk), ["food_licence_application"]))
        number = answer.location.rsplit("/", 2)[-2]
        with app.app_context():
            with write_transaction():
                version = Application.query.filter_by(number=number).one().version
            actor = Actor(None, "测试窗口", "window")
            actions.perform(
                number,
                "refuse",
                actor,
                version,
                {"reason": "不属于本机关职权范围", "rights_notice": "可依法申请行政复议"},
            )
        notice = clerk.get(f"/counter/cases/{number}/notices/refusal").text
        assert "不予受理决定书" in notice and "不属于本机关职权范围" in notice
        assert "可依法申请行政复议" in notice

    def test_unknown_kinds_and_numbers_are_friendly_errors(self, app, clerk):
        number = _submit(clerk, _filled(_form(clerk))).location.rsplit("/", 2)[-2]
        assert clerk.get(f"/counter/cases/{number}/notices/nonsense").status_code == 404
        assert clerk.get(f"/counter/cases/{number}/notices/refusal").status_code == 404
        assert clerk.get("/counter/cases/123/receipt").status_code == 400
        unknown = number[:-7] + "999999"
        unknown += acceptance_number.check_character(unknown)
        assert clerk.get(f"/counter/cases/{unknown}/receipt").status_code == 404

    def test_reading_a_notice_is_recorded(self, app, clerk):
        from windowsvc.services.oversight import access

        number = _submit(clerk, _filled(_form(clerk))).location.rsplit("/", 2)[-2]
        clerk.get(f"/counter/cases/{number}/notices/receipt")
        with app.app_context():
            rows, _total = access.listing(number=number)
        assert [(r["purpose"], r["role"]) for r in rows] == [("notice", "window")]
