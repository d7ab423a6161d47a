"""schemathesis over the published OpenAPI, with every role's token and without one.

Every operation gets valid and invalid requests generated from its own documentation; every
answer must be no 5xx, a documented status, the documented content type (problem+json for
errors), and a body that matches the documented schema. Deterministic (derandomised) and
bounded: a few examples per operation, role and mode.
"""

from collections import defaultdict

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import bearer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ("window", "supervisor", "oversight", "admin", "scjg", None)
MODES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 2}


def exercise(operation, mode, examples, headers, on_failure) -> int:
    """Send ``examples`` generated requests to one operation; report failures; how many sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        nonlocal sent
        sent += 1
        try:
            case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)
        except (Failure, FailureGroup) as failure:
            on_failure(str(failure)[:600])

    try:
        call()
    except Unsatisfiable:
        if mode is not GenerationMode.NEGATIVE:
            raise  # an operation without inputs has no invalid request to generate
    return sent


def test_every_operation_answers_as_its_documentation_says(app, tokens, submit):
    submit()  # one case, so that some generated requests reach real rows
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures = defaultdict(list)
    sent = 0
    for operation in operations:
        for role in ROLES:
            headers = bearer(tokens[role]) if role else {}
            for mode, examples in MODES.items():
                key = f"{operation.label} as {role or 'anonymous'} ({mode.value})"
                sent += exercise(operation, mode, examples, headers, failures[key].append)
    failures = {key: found for key, found in failures.items() if found}
    assert len(operations) >= 40
    assert sent >= len(operations) * len(ROLES) * 3
    assert failures == {}
