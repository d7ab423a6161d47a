"""Believable department systems polling a running engine over HTTP, and a simulated window.

Most departments use the native task API; those listed in ``camunda`` use the real Camunda
external-task client against the Camunda facade. Outcome shares and delays are configurable.
"""

import logging
import random
import threading
import uuid
from dataclasses import dataclass, field

import requests

log = logging.getLogger("windowsvc.simulate")
TIMEOUT = 40


@dataclass
class Behaviour:
    """How a simulated department behaves."""

    min_delay: float = 0.5
    max_delay: float = 3.0
    correction_share: float = 0.05
    deny_share: float = 0.05
    failure_share: float = 0.05
    seed: int | None = None
    rng: random.Random = field(init=False)

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def choose(self) -> str:
        """approve, deny, correction or failure, by the configured shares."""
        roll = self.rng.random()
        for outcome, share in (
            ("correction", self.correction_share),
            ("deny", self.deny_share),
            ("failure", self.failure_share),
        ):
            if roll < share:
                return outcome
            roll -= share
        return "approve"

    def pause(self, stop: threading.Event):
        stop.wait(self.rng.uniform(self.min_delay, self.max_delay))


DENIALS = ["申请材料与实际情况不符", "经营场所不符合相关标准", "现场核查未通过"]


def _decision(task_materials: list, behaviour: Behaviour, department: str):
    outcome = behaviour.choose()
    if outcome == "deny":
        return {"outcome": "deny", "comment": behaviour.rng.choice(DENIALS)}
    if outcome == "correction":
        codes = [m["code"] for m in task_materials if m.get("source") == "applicant"]
        if codes:
            return {"outcome": "correction", "comment": "材料需重新提交", "missing": codes[:1]}
    if outcome == "failure":
        return {"outcome": "failure"}
    serial = uuid.uuid4().hex[:8].upper()
    return {
        "outcome": "approve",
        "comment": "审核通过",
        "result": {"document": f"{department.upper()}-{serial}"},
    }


class NativeDepartment(threading.Thread):
    """A department system on the native API: long-poll, think, report."""

    def __init__(self, base_url, department, token, behaviour, stop):
        super().__init__(name=f"dept-{department}", daemon=True)
        self.base_url, self.department, self.behaviour, self.stop = (
            base_url,
            department,
            behaviour,
            stop,
        )
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.worker_id = f"sim-{department}-{uuid.uuid4().hex[:6]}"
        self.handled = 0

    def run(self):
        while not self.stop.is_set():
            try:
                self._once()
            except requests.RequestException as exc:
                log.warning("%s: %s; retrying", self.department, exc)
                self.stop.wait(2)

    def _once(self):
        response = self.session.post(
            f"{self.base_url}/api/v1/tasks/fetch-and-lock",
            json={
                "worker_id": self.worker_id,
                "max_tasks": 5,
                "lock_seconds": 60,
                "wait_seconds": 20,
            },
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        for task in response.json():
            self.behaviour.pause(self.stop)
            decision = _decision(task["application"]["materials"], self.behaviour, self.department)
            base = f"{self.base_url}/api/v1/tasks/{task['id']}"
            if decision["outcome"] == "failure":
                retries = (task["retries"] if task["retries"] is not None else 3) - 1
                body = {
                    "worker_id": self.worker_id,
                    "error_message": "业务系统接口超时 (模拟)",
                    "retries": max(retries, 0),
                    "retry_seconds": 5,
                }
                self.session.post(f"{base}/failure", json=body, timeout=TIMEOUT)
            else:
                body = {"worker_id": self.worker_id, **decision}
                self.session.post(f"{base}/complete", json=body, timeout=TIMEOUT)
            self.handled += 1
            log.info(
                "%s handled %s (%s): %s",
                self.department,
                task["application"]["number"],
                task["step"]["name"],
                decision["outcome"],
            )


class CamundaDepartment(threading.Thread):
    """A department system running the real Camunda external-task client against the facade."""

    def __init__(self, base_url, department, token, topics, behaviour, stop):
        super().__init__(name=f"camunda-{department}", daemon=True)
        self.base_url, self.department, self.topics = base_url, department, topics
        self.behaviour, self.stop, self.token = behaviour, stop, token
        self.handled = 0

    def run(self):
        from camunda.external_task.external_task_worker import (
            ExternalTaskWorker,
            NoExternalTaskFound,
        )

        worker = ExternalTaskWorker(
            worker_id=f"camunda-{self.department}",
            base_url=f"{self.base_url}/engine-rest",
            config={
                "auth_bearer": {"access_token": self.token},
                "maxTasks": 5,
                "lockDuration": 60000,
                "asyncResponseTimeout": 20000,
                "retries": 3,
                "retryTimeout": 5000,
                "sleepSeconds": 2,
            },
        )
        while not self.stop.is_set():
            try:
                worker.fetch_and_execute(self.topics, self._handle)
            except NoExternalTaskFound:
                continue
            except Exception as exc:  # the client raises plain Exceptions on HTTP errors
                log.warning("camunda %s: %s", self.department, exc)
                self.stop.wait(2)

    def _handle(self, task):
        self.behaviour.pause(self.stop)
        materials = task.get_variable("materials")
        import json

        decision = _decision(
            json.loads(materials) if materials else [], self.behaviour, self.department
        )
        self.handled += 1
        log.info(
            "camunda %s handled %s: %s",
            self.department,
            task.get_business_key(),
            decision["outcome"],
        )
        if decision["outcome"] == "failure":
            return task.failure("业务系统接口超时 (模拟)", "simulated", 3, 5000)
        if decision["outcome"] == "deny":
            return task.bpmn_error("DENY", decision["comment"])
        if decision["outcome"] == "correction":
            return task.bpmn_error(
                "CORRECTION", decision["comment"], {"missing": decision["missing"]}
            )
        return task.complete({"outcome": "approve", **decision["result"]})
