"""SpiffWorkflow 3.2 running 建设工程竣工联合验收 with durable per-step SQLite persistence.

The BPMN (joint_acceptance.bpmn) is start → parallel fork → three user tasks (zjj, zrzy, xfjy) →
parallel join → one user task (zjj) → end. After creating the workflow and after every task the
whole workflow is serialized with ``BpmnWorkflowSerializer`` and written to a SQLite table in its
own committed transaction, with the same SQLite settings windowsvc uses (WAL, synchronous=NORMAL,
BEGIN IMMEDIATE). The workflow stays in memory between steps (it is not reloaded), which is the
cheapest way to run Spiff durably: the comparison is generous to the peer.
"""

import sqlite3
import time
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

BPMN = Path(__file__).with_name("joint_acceptance.bpmn")
PROCESS_ID = "joint_acceptance"
STAGE_0 = ("joint_quality_acceptance", "joint_planning_verification", "joint_fire_acceptance")
STAGE_1 = ("joint_acceptance_opinion",)

SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    serialization TEXT NOT NULL,
    updated_at REAL NOT NULL
)
"""


class SpiffPeer:
    """Runs lifecycles of the joint-acceptance process, persisting after every step."""

    def __init__(self, database_path: Path, reload_each_step: bool = False):
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec(PROCESS_ID)
        self.serializer = BpmnWorkflowSerializer()
        self.connection = sqlite3.connect(str(database_path), isolation_level=None, timeout=30)
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA synchronous=NORMAL",
        ):
            self.connection.execute(pragma)
        self.connection.execute(SCHEMA)
        self.writes = 0
        self.written_bytes = 0
        # A request-serving engine with several processes cannot keep the instance in memory:
        # it loads it from the database for every step, as windowsvc does.
        self.reload_each_step = reload_each_step

    def close(self):
        self.connection.close()

    def _write(self, sql, params):
        """One committed transaction."""
        self.writes += 1
        self.written_bytes += sum(len(p) for p in params if isinstance(p, str))
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(sql, params)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise

    def _persist(self, number, workflow, version):
        state = "completed" if workflow.is_completed() else "running"
        self._write(
            "UPDATE workflows SET state = ?, version = ?, serialization = ?, updated_at = ?"
            " WHERE number = ? AND version = ?",
            (
                state,
                version,
                self.serializer.serialize_json(workflow),
                time.time(),
                number,
                version - 1,
            ),
        )

    def start(self, number: str):
        """Intake: a new workflow instance, run to its first wait state and stored."""
        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        self._write(
            "INSERT INTO workflows (number, state, version, serialization, updated_at)"
            " VALUES (?, 'running', 1, ?, ?)",
            (number, self.serializer.serialize_json(workflow), time.time()),
        )
        return workflow

    def complete(self, number: str, workflow, task_name: str, version: int):
        """A department finishes its task: run it, advance the engine, store the workflow."""
        ready = [
            t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name == task_name
        ]
        if len(ready) != 1:
            raise RuntimeError(f"{number}: task {task_name} not ready")
        ready[0].data["outcome"] = "approve"
        ready[0].run()
        workflow.do_engine_steps()
        self._persist(number, workflow, version)

    def lifecycle(self, serial: int) -> None:
        """One case: start, the three parallel tasks, the join, the final task, completed."""
        number = f"SPIFF{serial:017d}"
        workflow = self.start(number)
        version = 1
        for name in STAGE_0 + STAGE_1:
            version += 1
            if self.reload_each_step:
                workflow = self.load(number)
            self.complete(number, workflow, name, version)
        if not workflow.is_completed():
            raise RuntimeError(f"{number}: workflow not completed")

    def load(self, number: str):
        """The stored workflow instance, deserialized."""
        (text,) = self.connection.execute(
            "SELECT serialization FROM workflows WHERE number = ?", (number,)
        ).fetchone()
        return self.serializer.deserialize_json(text)

    def check(self, expected: int) -> None:
        """Every lifecycle left one completed, durable row."""
        (count,) = self.connection.execute(
            "SELECT count(*) FROM workflows WHERE state = 'completed'"
        ).fetchone()
        if count != expected:
            raise RuntimeError(f"SpiffWorkflow peer: {count} completed rows, expected {expected}")
