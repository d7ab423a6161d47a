"""The Camunda 7 facade, driven by the real `camunda-external-task-client-python3` over HTTP."""

import json
import threading

import pytest
import requests
from camunda.client.external_task_client import ExternalTaskClient
from camunda.external_task.external_task_worker import ExternalTaskWorker, NoExternalTaskFound

from tests.factories import PARALLEL, PARALLEL_REQUIRED, bearer, intake_body, staff_view


@pytest.fixture(autouse=True)
def _march_2026(frozen_clock):
    """Cases accepted in March 2026 (all deadlines inside the calendar's known years)."""
    return frozen_clock


@pytest.fixture
def server(served):
    """The engine's base URL over loopback HTTP."""
    return served


@pytest.fixture
def departments(app, tokens):
    """Backoffice tokens for the three departments of the parallel item."""
    from windowsvc.services.admin import credentials

    made = {"zjj": tokens["zjj"]}
    with app.app_context():
        for department in ("zrzy", "xfjy"):
            made[department] = credentials.create("backoffice", f"{department}系统", department)[1]
    return made


def _client(server, token, worker="camunda-worker", **config):
    settings = {
        "auth_bearer": {"access_token": token},
        "maxTasks": 5,
        "lockDuration": 60000,
        "asyncResponseTimeout": 0,
        **config,
    }
    return ExternalTaskClient(worker, engine_base_url=f"{server}/engine-rest", config=settings)


def _topic(client_http, server, token, item=PARALLEL, department="zjj"):
    item_json = requests.get(f"{server}/api/v1/items/{item}", timeout=5).json()
    return next(s["topic"] for s in item_json["stages"][0] if s["department"] == department)


def _parallel_case(submit):
    created = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
    assert created.status_code == 201, created.json
    return created.json["number"]


class TestFetchAndLock:
    def test_the_client_fetches_typed_variables_in_camunda_shape(self, server, submit, departments):
        number = _parallel_case(submit)
        client = _client(server, departments["zjj"])
        topic = _topic(None, server, None)
        tasks = client.fetch_and_lock(topic)
        assert len(tasks) == 1
        task = tasks[0]
        assert task["topicName"] == topic and task["workerId"] == "camunda-worker"
        assert task["businessKey"] == number and task["processInstanceId"] == number
        variables = task["variables"]
        assert variables["applicationNumber"] == {
            "type": "String",
            "value": number,
            "valueInfo": {},
        }
        assert variables["applicant"]["type"] == "Json"
        assert json.loads(variables["applicant"]["value"])["name"] == "张三丰"
        assert {m["code"] for m in json.loads(variables["materials"]["value"])} >= {
            "business_licence"
        }
        # lockExpirationTime in Camunda's format, about lockDuration from now
        assert len(task["lockExpirationTime"]) == len("2026-03-02T10:00:00.000+0800")

    def test_fetch_answers_a_json_array_and_other_departments_get_nothing(
        self, server, submit, departments, tokens
    ):
        _parallel_case(submit)
        topic = _topic(None, server, None)
        response = requests.post(
            f"{server}/engine-rest/external-task/fetchAndLock",
            json={
                "workerId": "w",
                "maxTasks": 5,
                "usePriority": True,
                "sorting": None,
                "topics": [{"topicName": topic, "lockDuration": 1000, "processVariables": {}}],
            },
            headers=bearer(tokens["scjg"]),
            timeout=10,
        )
        assert response.status_code == 200 and response.json() == []
        assert response.headers["Content-Type"].startswith("application/json")

    def test_long_polling_returns_when_a_task_appears(self, server, submit, departments):
        client = _client(server, departments["zjj"], asyncResponseTimeout=8000)
        topic = _topic(None, server, None)
        result = {}
        poller = threading.Thread(target=lambda: result.update(tasks=client.fetch_and_lock(topic)))
        poller.start()
        number = _parallel_case(submit)
        poller.join(timeout=15)
        assert not poller.is_alive()
        assert [t["businessKey"] for t in result["tasks"]] == [number]

    def test_a_request_without_a_token_is_401_in_camunda_shape(self, server):
        response = requests.post(
            f"{server}/engine-rest/external-task/fetchAndLock", json={"workerId": "w"}, timeout=5
        )
        assert response.status_code == 401 and set(response.json()) == {"type", "message"}


class TestWorkerOutcomes:
    def test_a_real_worker_approves_every_step_and_the_case_moves_on(
        self, server, client, tokens, submit, departments
    ):
        number = _parallel_case(submit)
        item = requests.get(f"{server}/api/v1/items/{PARALLEL}", timeout=5).json()
        for department in ("zjj", "zrzy", "xfjy"):
            topic = next(s["topic"] for s in item["stages"][0] if s["department"] == department)
            worker = ExternalTaskWorker(
                worker_id=f"{department}-worker",
                base_url=f"{server}/engine-rest",
                config={
                    "auth_bearer": {"access_token": departments[department]},
                    "asyncResponseTimeout": 0,
                    "maxTasks": 1,
                },
            )
            # complete without an outcome variable approves; extra variables become results
            worker.fetch_and_execute(topic, lambda t: t.complete({"licenceNumber": "JG-2026-1"}))
        case = staff_view(client, tokens["window"], number)
        stage0 = [s for s in case["steps"] if s["stage"] == 0]
        assert {s["state"] for s in stage0} == {"completed"}
        assert stage0[0]["result"] == {"licenceNumber": "JG-2026-1"}
        assert any(s["stage"] == 1 and s["state"] == "pending" for s in case["steps"])

    def test_complete_with_an_outcome_variable_denies(
        self, server, client, tokens, submit, departments
    ):
        number = _parallel_case(submit)
        camunda = _client(server, departments["zjj"])
        task = camunda.fetch_and_lock(_topic(None, server, None))[0]
        assert camunda.complete(task["id"], {"outcome": "deny", "comment": "质量验收资料不全"})
        step = next(
            s
            for s in staff_view(client, tokens["window"], number)["steps"]
            if s["id"] == task["id"]
        )
        assert (step["state"], step["outcome"], step["comment"]) == (
            "completed",
            "deny",
            "质量验收资料不全",
        )

    def test_bpmn_error_deny_and_correction_map_to_outcomes(
        self, server, client, tokens, submit, departments
    ):
        number = _parallel_case(submit)
        item = requests.get(f"{server}/api/v1/items/{PARALLEL}", timeout=5).json()
        topics = {s["department"]: s["topic"] for s in item["stages"][0]}
        zrzy = _client(server, departments["zrzy"])
        task = zrzy.fetch_and_lock(topics["zrzy"])[0]
        assert zrzy.bpmn_failure(
            task["id"],
            "CORRECTION",
            "请补充竣工测量报告",
            {"missing": ["completion_survey_report"]},
        )
        case = staff_view(client, tokens["window"], number)
        assert case["state"] == "correction"
        assert [m["code"] for m in case["missing_materials"]] == ["completion_survey_report"]
        xfjy = _client(server, departments["xfjy"])
        task = xfjy.fetch_and_lock(topics["xfjy"])[0]
        assert xfjy.bpmn_failure(task["id"], "DENY", "消防设施不符合要求")
        step = next(
            s
            for s in staff_view(client, tokens["window"], number)["steps"]
            if s["id"] == task["id"]
        )
        assert step["outcome"] == "deny" and step["comment"] == "消防设施不符合要求"

    def test_failures_count_retries_down_to_an_incident(
        self, server, client, tokens, submit, departments
    ):
        number = _parallel_case(submit)
        topic = _topic(None, server, None)
        camunda = _client(server, departments["zjj"])
        task = camunda.fetch_and_lock(topic)[0]
        assert camunda.failure(task["id"], "业务系统超时", "timeout after 30s", 1, 0)
        again = camunda.fetch_and_lock(topic)
        assert [t["id"] for t in again] == [task["id"]] and again[0]["retries"] == 1
        assert camunda.failure(task["id"], "业务系统超时", None, 0, 0)
        assert camunda.fetch_and_lock(topic) == []
        incidents = client.get("/api/v1/incidents", headers=bearer(tokens["admin"])).json
        assert [i["application_number"] for i in incidents] == [number]

    def test_a_worker_without_the_lock_is_refused_with_400(self, server, submit, departments):
        _parallel_case(submit)
        topic = _topic(None, server, None)
        holder = _client(server, departments["zjj"], worker="holder")
        other = _client(server, departments["zjj"], worker="other")
        task = holder.fetch_and_lock(topic)[0]
        with pytest.raises(Exception, match="received 400"):
            other.complete(task["id"], {})
        assert holder.complete(task["id"], {})


class TestLocks:
    def _post(self, client, path, body):
        return requests.post(
            f"{client.external_task_base_url}/{path}",
            headers=client._get_headers(),
            json=body,
            timeout=10,
        )

    def test_extend_lock_and_unlock(self, server, submit, departments):
        _parallel_case(submit)
        topic = _topic(None, server, None)
        camunda = _client(server, departments["zjj"], lockDuration=5000)
        task = camunda.fetch_and_lock(topic)[0]
        extended = self._post(
            camunda,
            f"{task['id']}/extendLock",
            {"workerId": "camunda-worker", "newDuration": 600000},
        )
        assert extended.status_code == 204
        foreign = self._post(
            camunda, f"{task['id']}/extendLock", {"workerId": "someone-else", "newDuration": 1000}
        )
        assert foreign.status_code == 400
        assert camunda.fetch_and_lock(topic) == []
        assert self._post(camunda, f"{task['id']}/unlock", {}).status_code == 204
        assert [t["id"] for t in camunda.fetch_and_lock(topic)] == [task["id"]]

    def test_an_unknown_task_is_404(self, server, departments):
        camunda = _client(server, departments["zjj"])
        response = self._post(camunda, "999999/complete", {"workerId": "camunda-worker"})
        assert response.status_code == 404 and set(response.json()) == {"type", "message"}

    def test_worker_without_tasks_raises_no_external_task_found(self, server, departments):
        worker = ExternalTaskWorker(
            worker_id="idle",
            base_url=f"{server}/engine-rest",
            config={"auth_bearer": {"access_token": departments["zjj"]}, "asyncResponseTimeout": 0},
        )
        with pytest.raises(NoExternalTaskFound):
            worker.fetch_and_execute("no-such-topic", lambda t: t.complete({}))


class TestInputBoundary:
    """The facade reads bodies through the API's JSON boundary and answers in Camunda's shape."""

    @staticmethod
    def _raw(server, token, path, text):
        return requests.post(
            f"{server}/engine-rest/external-task/{path}",
            data=text.encode("utf-8", "surrogatepass"),
            headers={**bearer(token), "Content-Type": "application/json"},
            timeout=10,
        )

    @pytest.mark.parametrize(
        ("path", "text"),
        [
            pytest.param("fetchAndLock", '{"workerId": "w", "topics": DEEP}', id="deep-body"),
            pytest.param("1/complete", '{"workerId": "w", "variables": DEEP}', id="deep-complete"),
            pytest.param(
                "1/complete",
                '{"workerId": "w", "variables": {"r": {"type": "Json", "value": "DEEP"}}}',
                id="deep-json-variable",
            ),
            pytest.param("fetchAndLock", '{"workerId": "w", "maxTasks": BIG}', id="5001-digits"),
            pytest.param("fetchAndLock", '{"workerId": "w", "workerId": "v"}', id="duplicate"),
            pytest.param(
                "1/failure", '{"workerId": "w", "errorMessage": "\\ud800"}', id="surrogate"
            ),
            pytest.param(
                "fetchAndLock",
                '{"workerId": "w", "asyncResponseTimeout": NaN, '
                '"topics": [{"topicName": "t", "lockDuration": 1000}]}',
                id="nan",
            ),
            pytest.param(
                "fetchAndLock",
                '{"workerId": "w", "topics": [{"topicName": "t", "lockDuration": 1e300}]}',
                id="huge-lock-duration",
            ),
            pytest.param("1/failure", '{"workerId": "w", "retries": 1099511627776}', id="2**40"),
        ],
    )
    def test_a_refused_body_is_a_camunda_400_never_a_500(self, server, departments, path, text):
        text = text.replace("DEEP", "[" * 1000 + "]" * 1000).replace("BIG", "9" * 5001)
        response = self._raw(server, departments["zjj"], path, text)
        assert response.status_code == 400, response.text
        assert set(response.json()) == {"type", "message"}

    def test_fields_camunda_clients_send_are_still_accepted(self, server, departments):
        body = {
            "workerId": "w",
            "maxTasks": 1,
            "usePriority": True,
            "sorting": [{"sortBy": "createTime", "sortOrder": "asc"}],
            "topics": [{"topicName": "nothing-here", "lockDuration": 1000, "variables": ["a"]}],
        }
        response = self._raw(server, departments["zjj"], "fetchAndLock", json.dumps(body))
        assert response.status_code == 200 and response.json() == []
