"""Back-office tasks over the native API: fetch-and-lock, complete, failure, incidents, leases."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from tests.factories import FOOD, PARALLEL, PARALLEL_REQUIRED, bearer, intake_body

COMPANY = "330100-XK-SCJG-0001"  # 企业设立登记 (scjg, one stage)
COMPANY_REQUIRED = [
    "company_registration_application",
    "legal_representative_id",
    "articles_of_association",
    "shareholder_qualification",
    "officers_appointment",
    "premises_use_proof",
]
STAGE_ZERO = {
    "zjj": "joint_quality_acceptance",
    "zrzy": "joint_planning_verification",
    "xfjy": "joint_fire_acceptance",
}
SIMULTANEOUS = 12
ROUNDS = 5
# Every test of this module runs on 2026-03-02, so that due dates are fixed.
pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def desks(app, tokens):
    """Tokens of every role in `tokens`, plus zrzy and xfjy back offices and a zjj supervisor."""
    from windowsvc.services.admin import credentials

    made = dict(tokens)
    with app.app_context():
        for key, role, department in [
            ("zrzy", "backoffice", "zrzy"),
            ("xfjy", "backoffice", "xfjy"),
            ("zjj_supervisor", "supervisor", "zjj"),
        ]:
            _principal, token = credentials.create(role, f"测试{key}", department)
            made[key] = token
    return made


@pytest.fixture
def parallel(submit):
    """Submit a complete joint-acceptance application (three departments in stage 0)."""

    def _parallel():
        response = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
        assert response.status_code == 201, response.json
        assert response.json["state"] == "in_progress"
        return response.json

    return _parallel


def fetch(client, token, worker="w1", **body):
    """POST fetch-and-lock; the response."""
    payload = {"worker_id": worker, "max_tasks": 10, "lock_seconds": 60, **body}
    return client.post("/api/v1/tasks/fetch-and-lock", json=payload, headers=bearer(token))


def fetched(client, token, worker="w1", **body):
    """The tasks a fetch-and-lock hands out (asserting a 200)."""
    response = fetch(client, token, worker, **body)
    assert response.status_code == 200, response.json
    return response.json


def only_task(client, token, worker="w1", **body):
    """Fetch and expect exactly one task; that task."""
    tasks = fetched(client, token, worker, **body)
    assert len(tasks) == 1, tasks
    return tasks[0]


def report(client, token, task_id, what, **body):
    """POST /tasks/{id}/{what} (complete, failure, extend-lock, unlock, retries)."""
    return client.post(f"/api/v1/tasks/{task_id}/{what}", json=body, headers=bearer(token))


def complete(client, token, task_id, worker="w1", outcome="approve", **body):
    """POST /tasks/{id}/complete; the response."""
    return report(client, token, task_id, "complete", worker_id=worker, outcome=outcome, **body)


def detail(client, tokens, number):
    """The application as the window sees it."""
    response = client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"]))
    assert response.status_code == 200, response.json
    return response.json


def events(client, tokens, number):
    """The lifecycle record as the window sees it."""
    response = client.get(f"/api/v1/applications/{number}/events", headers=bearer(tokens["window"]))
    assert response.status_code == 200, response.json
    return response.json


def of_type(record, type_):
    """The events of one type."""
    return [e for e in record if e["type"] == type_]


def approve_stage_zero(client, desks, departments=("zjj", "zrzy", "xfjy")):
    """Each named department fetches and approves its stage-0 step."""
    for department in departments:
        task = only_task(client, desks[department], worker=f"{department}-1")
        assert task["step"]["code"] == STAGE_ZERO[department]
        response = complete(client, desks[department], task["id"], worker=f"{department}-1")
        assert response.status_code == 204, response.json


class TestFetchAndLock:
    def test_a_department_receives_only_its_own_tasks_with_the_application_data(
        self, client, desks, submit, parallel, frozen_clock
    ):
        food = submit().json
        joint = parallel()

        task = only_task(client, desks["scjg"], lock_seconds=300)
        assert task["topic"] == "scjg.food-licence.review"
        assert task["step"] == {
            "code": "food_licence_review",
            "name": task["step"]["name"],
            "stage": 0,
            "member_item": None,
        }
        assert task["application"]["number"] == food["number"]
        assert task["application"]["item_code"] == FOOD
        assert task["application"]["applicant"]["name"] == "张三丰"
        assert task["application"]["applicant"]["id_number"] == "11010519491231002X"
        assert {m["code"] for m in task["application"]["materials"]} == {
            m["code"] for m in food["materials"]
        }
        assert task["lock_expires_at"] == "2026-03-02T10:05:00+08:00"
        assert task["attempt"] == 1
        assert task["due_date"]

        zjj = only_task(client, desks["zjj"])
        assert zjj["application"]["number"] == joint["number"]
        assert zjj["step"]["code"] == "joint_quality_acceptance"
        assert fetched(client, desks["gaj"]) == []

    def test_a_locked_task_is_not_handed_to_a_second_worker(self, client, desks, submit):
        submit()
        first = only_task(client, desks["scjg"], worker="w1")

        assert fetched(client, desks["scjg"], worker="w2") == []
        assert fetched(client, desks["scjg"], worker="w1") == []
        assert complete(client, desks["scjg"], first["id"], worker="w2").status_code == 409

    def test_topics_narrow_what_is_fetched(self, client, desks, submit):
        submit()
        company = submit(intake_body(item=COMPANY, materials=COMPANY_REQUIRED)).json

        assert fetched(client, desks["scjg"], topics=["scjg.no-such-topic"]) == []
        task = only_task(client, desks["scjg"], topics=["scjg.company-registration.review"])
        assert task["application"]["number"] == company["number"]
        rest = fetched(client, desks["scjg"], worker="w2")
        assert [t["topic"] for t in rest] == ["scjg.food-licence.review"]

    def test_the_task_due_first_is_handed_out_first(self, client, desks, submit):
        food = submit().json["number"]  # review due in 3 working days
        company = submit(intake_body(item=COMPANY, materials=COMPANY_REQUIRED)).json["number"]

        first = only_task(client, desks["scjg"], max_tasks=1)
        second = only_task(client, desks["scjg"], max_tasks=1)

        assert [first["application"]["number"], second["application"]["number"]] == [
            company,
            food,
        ]
        assert first["due_date"] < second["due_date"]

    def test_only_back_offices_fetch(self, client, desks, submit):
        submit()
        for role in ("window", "supervisor", "oversight", "admin"):
            assert fetch(client, desks[role]).status_code == 403, role


class TestCompletingStages:
    def test_approving_every_step_of_both_stages_makes_the_result_ready(
        self, client, desks, parallel
    ):
        number = parallel()["number"]
        for department in ("zjj", "zrzy", "xfjy"):
            task = only_task(client, desks[department], worker=f"{department}-1")
            assert fetched(client, desks["zjj"], worker="peek") == []  # no stage 1 yet
            response = complete(
                client,
                desks[department],
                task["id"],
                worker=f"{department}-1",
                comment="符合要求",
                result={"opinion": f"{department}-2026-001"},
            )
            assert response.status_code == 204, response.json

        opinion = only_task(client, desks["zjj"], worker="zjj-2")
        assert opinion["step"] == {
            "code": "joint_acceptance_opinion",
            "name": opinion["step"]["name"],
            "stage": 1,
            "member_item": None,
        }
        response = complete(
            client,
            desks["zjj"],
            opinion["id"],
            worker="zjj-2",
            result={"certificate": "联验字〔2026〕001号"},
        )
        assert response.status_code == 204, response.json

        case = detail(client, desks, number)
        assert case["state"] == "result_ready"
        assert [(s["stage"], s["state"], s["outcome"]) for s in case["steps"]] == [
            (0, "completed", "approve")
        ] * 3 + [(1, "completed", "approve")]
        record = events(client, desks, number)
        assert len(of_type(record, "step.completed")) == 4
        assert [e["details"]["stage"] for e in of_type(record, "stage.opened")] == [0, 1]
        (approved,) = of_type(record, "application.approved")
        assert approved["details"]["result"] == {
            "joint_quality_acceptance": {"opinion": "zjj-2026-001"},
            "joint_planning_verification": {"opinion": "zrzy-2026-001"},
            "joint_fire_acceptance": {"opinion": "xfjy-2026-001"},
            "joint_acceptance_opinion": {"certificate": "联验字〔2026〕001号"},
        }
        assert [e["to_state"] for e in record if e["type"].startswith("application.")][-2:] == [
            "approved",
            "result_ready",
        ]

    def test_two_denials_and_one_approval_give_one_denial_carrying_both_reasons(
        self, client, desks, parallel
    ):
        number = parallel()["number"]
        answers = {
            "zjj": ("deny", "主体结构实体检测不合格"),
            "zrzy": ("approve", None),
            "xfjy": ("deny", "消防车道宽度不足"),
        }
        for department, (outcome, comment) in answers.items():
            task = only_task(client, desks[department], worker=department)
            body = {"comment": comment} if comment else {}
            response = complete(client, desks[department], task["id"], department, outcome, **body)
            assert response.status_code == 204, response.json

        case = detail(client, desks, number)
        assert case["state"] in ("denied", "result_ready")
        assert {s["stage"] for s in case["steps"]} == {0}
        assert fetched(client, desks["zjj"]) == []
        record = events(client, desks, number)
        (denied,) = of_type(record, "application.denied")
        assert denied["to_state"] == "denied"
        assert "主体结构实体检测不合格" in denied["details"]["reason"]
        assert "消防车道宽度不足" in denied["details"]["reason"]
        assert denied["details"]["rights_notice"]
        assert not of_type(record, "application.approved")
        assert len(of_type(record, "stage.opened")) == 1

    def test_a_denial_without_a_reason_is_refused_and_the_task_stays_held(
        self, client, desks, submit
    ):
        number = submit().json["number"]
        task = only_task(client, desks["scjg"])

        bare = complete(client, desks["scjg"], task["id"], outcome="deny")
        blank = complete(client, desks["scjg"], task["id"], outcome="deny", comment="   ")

        assert bare.status_code == 422
        assert bare.content_type == "application/problem+json"
        assert "comment" in bare.json["errors"]
        assert blank.status_code == 422
        assert not of_type(events(client, desks, number), "step.completed")
        assert complete(client, desks["scjg"], task["id"]).status_code == 204

    def test_an_unknown_outcome_or_field_is_422(self, client, desks, submit):
        submit()
        task = only_task(client, desks["scjg"])

        assert complete(client, desks["scjg"], task["id"], outcome="maybe").status_code == 422
        assert complete(client, desks["scjg"], task["id"], colour="red").status_code == 422
        assert complete(client, desks["scjg"], task["id"]).status_code == 204


class TestDepartmentCorrection:
    def test_a_department_asks_for_materials_and_gets_its_step_back_after_the_supplement(
        self, client, desks, parallel, act
    ):
        created = parallel()
        number = created["number"]
        fire = only_task(client, desks["xfjy"], worker="xfjy-1")

        response = complete(
            client,
            desks["xfjy"],
            fire["id"],
            worker="xfjy-1",
            outcome="correction",
            comment="消防查验报告缺少签章",
            missing=["fire_inspection_report"],
        )
        assert response.status_code == 204, response.json

        case = detail(client, desks, number)
        assert case["state"] == "correction"
        assert [m["code"] for m in case["missing_materials"]] == ["fire_inspection_report"]
        assert case["correction"]["by"] == "xfjy"
        (asking,) = [s for s in case["steps"] if s["department"] == "xfjy"]
        assert asking["state"] == "awaiting_supplement"
        assert [(m["code"], m["department"]) for m in asking["missing"]] == [
            ("fire_inspection_report", "xfjy")
        ]
        assert case["correction"]["note"] == "消防查验报告缺少签章"
        status = client.post(
            "/api/v1/status", json={"number": number, "query_code": created["query_code"]}
        ).json
        assert status["state"] == "correction"
        assert status["missing_materials"] == ["建设工程消防查验报告"]
        assert fetched(client, desks["xfjy"], worker="xfjy-2") == []
        # the other departments go on with their own steps meanwhile
        approve_stage_zero(client, desks, ("zjj", "zrzy"))
        assert fetched(client, desks["zjj"], worker="peek") == []

        supplemented = act(number, "supplement", {"materials": ["fire_inspection_report"]})
        assert supplemented.status_code == 200, supplemented.json
        assert supplemented.json["state"] == "in_progress"
        assert supplemented.json["missing_materials"] == []

        again = only_task(client, desks["xfjy"], worker="xfjy-2")
        assert again["id"] == fire["id"]
        assert again["attempt"] == 2
        assert complete(client, desks["xfjy"], again["id"], worker="xfjy-2").status_code == 204
        opinion = only_task(client, desks["zjj"], worker="zjj-2")
        assert opinion["step"]["code"] == "joint_acceptance_opinion"
        assert detail(client, desks, number)["state"] == "in_progress"

    def test_the_window_can_neither_accept_nor_refuse_a_case_a_department_sent_back(
        self, client, desks, submit, act
    ):
        number = submit().json["number"]
        task = only_task(client, desks["scjg"])
        asked = complete(
            client, desks["scjg"], task["id"], outcome="correction", missing=["food_safety_rules"]
        )
        assert asked.status_code == 204, asked.json

        case = detail(client, desks, number)
        assert case["state"] == "correction"
        assert "accept" not in case["allowed_actions"]
        assert "refuse" not in case["allowed_actions"]
        refused = act(number, "refuse", {"reason": "x", "rights_notice": "y"})
        assert refused.status_code == 409

    def test_a_correction_must_name_materials_of_the_item(self, client, desks, submit):
        number = submit().json["number"]
        task = only_task(client, desks["scjg"])

        empty = complete(client, desks["scjg"], task["id"], outcome="correction")
        foreign = complete(
            client, desks["scjg"], task["id"], outcome="correction", missing=["labour_contract"]
        )

        assert empty.status_code == 422
        assert "missing" in empty.json["errors"]
        assert foreign.status_code == 422
        assert detail(client, desks, number)["state"] == "in_progress"


class TestWithdrawal:
    def test_withdrawal_cancels_open_steps_and_a_late_completion_is_409(
        self, client, desks, parallel, act
    ):
        number = parallel()["number"]
        held = only_task(client, desks["zjj"])

        response = act(number, "withdraw", {"reason": "申请人撤回申请"})

        assert response.status_code == 200, response.json
        assert response.json["state"] == "withdrawn"
        assert {s["state"] for s in response.json["steps"]} == {"cancelled"}
        late = complete(client, desks["zjj"], held["id"])
        assert late.status_code == 409
        assert late.content_type == "application/problem+json"
        assert fetched(client, desks["zrzy"]) == []
        assert fetched(client, desks["xfjy"]) == []
        record = events(client, desks, number)
        (cancelled,) = of_type(record, "steps.cancelled")
        assert cancelled["details"]["count"] == 3
        assert not of_type(record, "step.completed")


class TestFailures:
    def test_a_failure_with_retries_left_comes_back_only_after_the_retry_delay(
        self, client, desks, submit, frozen_clock
    ):
        submit()
        task = only_task(client, desks["scjg"], worker="w1")

        response = report(
            client,
            desks["scjg"],
            task["id"],
            "failure",
            worker_id="w1",
            error_message="审批系统连接超时",
            error_details="timeout after 30 s",
            retries=2,
            retry_seconds=60,
        )

        assert response.status_code == 204, response.json
        assert fetched(client, desks["scjg"], worker="w2") == []
        frozen_clock.moment += timedelta(seconds=59)
        assert fetched(client, desks["scjg"], worker="w2") == []
        frozen_clock.moment += timedelta(seconds=2)
        again = only_task(client, desks["scjg"], worker="w2")
        assert (again["id"], again["attempt"], again["retries"]) == (task["id"], 2, 2)
        assert complete(client, desks["scjg"], task["id"], worker="w1").status_code == 409
        assert complete(client, desks["scjg"], task["id"], worker="w2").status_code == 204

    def test_a_failure_without_retries_is_an_incident_until_a_supervisor_sets_retries(
        self, client, desks, submit
    ):
        number = submit().json["number"]
        task = only_task(client, desks["scjg"])

        response = report(
            client,
            desks["scjg"],
            task["id"],
            "failure",
            worker_id="w1",
            error_message="证照库返回格式错误",
            retries=0,
        )

        assert response.status_code == 204, response.json
        assert fetched(client, desks["scjg"], worker="w2") == []
        for role in ("supervisor", "admin", "oversight"):
            listed = client.get("/api/v1/incidents", headers=bearer(desks[role]))
            assert listed.status_code == 200, role
            assert [(i["id"], i["application_number"]) for i in listed.json] == [
                (task["id"], number)
            ]
            assert listed.json[0]["state"] == "incident"
            assert listed.json[0]["error_message"] == "证照库返回格式错误"
        elsewhere = client.get("/api/v1/incidents", headers=bearer(desks["zjj_supervisor"]))
        assert elsewhere.json == []
        for role in ("scjg", "window"):
            assert client.get("/api/v1/incidents", headers=bearer(desks[role])).status_code == 403

        assert report(client, desks["scjg"], task["id"], "retries", retries=3).status_code == 403
        other = report(client, desks["zjj_supervisor"], task["id"], "retries", retries=3)
        assert other.status_code == 404
        assert fetched(client, desks["scjg"], worker="w2") == []
        cleared = report(client, desks["supervisor"], task["id"], "retries", retries=3)
        assert cleared.status_code == 204, cleared.json

        again = only_task(client, desks["scjg"], worker="w2")
        assert (again["id"], again["retries"], again["attempt"]) == (task["id"], 3, 2)
        assert client.get("/api/v1/incidents", headers=bearer(desks["admin"])).json == []
        types = [e["type"] for e in events(client, desks, number)]
        assert "step.incident" in types and "step.retries_set" in types

    def test_retries_cannot_be_set_on_a_task_that_is_not_an_incident(self, client, desks, submit):
        submit()
        task = only_task(client, desks["scjg"])

        response = report(client, desks["admin"], task["id"], "retries", retries=3)

        assert response.status_code == 409
        assert complete(client, desks["scjg"], task["id"]).status_code == 204


class TestLeases:
    def test_the_holder_extends_its_lease_and_another_worker_cannot(
        self, client, desks, submit, frozen_clock
    ):
        submit()
        task = only_task(client, desks["scjg"], worker="w1", lock_seconds=60)

        extended = report(
            client, desks["scjg"], task["id"], "extend-lock", worker_id="w1", lock_seconds=600
        )
        foreign = report(
            client, desks["scjg"], task["id"], "extend-lock", worker_id="w2", lock_seconds=600
        )

        assert extended.status_code == 204, extended.json
        assert foreign.status_code == 409
        frozen_clock.moment += timedelta(seconds=120)
        assert fetched(client, desks["scjg"], worker="w2") == []
        assert complete(client, desks["scjg"], task["id"], worker="w1").status_code == 204

    def test_unlocking_gives_the_task_back_to_the_queue(self, client, desks, submit):
        submit()
        task = only_task(client, desks["scjg"], worker="w1")

        foreign = report(client, desks["scjg"], task["id"], "unlock", worker_id="w2")
        foreign_failure = report(
            client,
            desks["scjg"],
            task["id"],
            "failure",
            worker_id="w2",
            error_message="不是我的任务",
            retries=0,
        )
        own = report(client, desks["scjg"], task["id"], "unlock", worker_id="w1")

        assert foreign.status_code == 409
        assert foreign_failure.status_code == 409
        assert own.status_code == 204, own.json
        again = only_task(client, desks["scjg"], worker="w2")
        assert (again["id"], again["attempt"]) == (task["id"], 2)
        assert complete(client, desks["scjg"], task["id"], worker="w1").status_code == 409
        assert complete(client, desks["scjg"], task["id"], worker="w2").status_code == 204

    def test_an_expired_lease_goes_to_another_worker_and_the_late_completion_is_409(
        self, client, desks, submit, frozen_clock
    ):
        number = submit().json["number"]
        task = only_task(client, desks["scjg"], worker="w1", lock_seconds=30)
        expires = datetime.fromisoformat(task["lock_expires_at"])
        assert expires == frozen_clock.moment + timedelta(seconds=30)

        frozen_clock.moment += timedelta(seconds=31)
        expired = complete(client, desks["scjg"], task["id"], worker="w1")
        extend = report(
            client, desks["scjg"], task["id"], "extend-lock", worker_id="w1", lock_seconds=60
        )
        again = only_task(client, desks["scjg"], worker="w2")
        late = complete(client, desks["scjg"], task["id"], worker="w1")

        assert expired.status_code == 409
        assert extend.status_code == 409
        assert (again["id"], again["attempt"]) == (task["id"], 2)
        assert late.status_code == 409
        assert complete(client, desks["scjg"], task["id"], worker="w2").status_code == 204
        (done,) = of_type(events(client, desks, number), "step.completed")
        assert done["details"]["attempt"] == 2

    def test_a_report_naming_another_attempt_than_the_current_one_is_refused(
        self, client, desks, submit
    ):
        submit()
        first = only_task(client, desks["scjg"], worker="w")
        assert (
            report(client, desks["scjg"], first["id"], "unlock", worker_id="w").status_code == 204
        )
        task = only_task(client, desks["scjg"], worker="w")  # the same worker, a new attempt
        assert (task["id"], task["attempt"]) == (first["id"], first["attempt"] + 1)

        older = complete(client, desks["scjg"], task["id"], worker="w", attempt=first["attempt"])
        unknown = complete(client, desks["scjg"], task["id"], worker="w", attempt=99)
        current = complete(client, desks["scjg"], task["id"], worker="w", attempt=task["attempt"])

        assert older.status_code == 409, older.json
        assert unknown.status_code == 409, unknown.json
        assert current.status_code == 204, current.json


class TestOtherDepartments:
    def test_another_departments_task_is_404_for_every_report(self, client, desks, submit):
        submit()
        task = only_task(client, desks["scjg"], worker="w1")
        reports = {
            "complete": {"outcome": "approve"},
            "failure": {"error_message": "x", "retries": 0},
            "extend-lock": {"lock_seconds": 60},
            "unlock": {},
        }

        for what, body in reports.items():
            response = report(client, desks["zjj"], task["id"], what, worker_id="w1", **body)
            assert response.status_code == 404, what
            assert response.content_type == "application/problem+json"
        for unknown in ("999999", "not-a-number"):
            assert complete(client, desks["scjg"], unknown).status_code == 404
        assert complete(client, desks["scjg"], task["id"], worker="w1").status_code == 204


class TestSimultaneousCompletion:
    def test_twelve_simultaneous_completions_of_one_task_succeed_exactly_once(
        self, app, client, desks, submit
    ):
        number = submit().json["number"]
        task = only_task(client, desks["scjg"], worker="w1", lock_seconds=300)
        start = threading.Barrier(SIMULTANEOUS, timeout=30)

        def send(_):
            own_client = app.test_client()
            start.wait()
            return complete(own_client, desks["scjg"], task["id"], worker="w1").status_code

        with ThreadPoolExecutor(max_workers=SIMULTANEOUS) as pool:
            statuses = Counter(pool.map(send, range(SIMULTANEOUS)))

        assert statuses == Counter({204: 1, 409: SIMULTANEOUS - 1})
        record = events(client, desks, number)
        assert len(of_type(record, "step.completed")) == 1
        assert [e["details"]["stage"] for e in of_type(record, "stage.opened")] == [0, 1]

    def test_twelve_simultaneous_fetches_hand_the_task_to_one_worker(self, app, desks, submit):
        submit()
        start = threading.Barrier(SIMULTANEOUS, timeout=30)

        def send(index):
            own_client = app.test_client()
            start.wait()
            return fetched(own_client, desks["scjg"], worker=f"w{index}")

        with ThreadPoolExecutor(max_workers=SIMULTANEOUS) as pool:
            handed = [task for tasks in pool.map(send, range(SIMULTANEOUS)) for task in tasks]

        assert [(t["step"]["code"], t["attempt"]) for t in handed] == [("food_licence_review", 1)]

    def test_a_withdrawal_racing_the_last_completion_never_both_succeed(
        self, app, client, desks, submit
    ):
        for _round in range(ROUNDS):
            created = submit(intake_body(item=COMPANY, materials=COMPANY_REQUIRED)).json
            number = created["number"]
            task = only_task(client, desks["scjg"], worker="w1")
            start = threading.Barrier(2, timeout=30)
            headers = {**bearer(desks["window"]), "If-Match": f'"{created["version"]}"'}

            def withdraw(number=number, headers=headers, start=start):
                own_client = app.test_client()
                start.wait()
                return own_client.post(
                    f"/api/v1/applications/{number}/actions/withdraw",
                    json={"reason": "申请人撤回"},
                    headers=headers,
                ).status_code

            def finish(task_id=task["id"], start=start):
                own_client = app.test_client()
                start.wait()
                return complete(own_client, desks["scjg"], task_id, worker="w1").status_code

            with ThreadPoolExecutor(max_workers=2) as pool:
                withdrawn, completed = pool.submit(withdraw), pool.submit(finish)
                statuses = (withdrawn.result(), completed.result())

            case = detail(client, desks, number)
            if statuses[0] == 200:
                assert statuses[1] == 409
                assert (case["state"], case["steps"][0]["state"]) == ("withdrawn", "cancelled")
            else:
                assert statuses == (statuses[0], 204) and statuses[0] in (409, 412), statuses
                assert (case["state"], case["steps"][0]["state"]) == ("result_ready", "completed")


class TestSpecialProcedure:
    def test_a_stage_finished_during_a_special_procedure_moves_on_when_it_ends(
        self, client, desks, parallel, act
    ):
        number = parallel()["number"]
        approve_stage_zero(client, desks, ("zjj", "zrzy"))
        fire = only_task(client, desks["xfjy"], worker="xfjy-1")
        suspended = act(
            number,
            "suspend",
            {"reason": "组织专家论证", "kind": "expert_review", "expected_days": 3},
        )
        assert suspended.status_code == 200, suspended.json

        during = complete(client, desks["xfjy"], fire["id"], worker="xfjy-1")

        # the department's work is taken; the next stage waits for the procedure to end
        assert during.status_code == 204, during.json
        paused = detail(client, desks, number)
        assert paused["state"] == "suspended"
        assert {s["stage"] for s in paused["steps"]} == {0}
        assert fetched(client, desks["zjj"], worker="zjj-peek") == []
        resumed = act(number, "resume", {"result": "专家论证通过"})
        assert resumed.status_code == 200, resumed.json
        opinion = fetched(client, desks["zjj"], worker="zjj-2")
        assert [t["step"]["code"] for t in opinion] == ["joint_acceptance_opinion"], detail(
            client, desks, number
        )["steps"]

    def test_a_correction_asked_during_a_special_procedure_waits_for_its_end(
        self, client, desks, submit, act
    ):
        number = submit().json["number"]
        task = only_task(client, desks["scjg"])
        act(number, "suspend", {"reason": "检测", "kind": "testing", "expected_days": 2})

        asked = complete(
            client, desks["scjg"], task["id"], outcome="correction", missing=["food_safety_rules"]
        )

        assert asked.status_code == 204, asked.json
        assert detail(client, desks, number)["state"] == "suspended"
        resumed = act(number, "resume", {"result": "检测合格"}).json
        assert resumed["state"] == "correction"
        assert [m["code"] for m in resumed["missing_materials"]] == ["food_safety_rules"]
