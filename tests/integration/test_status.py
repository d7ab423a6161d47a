"""Citizens' status lookup: POST /api/v1/status."""

from tests.factories import intake_body
from windowsvc.rules import acceptance_number


def _tamper(number):
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


class TestStatusLookup:
    def test_the_applicant_sees_progress_with_masked_personal_data(self, client, submit):
        created = submit().json
        response = client.post(
            "/api/v1/status",
            json={"number": created["number"], "query_code": created["query_code"]},
        )
        assert response.status_code == 200
        body = response.json
        assert body["state_label"] == "办理中"
        assert body["applicant"]["name"] == "张*丰"
        assert body["applicant"]["id_number"] == "110105********002X"
        assert body["applicant"]["phone"] == "138****5678"
        assert [t["label"] for t in body["timeline"]] == ["已收件", "已受理", "办理中"]

    def test_only_allow_listed_fields_leave_the_server(self, client, submit):
        created = submit().json
        response = client.post(
            "/api/v1/status",
            json={"number": created["number"], "query_code": created["query_code"]},
        )
        text = response.get_data(as_text=True)
        assert "11010519491231002X" not in text and "13812345678" not in text
        assert "query_code" not in response.json and "张三丰" not in text
        assert set(response.json) == {
            "number",
            "item_name",
            "state",
            "state_label",
            "applicant",
            "received_at",
            "accepted_at",
            "due_date",
            "due_date_provisional",
            "provisional_note",
            "missing_materials",
            "progress",
            "timeline",
            "result",
            "can_rate",
            "rating",
        }

    def test_numbers_are_normalised_as_people_type_them(self, client, submit):
        created = submit().json
        spaced = " ".join([created["number"][:6], created["number"][6:14], created["number"][14:]])
        response = client.post(
            "/api/v1/status", json={"number": spaced.lower(), "query_code": created["query_code"]}
        )
        assert response.status_code == 200

    def test_a_wrong_code_and_an_unknown_number_get_the_same_404(self, client, submit):
        created = submit().json
        wrong_code = "000000" if created["query_code"] != "000000" else "111111"
        unknown = acceptance_number.compose(
            "330100", acceptance_number.parse(created["number"]).desk_date, "window", 999
        )
        a = client.post(
            "/api/v1/status", json={"number": created["number"], "query_code": wrong_code}
        )
        b = client.post(
            "/api/v1/status", json={"number": unknown, "query_code": created["query_code"]}
        )
        assert a.status_code == b.status_code == 404
        assert a.json["detail"] == b.json["detail"] and a.json["title"] == b.json["title"]

    def test_a_tampered_check_character_is_400_before_any_lookup(self, client, submit):
        created = submit().json
        response = client.post(
            "/api/v1/status",
            json={"number": _tamper(created["number"]), "query_code": created["query_code"]},
        )
        assert response.status_code == 400
        assert "校验位" in response.json["detail"]

    def test_the_query_code_never_travels_in_a_url(self, client, submit):
        created = submit().json
        response = client.get(
            f"/api/v1/status?number={created['number']}&query_code={created['query_code']}"
        )
        assert response.status_code == 405

    def test_a_correction_shows_what_to_bring(self, client, submit):
        created = submit(intake_body(materials=["food_licence_application"])).json
        body = client.post(
            "/api/v1/status",
            json={"number": created["number"], "query_code": created["query_code"]},
        ).json
        assert "食品安全管理制度" in body["missing_materials"]


class TestThrottling:
    def test_repeated_failures_on_one_number_are_throttled_with_retry_after(self, client, submit):
        created = submit().json
        wrong = "000000" if created["query_code"] != "000000" else "111111"
        statuses = [
            client.post(
                "/api/v1/status", json={"number": created["number"], "query_code": wrong}
            ).status_code
            for _ in range(6)
        ]
        assert statuses[:5] == [404] * 5
        assert statuses[5] == 429
        blocked = client.post(
            "/api/v1/status",
            json={"number": created["number"], "query_code": created["query_code"]},
        )
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0
        assert blocked.content_type == "application/problem+json"

    def test_successful_lookups_are_not_counted(self, client, submit):
        created = submit().json
        body = {"number": created["number"], "query_code": created["query_code"]}
        assert {client.post("/api/v1/status", json=body).status_code for _ in range(12)} == {200}

    def test_a_client_guessing_many_numbers_is_throttled(self, client, submit):
        created = submit().json
        desk = acceptance_number.parse(created["number"]).desk_date
        statuses = [
            client.post(
                "/api/v1/status",
                json={
                    "number": acceptance_number.compose("330100", desk, "window", 100 + i),
                    "query_code": "123456",
                },
            ).status_code
            for i in range(11)
        ]
        assert statuses[:10] == [404] * 10 and statuses[10] == 429


class TestProgress:
    def test_progress_shows_each_department_step_and_when_it_finished(self, client, submit, decide):
        created = submit().json
        decide(created["number"])
        body = client.post(
            "/api/v1/status",
            json={"number": created["number"], "query_code": created["query_code"]},
        ).json
        assert [(p["stage"], p["department"], p["state"]) for p in body["progress"]] == [
            (1, "杭州市市场监督管理局", "completed"),
            (2, "杭州市市场监督管理局", "completed"),
        ]
        assert all(p["finished_on"] for p in body["progress"])
        assert body["state"] == "result_ready" and body["result"]["delivered"] is False
