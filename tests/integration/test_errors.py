"""Errors are problem+json answers and change nothing; bad input never produces a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import bearer
from tests.integration.conftest import intake_body

PROBLEM = "application/problem+json"


def _post(client, token, data, content_type="application/json", key="k"):
    return client.post(
        "/api/v1/applications",
        data=data,
        headers={**bearer(token), "Idempotency-Key": key, "Content-Type": content_type},
    )


class TestProblemResponses:
    def test_a_body_that_is_not_json_is_415(self, client, tokens):
        response = _post(
            client, tokens["window"], "item_code=x", "application/x-www-form-urlencoded"
        )
        assert response.status_code == 415 and response.content_type == PROBLEM

    def test_an_oversized_body_is_413(self, client, tokens):
        huge = json.dumps({**intake_body(), "padding": "x" * 300_000})
        response = _post(client, tokens["window"], huge)
        assert response.status_code == 413 and response.content_type == PROBLEM

    def test_malformed_json_is_400(self, client, tokens):
        response = _post(client, tokens["window"], '{"item_code": ')
        assert response.status_code == 400 and response.content_type == PROBLEM

    def test_validation_errors_name_each_field(self, client, tokens):
        body = intake_body()
        body["applicant"] = {"type": "robot", "name": ""}
        response = _post(client, tokens["window"], json.dumps(body))
        assert response.status_code == 422
        assert response.json["status"] == 422 and response.json["type"] == "/problems/validation"
        assert "applicant" in response.json["errors"]

    def test_an_unknown_route_is_a_problem_too(self, client):
        response = client.get("/api/v1/nothing-here")
        assert response.status_code == 404 and response.content_type == PROBLEM

    def test_a_wrong_method_is_405(self, client):
        response = client.delete("/api/v1/items")
        assert response.status_code == 405 and response.content_type == PROBLEM


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["item_code", "channel", "applicant", "materials", "deferred", "delivery", "extra"]
)


class TestNoServerErrors:
    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(body=st.dictionaries(field_names, json_values, max_size=6))
    def test_arbitrary_intake_bodies_never_cause_a_500(self, client, tokens, body):
        merged = {**intake_body(), **body}
        response = _post(
            client,
            tokens["window"],
            json.dumps(merged),
            key=f"fuzz-{hash(json.dumps(merged, sort_keys=True))}",
        )
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            assert response.content_type == PROBLEM

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(number=st.text(max_size=40), code=json_values)
    def test_arbitrary_status_lookups_never_cause_a_500(self, app, number, code):
        client = app.test_client()
        response = client.post("/api/v1/status", json={"number": number, "query_code": code})
        assert response.status_code in (400, 404, 422, 429)
        assert response.content_type == PROBLEM
