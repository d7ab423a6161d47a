"""Staff views of cases: GET /api/v1/applications and /api/v1/applications/{number}."""

from tests.factories import bearer


def _numbers(client, token, query=""):
    response = client.get(f"/api/v1/applications{query}", headers=bearer(token))
    assert response.status_code == 200, response.json
    return [item["number"] for item in response.json["items"]]


class TestListing:
    def test_the_warning_filter_selects_cases_by_level(self, app, client, tokens, submit):
        from windowsvc.db import write_transaction
        from windowsvc.models import Application

        first, second = submit().json["number"], submit().json["number"]
        with app.app_context(), write_transaction() as session:
            session.query(Application).filter_by(number=first).one().warning_level = "red_card"
        assert sorted(_numbers(client, tokens["window"])) == sorted([first, second])
        assert _numbers(client, tokens["window"], "?warning=red_card") == [first]
        assert _numbers(client, tokens["window"], "?warning=yellow_card") == []


class TestLookup:
    def test_a_number_typed_with_dashes_finds_the_case(self, client, tokens, submit):
        number = submit().json["number"]
        dashed = f"{number[:6]}-{number[6:14]}-{number[14:]}"
        found = client.get(f"/api/v1/applications/{dashed}", headers=bearer(tokens["window"]))
        assert found.status_code == 200, found.json
        assert found.json["number"] == number

    def test_a_number_with_a_wrong_check_character_is_400(self, client, tokens, submit):
        number = submit().json["number"]
        tampered = number[:-1] + ("0" if number[-1] != "0" else "1")
        response = client.get(f"/api/v1/applications/{tampered}", headers=bearer(tokens["window"]))
        assert response.status_code == 400, response.json
