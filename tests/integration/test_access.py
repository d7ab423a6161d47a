"""Credentials and roles: 401, 403, 404 and deny-by-default."""

import pytest

from tests.factories import PARALLEL, PARALLEL_REQUIRED, bearer, intake_body
from windowsvc.security import token_hash


class TestAuthentication:
    def test_no_token_is_401_with_a_bearer_challenge(self, client):
        response = client.get("/api/v1/applications")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.content_type == "application/problem+json"

    def test_an_unknown_token_is_401(self, client):
        assert client.get("/api/v1/applications", headers=bearer("wsv_nope")).status_code == 401

    def test_a_revoked_token_is_401(self, app, client):
        from windowsvc.services.admin import credentials

        with app.app_context():
            principal, token = credentials.create("window", "临时窗口")
            assert client.get("/api/v1/applications", headers=bearer(token)).status_code == 200
            credentials.revoke(principal.id)
        assert client.get("/api/v1/applications", headers=bearer(token)).status_code == 401

    @staticmethod
    def _used_then_revoked_elsewhere(app, client, cache_seconds):
        """A token used once, then revoked by another process (the CLI, another worker): only
        the table changes, this worker's memory does not."""
        from sqlalchemy import text

        from windowsvc.extensions import db
        from windowsvc.services.admin import credentials

        app.config["AUTH_CACHE_SECONDS"] = cache_seconds
        with app.app_context():
            principal, token = credentials.create("window", "临时窗口")
            principal_id = principal.id
        assert client.get("/api/v1/applications", headers=bearer(token)).status_code == 200
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(
                text("UPDATE principals SET revoked_at = CURRENT_TIMESTAMP WHERE id = :id"),
                {"id": principal_id},
            )
        return token

    def test_a_token_revoked_elsewhere_works_only_until_the_cache_time_ends(self, app, client):
        token = self._used_then_revoked_elsewhere(app, client, cache_seconds=3600)
        # remembered by this worker for AUTH_CACHE_SECONDS (the documented revocation delay)
        assert client.get("/api/v1/applications", headers=bearer(token)).status_code == 200
        known = app.extensions["windowsvc_known_tokens"].entries
        actor, _valid_until = known[token_hash(token)]
        known[token_hash(token)] = (actor, 0.0)  # the cache time has run out
        assert client.get("/api/v1/applications", headers=bearer(token)).status_code == 401

    def test_a_lookup_overtaken_by_a_revocation_here_does_not_remember_the_token(
        self, app, client, monkeypatch
    ):
        from windowsvc.services.admin import credentials

        app.config["AUTH_CACHE_SECONDS"] = 3600
        with app.app_context():
            principal, token = credentials.create("window", "临时窗口")
            principal_id = principal.id
        execute = credentials.db.session.execute

        def read_then_revoked(*args, **kwargs):
            row = execute(*args, **kwargs)  # read before the revocation commits...
            result = row.first()
            credentials.revoke(principal_id)  # ...which this process then makes
            return type("Rows", (), {"first": lambda self: result})()

        monkeypatch.setattr(credentials.db.session, "execute", read_then_revoked)
        with app.test_request_context():
            assert credentials.authenticate(token) is not None  # the answer it had read
        monkeypatch.undo()
        assert client.get("/api/v1/applications", headers=bearer(token)).status_code == 401

    def test_without_the_cache_a_revocation_elsewhere_is_immediate(self, app, client):
        token = self._used_then_revoked_elsewhere(app, client, cache_seconds=0)
        assert client.get("/api/v1/applications", headers=bearer(token)).status_code == 401

    def test_tokens_are_stored_hashed(self, app):
        from windowsvc.models import Principal
        from windowsvc.services.admin import credentials

        with app.app_context():
            _principal, token = credentials.create("oversight", "监察员")
            hashes = [p.token_hash for p in Principal.query.all()]
            assert token not in hashes and all(len(h) == 64 for h in hashes)


class TestRoles:
    @pytest.mark.parametrize("role", ["supervisor", "oversight", "scjg", "admin"])
    def test_only_the_window_role_submits(self, submit, tokens, role):
        assert submit(token=tokens[role]).status_code == 403

    def test_a_department_sees_only_cases_with_its_steps(self, client, tokens, submit):
        number = submit().json["number"]  # a scjg item
        own = client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["scjg"]))
        other = client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["zjj"]))
        assert own.status_code == 200
        assert other.status_code == 404
        assert other.json["detail"] == client.get(
            "/api/v1/applications/3301002026030210009997", headers=bearer(tokens["zjj"])
        ).json["detail"].replace("3301002026030210009997", number)

    def test_a_department_lists_only_its_own_cases(self, client, tokens, submit):
        submit()
        assert client.get("/api/v1/applications", headers=bearer(tokens["zjj"])).json["total"] == 0
        assert client.get("/api/v1/applications", headers=bearer(tokens["scjg"])).json["total"] == 1

    def test_a_department_lists_the_cases_it_has_a_step_in_that_another_leads(
        self, app, client, submit, frozen_clock
    ):
        from windowsvc.services.admin import credentials

        with app.app_context():
            zrzy = credentials.create("backoffice", "规划系统", "zrzy")[1]
        number = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED)).json["number"]
        listing = client.get("/api/v1/applications", headers=bearer(zrzy)).json
        assert [i["number"] for i in listing["items"]] == [number]

    def test_a_department_cannot_act_on_a_case(self, submit, act, tokens):
        number = submit(intake_body(channel="online")).json["number"]
        assert act(number, "accept", token=tokens["scjg"], version=1).status_code == 403


class TestDenyByDefault:
    def test_every_endpoint_declares_who_may_call_it(self, app):
        from windowsvc.api.auth import is_exempt, policy_of

        undeclared = []
        with app.test_request_context():
            for rule in app.url_map.iter_rules():
                if is_exempt(rule.endpoint):
                    continue
                for method in rule.methods - {"HEAD", "OPTIONS"}:
                    if policy_of(rule.endpoint, method) is None:
                        undeclared.append(f"{method} {rule.rule}")
        assert undeclared == []

    def test_an_endpoint_without_a_declaration_is_refused(self, app):
        @app.get("/api/v1/forgotten")
        def forgotten():
            return {"secret": True}

        response = app.test_client().get("/api/v1/forgotten", headers={})
        assert response.status_code == 403
        assert "secret" not in response.get_data(as_text=True)


class TestCredentialsCli:
    def test_create_prints_the_token_last_and_it_works(self, app):
        runner = app.test_cli_runner()
        result = runner.invoke(
            args=["credentials", "create", "--role", "window", "--name", "窗口1"]
        )
        assert result.exit_code == 0, result.output
        token = result.output.strip().splitlines()[-1]
        assert (
            app.test_client().get("/api/v1/applications", headers=bearer(token)).status_code == 200
        )

    def test_a_department_role_needs_a_known_department(self, app):
        runner = app.test_cli_runner()
        missing = runner.invoke(
            args=["credentials", "create", "--role", "backoffice", "--name", "x"]
        )
        unknown = runner.invoke(
            args=[
                "credentials",
                "create",
                "--role",
                "backoffice",
                "--name",
                "x",
                "--department",
                "zz",
            ]
        )
        assert missing.exit_code != 0 and unknown.exit_code != 0

    def test_revoke_from_the_cli(self, app):
        runner = app.test_cli_runner()
        created = runner.invoke(
            args=["credentials", "create", "--role", "oversight", "--name", "o"]
        )
        principal_id = created.output.split()[2]
        token = created.output.strip().splitlines()[-1]
        assert runner.invoke(args=["credentials", "revoke", principal_id]).exit_code == 0
        response = app.test_client().get("/api/v1/applications", headers=bearer(token))
        assert response.status_code == 401
