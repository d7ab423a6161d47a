"""What every staff page shows of a case's steps: per stage, per department, with labels."""

from types import SimpleNamespace

from ..workflows.step import STEP

STEP_OUTCOMES = {"approve": "同意", "deny": "不同意", "correction": "需补正"}


def stages_of(application, names: dict) -> list[SimpleNamespace]:
    """The steps grouped by stage (``number`` counted from 1), each stage's steps by department;
    ``names`` maps department codes to names."""
    stages: dict[int, list] = {}
    for step in sorted(application.steps, key=lambda s: (s.stage, s.department, s.id)):
        stages.setdefault(step.stage, []).append(
            SimpleNamespace(
                name=step.name,
                code=step.code,
                department=names.get(step.department, step.department),
                state=step.state,
                state_label=STEP.labels.get(step.state, step.state),
                attempt=step.attempt,
                retries=step.retries,
                error_message=step.error_message,
                outcome=step.outcome,
                outcome_label=STEP_OUTCOMES.get(step.outcome, step.outcome),
                comment=step.comment,
                due_date=step.due_date,
                due_date_provisional=step.due_date_provisional,
                completed_at=step.completed_at,
            )
        )
    return [SimpleNamespace(number=n + 1, steps=s) for n, s in sorted(stages.items())]
