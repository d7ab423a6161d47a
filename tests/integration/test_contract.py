"""The published contract: OpenAPI served and checked in, docs offline, probes, catalog."""

from pathlib import Path

import pytest

from tests.factories import FOOD, FOOD_REQUIRED, bearer, intake_body

ROOT = Path(__file__).resolve().parents[2]


class TestPublishedArtefacts:
    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    def test_the_checked_in_schemas_are_not_stale(self, app):
        from windowsvc.artifacts import generate

        stale = [
            path
            for path, content in generate(app).items()
            if not (ROOT / "schemas" / path).exists()
            or (ROOT / "schemas" / path).read_text("utf-8") != content
        ]
        assert stale == [], f"run `windowsvc openapi` to regenerate: {stale}"

    def test_the_openapi_document_is_served(self, client):
        spec = client.get("/api/openapi.json").json
        assert spec["openapi"].startswith("3.")
        assert "/api/v1/applications" in spec["paths"]
        assert "/api/v1/applications/{number}/actions/refuse" in spec["paths"]

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    def test_every_documented_error_is_problem_json(self, client):
        spec = client.get("/api/openapi.json").json
        named = spec["components"]["responses"]
        errors = []
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                if method == "parameters":  # the path's own parameters, not an operation
                    continue
                for status, response in operation["responses"].items():
                    if status != "default" and int(status) < 400:
                        continue
                    if "$ref" in response:
                        response = named[response["$ref"].rsplit("/", 1)[1]]
                    errors.append((method, path, status, list(response["content"])))
        assert len(errors) > 80
        assert {tuple(content) for *_, content in errors} == {("application/problem+json",)}
        problem = spec["components"]["schemas"]["Problem"]
        assert problem["properties"]["status"]["type"] == "integer"
        assert set(problem["required"]) == {"type", "title", "status", "detail"}

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    def test_acceptance_numbers_query_codes_and_id_numbers_have_patterns(self, client):
        from windowsvc.rules.acceptance_number import PATTERN

        spec = client.get("/api/openapi.json").json
        [number] = spec["paths"]["/api/v1/applications/{number}"]["parameters"]
        assert number["schema"]["pattern"] == PATTERN
        status = spec["components"]["schemas"]["StatusIn"]["properties"]
        assert status["number"]["pattern"] == PATTERN
        assert status["query_code"]["pattern"] == r"^\d{6}$"
        applicant = spec["components"]["schemas"]["Applicant"]["properties"]
        assert applicant["id_number"]["pattern"]

    def test_the_docs_page_loads_only_local_assets(self, client):
        import re

        page = client.get("/api/docs")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            with client.get(asset) as served:
                assert served.status_code == 200, asset


class TestProbes:
    def test_healthz_answers(self, client):
        assert client.get("/healthz").json == {"status": "ok"}

    def test_readyz_checks_the_migration(self, client, app):
        from sqlalchemy import text

        from windowsvc.extensions import db

        assert client.get("/readyz").status_code == 200
        with app.app_context():
            head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
            db.session.execute(text("UPDATE alembic_version SET version_num = 'old'"))
            db.session.commit()
        try:
            response = client.get("/readyz")
            assert response.status_code == 503 and "windowsvc init" in response.json["detail"]
            assert response.headers["Retry-After"] == "5"
        finally:  # the PostgreSQL database is shared by the whole session
            with app.app_context():
                db.session.execute(
                    text("UPDATE alembic_version SET version_num = :head"), {"head": head}
                )
                db.session.commit()


class TestCatalog:
    def test_the_demo_catalog_has_every_kind_of_item(self, client):
        items = client.get("/api/v1/items").json
        modes = {i["mode"] for i in items}
        assert {"single", "parallel", "bundle"} <= modes
        assert any(i["instant"] for i in items)
        parallel = next(i for i in items if i["mode"] == "parallel")
        assert len({s["department"] for s in parallel["stages"][0]}) == 3
        materials = [m for i in items for m in i["materials"]]
        assert any(m["evidence"] for m in materials) and any(m["deferrable"] for m in materials)

    def test_a_bundle_composes_its_members(self, client):
        bundle = next(i for i in client.get("/api/v1/items").json if i["mode"] == "bundle")
        assert len(bundle["members"]) >= 2
        step_items = {s["item"] for stage in bundle["stages"] for s in stage}
        assert step_items == {m["code"] for m in bundle["members"]}

    def test_an_unknown_item_is_404(self, client):
        assert client.get("/api/v1/items/NOPE-1").status_code == 404

    def test_a_new_version_does_not_change_a_running_case(self, app, client, submit, tmp_path):
        import json
        import shutil

        from windowsvc.catalog import DEMO_DIR

        number = submit().json["number"]
        shutil.copytree(DEMO_DIR, tmp_path / "cat")
        item_file = tmp_path / "cat" / "items" / f"{FOOD.lower()}.json"
        item = json.loads(item_file.read_text("utf-8"))
        item.update(version=2, promised_days=3)
        item_file.write_text(json.dumps(item, ensure_ascii=False), "utf-8")
        result = app.test_cli_runner().invoke(args=["catalog", "load", str(tmp_path / "cat")])
        assert result.exit_code == 0, result.output
        assert client.get(f"/api/v1/items/{FOOD}").json["version"] == 2
        case = client.get(f"/api/v1/applications/{number}", headers=bearer(_window(app))).json
        assert case["item_version"] == 1
        assert submit(intake_body(materials=FOOD_REQUIRED)).json["item_version"] == 2

    def test_changing_a_loaded_version_in_place_is_refused(self, app, tmp_path):
        import json
        import shutil

        from windowsvc.catalog import DEMO_DIR

        shutil.copytree(DEMO_DIR, tmp_path / "cat")
        item_file = tmp_path / "cat" / "items" / f"{FOOD.lower()}.json"
        item = json.loads(item_file.read_text("utf-8"))
        item["promised_days"] = 2
        item_file.write_text(json.dumps(item, ensure_ascii=False), "utf-8")
        result = app.test_cli_runner().invoke(args=["catalog", "load", str(tmp_path / "cat")])
        assert result.exit_code != 0 and "different content" in result.output

    def test_an_invalid_item_file_is_refused_with_its_name(self, app, tmp_path):
        (tmp_path / "items").mkdir()
        (tmp_path / "items" / "bad.json").write_text('{"code": "X"}', "utf-8")
        result = app.test_cli_runner().invoke(args=["catalog", "load", str(tmp_path)])
        assert result.exit_code != 0 and "bad.json" in result.output


def _window(app):
    from windowsvc.services.admin import credentials

    with app.app_context():
        return credentials.create("window", "另一窗口")[1]
