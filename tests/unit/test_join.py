"""The AND-join of a stage (并联审批), as a pure function over steps."""

from dataclasses import dataclass, field

from windowsvc.workflows.join import APPROVE, DENY, OPEN_NEXT, WAIT, Next, after_report


@dataclass
class FakeStep:
    """The attributes of a step row the join reads."""

    stage: int
    code: str
    state: str = "pending"
    outcome: str | None = None
    comment: str | None = None
    name: str = "环节"
    department: str = "scjg"
    result: dict = field(default_factory=dict)

    def done(self, outcome="approve", comment=None, result=None):
        self.state, self.outcome, self.comment = "completed", outcome, comment
        self.result = result or {}
        return self


def parallel_stage():
    """Three departments in stage 0, one in stage 1."""
    return [
        FakeStep(0, "quality", department="zjj"),
        FakeStep(0, "planning", department="zrzy"),
        FakeStep(0, "fire", department="xfjy"),
    ]


class TestTheJoin:
    def test_a_stage_with_an_open_step_waits(self):
        steps = parallel_stage()
        steps[0].done()
        steps[1].done()
        assert after_report(steps, 2) == Next(WAIT)

    def test_the_last_of_three_approvals_opens_the_next_stage(self):
        steps = [s.done() for s in parallel_stage()]
        assert after_report(steps, 2) == Next(OPEN_NEXT, stage=1)

    def test_after_the_last_stage_the_case_is_approved_with_every_result(self):
        steps = [s.done(result={"licence": s.code}) for s in parallel_stage()]
        steps.append(FakeStep(1, "final").done(result={"certificate": "NO.1"}))
        decided = after_report(steps, 2)
        assert decided.action == APPROVE
        assert decided.results == {
            "quality": {"licence": "quality"},
            "planning": {"licence": "planning"},
            "fire": {"licence": "fire"},
            "final": {"certificate": "NO.1"},
        }

    def test_every_denying_department_is_named_in_one_answer(self):
        steps = parallel_stage()
        steps[0].done("deny", "结构不合格")
        steps[1].done()
        steps[2].done("deny", "消防通道不足")
        decided = after_report(steps, 2)
        assert decided.action == DENY
        assert decided.reason == "环节(zjj): 结构不合格；环节(xfjy): 消防通道不足"

    def test_a_deny_waits_for_the_other_departments_of_its_stage(self):
        steps = parallel_stage()
        steps[0].done("deny", "结构不合格")
        assert after_report(steps, 2) == Next(WAIT)

    def test_only_the_current_stage_counts(self):
        steps = [s.done() for s in parallel_stage()]
        steps.append(FakeStep(1, "final"))  # stage 1 opened, still pending
        assert after_report(steps, 2) == Next(WAIT)

    def test_a_cancelled_step_is_not_a_completed_one(self):
        steps = [s.done() for s in parallel_stage()]
        steps[2].state = "cancelled"
        assert after_report(steps, 2) == Next(WAIT)

    def test_a_case_without_steps_waits(self):
        assert after_report([], 1) == Next(WAIT)
