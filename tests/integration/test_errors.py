"""Errors are problem+json answers and change nothing; bad input never produces a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import bearer, intake_body

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


def _json_post(client, path, text, token, **headers):
    return client.post(
        path,
        data=text.encode("utf-8", "surrogatepass"),
        headers={**bearer(token), "Content-Type": "application/json", **headers},
    )


DEEP = "[" * 1000 + "]" * 1000


class TestInputBoundary:
    @pytest.mark.parametrize(
        ("path", "role", "body"),
        [
            ("/api/v1/applications", "window", '{"item_code": %s}'),
            ("/api/v1/tasks/fetch-and-lock", "scjg", '{"worker_id": "w", "topics": %s}'),
            ("/api/v1/tasks/1/complete", "scjg", '{"worker_id": "w", "result": {"a": %s}}'),
        ],
    )
    def test_a_body_nested_a_thousand_deep_is_422_not_500(self, client, tokens, path, role, body):
        response = _json_post(client, path, body % DEEP, tokens[role], **{"Idempotency-Key": "d"})
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.content_type == PROBLEM

    def test_nesting_up_to_the_limit_is_left_to_the_schema(self, client, tokens):
        nested = "[" * 63 + "]" * 63
        response = _json_post(
            client,
            "/api/v1/tasks/fetch-and-lock",
            '{"worker_id": "w", "topics": ' + nested + "}",
            tokens["scjg"],
        )
        assert response.status_code == 422
        assert "topics" in response.json["errors"] and "嵌套" not in response.json["detail"]

    def test_a_duplicated_key_is_refused_instead_of_the_last_one_winning(self, client, tokens, app):
        text = json.dumps(intake_body())[:-1] + ', "channel": "online"}'
        response = _post(client, tokens["window"], text)
        assert response.status_code == 422 and response.content_type == PROBLEM
        assert "channel" in response.json["errors"]
        with app.app_context():
            from windowsvc.models import Application

            assert Application.query.count() == 0

    def test_a_duplicated_key_inside_a_nested_object_is_named_with_its_parent(self, client, tokens):
        text = json.dumps(intake_body(), ensure_ascii=False).replace(
            '"name": "张三丰"', '"name": "张三丰", "name": "李四"'
        )
        response = _post(client, tokens["window"], text)
        assert response.status_code == 422
        assert response.json["errors"] == {"applicant": ["name: 字段重复 (duplicate key)"]}

    @pytest.mark.parametrize(
        "bad", [pytest.param("\\ud800", id="lone-surrogate"), pytest.param("\\u0000", id="nul")]
    )
    def test_a_string_the_database_cannot_hold_is_422_naming_the_field(
        self, client, tokens, app, bad
    ):
        text = json.dumps(intake_body(), ensure_ascii=False).replace("张三丰", f"张{bad}丰")
        response = _post(client, tokens["window"], text)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert list(response.json["errors"]) == ["applicant"]
        assert response.json["errors"]["applicant"][0].startswith("name: ")
        with app.app_context():
            from windowsvc.models import Application

            assert Application.query.count() == 0

    @pytest.mark.parametrize("field", ["max_tasks", "lock_seconds"])
    def test_an_integer_of_5001_digits_is_422_naming_the_field(self, client, tokens, field):
        digits = "9" * 5001
        text = f'{{"worker_id": "w", "{field}": {digits}}}'
        response = _json_post(client, "/api/v1/tasks/fetch-and-lock", text, tokens["scjg"])
        assert response.status_code == 422 and response.content_type == PROBLEM
        assert list(response.json["errors"]) == [field]

    @pytest.mark.parametrize(
        ("path", "role", "param"),
        [
            ("/api/v1/applications?item_code=a%00b", "window", "item_code"),
            ("/api/v1/applications?department=a%00b", "window", "department"),
            ("/api/v1/rectifications?department=a%00b", "oversight", "department"),
            ("/api/v1/oversight/access?number=a%00b", "oversight", "number"),
            ("/api/v1/oversight/warnings?department=a%00b", "oversight", "department"),
        ],
    )
    def test_a_nul_byte_in_a_query_string_is_422_naming_the_parameter(
        self, client, tokens, path, role, param
    ):
        response = client.get(path, headers=bearer(tokens[role]))
        assert response.status_code == 422, response.get_data(as_text=True)
        assert list(response.json["errors"]) == [param]

    @pytest.mark.parametrize(
        "path", ["/api/v1/items/a%00b", "/engine-rest/external-task/1%00/unlock"]
    )
    def test_a_nul_byte_in_a_path_names_nothing(self, client, tokens, path):
        response = client.open(
            path, method="GET" if "/items/" in path else "POST", headers=bearer(tokens["scjg"])
        )
        assert response.status_code == 404, response.get_data(as_text=True)

    def test_nan_and_infinity_are_not_json(self, client, tokens):
        text = '{"worker_id": "w", "lock_seconds": NaN}'
        response = _json_post(client, "/api/v1/tasks/fetch-and-lock", text, tokens["scjg"])
        assert response.status_code == 400 and response.content_type == PROBLEM


class TestIntegerBounds:
    @pytest.mark.parametrize(
        ("path", "role"),
        [
            ("/api/v1/applications?page=1" + "0" * 30, "window"),
            ("/api/v1/rectifications?page=1" + "0" * 30, "oversight"),
            ("/api/v1/oversight/access?page=1" + "0" * 30, "oversight"),
            ("/api/v1/oversight/access?principal_id=1" + "0" * 30, "oversight"),
            ("/api/v1/oversight/access?principal_id=2147483648", "oversight"),
        ],
    )
    def test_a_query_integer_of_ten_to_the_thirty_is_422(self, client, tokens, path, role):
        response = client.get(path, headers=bearer(tokens[role]))
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.content_type == PROBLEM

    @pytest.mark.parametrize(
        "id_", ["99999999999999999999", "9223372036854775808", "2147483648", "0", "9" * 5000]
    )
    @pytest.mark.parametrize(
        ("method", "path", "role"),
        [
            ("get", "/api/v1/rectifications/{}", "oversight"),
            ("post", "/api/v1/rectifications/{}/actions/close", "supervisor"),
            ("post", "/api/v1/tasks/{}/unlock", "scjg"),
        ],
    )
    def test_a_path_id_outside_the_stored_id_range_is_404(
        self, client, tokens, method, path, role, id_
    ):
        response = getattr(client, method)(
            path.format(id_), json={"worker_id": "w"}, headers=bearer(tokens[role])
        )
        assert response.status_code == 404, response.get_data(as_text=True)
        assert response.content_type == PROBLEM

    def test_completing_a_task_id_that_fits_but_names_no_task_is_404(self, client, tokens):
        response = client.post(
            f"/api/v1/tasks/{2**40}/complete",
            json={"worker_id": "w", "outcome": "approve"},
            headers=bearer(tokens["scjg"]),
        )
        assert response.status_code == 404, response.get_data(as_text=True)

    def test_a_page_number_of_ten_to_the_twelve_is_422(self, client, tokens):
        response = client.get(
            "/api/v1/applications?page=1000000000000", headers=bearer(tokens["window"])
        )
        assert response.status_code == 422, response.get_data(as_text=True)

    def test_a_deadline_counted_from_the_last_representable_day_is_422(self, client):
        response = client.get("/api/v1/calendar/deadline?start=9999-12-31&working_days=5")
        assert response.status_code == 422, response.get_data(as_text=True)


class TestProblemHeaders:
    def test_a_405_names_the_allowed_methods(self, client):
        response = client.delete("/api/v1/items")
        assert response.status_code == 405 and response.content_type == PROBLEM
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}

    @pytest.mark.parametrize(
        "path", ["/healthz", "/api/v1/items", "/api/v1/nothing-here", "/api/openapi.json"]
    )
    def test_every_answer_forbids_content_sniffing(self, client, path):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff"

    def test_a_refused_body_forbids_content_sniffing_too(self, client, tokens):
        response = _post(client, tokens["window"], "{")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def unreachable_app(database_url, tmp_path):
    """The app pointed at a database that cannot be reached: a vanished SQLite directory, or a
    PostgreSQL port nobody listens on."""
    import socket

    from sqlalchemy.engine import make_url

    from windowsvc import create_app

    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'gone' / 'windowsvc.db'}"
    else:
        with socket.socket() as probe:  # a port that was free a moment ago: connection refused
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = make_url(database_url).set(host="127.0.0.1", port=port).render_as_string(False)
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True})


class TestDatabaseUnavailable:
    @pytest.mark.parametrize(
        ("method", "path", "headers"),
        [
            ("get", "/api/v1/items", {}),
            ("get", "/api/v1/applications", {"Authorization": "Bearer some-token"}),
            ("post", "/engine-rest/external-task/fetchAndLock", {"Authorization": "Bearer t"}),
        ],
    )
    def test_an_unreachable_database_is_503_with_retry_after(
        self, unreachable_app, method, path, headers
    ):
        response = getattr(unreachable_app.test_client(), method)(path, headers=headers)
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.content_type == PROBLEM
        assert int(response.headers["Retry-After"]) > 0


class TestChunkedBodies:
    """Over real HTTP: a body without Content-Length (Transfer-Encoding: chunked)."""

    @staticmethod
    def _chunked(base, token, payload: bytes):
        import http.client
        from urllib.parse import urlsplit

        address = urlsplit(base)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        try:
            connection.request(
                "POST",
                "/api/v1/applications",
                body=(payload[i : i + 8192] for i in range(0, len(payload), 8192)),
                headers={
                    **bearer(token),
                    "Idempotency-Key": "chunked",
                    "Content-Type": "application/json",
                },
                encode_chunked=True,
            )
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type"), response.read()
        finally:
            connection.close()

    def test_a_chunked_body_over_the_limit_is_413_not_cut_short(self, served, tokens, app):
        payload = json.dumps(intake_body()).encode() + b" " * 300_000
        status, content_type, _ = self._chunked(served, tokens["window"], payload)
        assert (status, content_type) == (413, PROBLEM)
        with app.app_context():
            from windowsvc.models import Application

            assert Application.query.count() == 0

    def test_a_chunked_body_within_the_limit_is_read_whole(self, served, tokens):
        payload = json.dumps(intake_body()).encode() + b" " * 100_000
        status, _content_type, body = self._chunked(served, tokens["window"], payload)
        assert status == 201, body
