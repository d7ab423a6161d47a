"""收件: POST /api/v1/applications on SQLite and PostgreSQL."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.factories import FOOD, FOOD_REQUIRED, INSTANT, INSTANT_REQUIRED, bearer, intake_body
from windowsvc.rules import acceptance_number

REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30  # bounds every wait on another thread
CHILD_SECONDS = 60
RETRY_SECONDS = 5  # "a retry succeeds within a few seconds"


class TestWindowIntake:
    def test_a_complete_window_application_is_accepted_on_the_spot(self, submit, frozen_clock):
        response = submit()
        assert response.status_code == 201, response.json
        body = response.json
        assert body["state"] == "in_progress" and body["state_label"] == "办理中"
        assert body["accepted_at"] is not None
        parsed = acceptance_number.parse(body["number"])
        assert parsed.region_code == "330100"
        assert parsed.desk_date == dt.date(2026, 3, 2)
        assert parsed.channel == "window" and parsed.sequence == 1
        assert body["item_code"] == FOOD and body["item_version"] == 1
        assert body["received_at"].endswith("+08:00")
        # 2026-03-02 (Mon) + 5 working days → 03-09; + 20 working days → 03-30
        assert body["due_date"] == "2026-03-09"
        assert body["legal_due_date"] == "2026-03-30"
        assert body["missing_materials"] == []
        assert len(body["query_code"]) == 6 and body["query_code"].isdigit()
        assert response.headers["ETag"] == f'"{body["version"]}"'

    def test_an_incomplete_application_goes_to_correction_listing_everything_missing(self, submit):
        response = submit(intake_body(materials=FOOD_REQUIRED[:3]))
        assert response.status_code == 201
        body = response.json
        assert body["state"] == "correction"
        assert [m["code"] for m in body["missing_materials"]] == FOOD_REQUIRED[3:]
        assert body["correction"]["missing"] == body["missing_materials"]
        assert body["accepted_at"] is None and body["due_date"] is None

    def test_online_submissions_wait_for_pre_review(self, submit):
        response = submit(intake_body(channel="online"))
        assert response.status_code == 201
        assert response.json["state"] == "submitted"
        assert acceptance_number.parse(response.json["number"]).channel == "online"

    def test_an_instant_item_is_due_the_same_day(self, submit, frozen_clock):
        response = submit(intake_body(item=INSTANT, materials=INSTANT_REQUIRED))
        assert response.json["state"] == "in_progress"
        assert response.json["due_date"] == "2026-03-02"

    def test_sequence_numbers_count_up_per_channel(self, submit):
        first = acceptance_number.parse(submit().json["number"])
        second = acceptance_number.parse(submit().json["number"])
        online = acceptance_number.parse(submit(intake_body(channel="online")).json["number"])
        assert (first.sequence, second.sequence, online.sequence) == (1, 2, 1)

    def test_the_query_code_is_stored_only_as_a_hash(self, app, submit):
        from windowsvc.models import Application

        body = submit().json
        with app.app_context():
            row = Application.query.filter_by(number=body["number"]).one()
            assert body["query_code"] not in row.query_code_hash
            assert len(row.query_code_hash) == 64

    def test_deferred_materials_count_as_present_with_their_commitment(
        self, app, submit, frozen_clock
    ):
        _credit_records(app, {})
        materials = [c for c in FOOD_REQUIRED if c != "food_safety_rules"]
        body = intake_body(
            materials=materials,
            deferred=[{"code": "food_safety_rules", "commit_date": "2026-03-06"}],
        )
        response = submit(body)
        assert response.status_code == 201, response.json
        assert response.json["state"] == "in_progress"
        assert response.json["deferred"][0]["commit_date"] == "2026-03-06"


class TestIntakeValidation:
    def test_an_unknown_item_is_a_field_error(self, submit):
        response = submit(intake_body(item="NO-SUCH-ITEM"))
        assert response.status_code == 422
        assert "item_code" in response.json["errors"]

    def test_a_resident_id_with_a_wrong_check_digit_is_refused(self, submit):
        body = intake_body()
        body["applicant"]["id_number"] = "110105194912310021"
        response = submit(body)
        assert response.status_code == 422
        assert "applicant.id_number" in response.json["errors"]

    def test_a_material_of_another_item_is_refused(self, submit):
        response = submit(intake_body(materials=[*FOOD_REQUIRED, "labour_contract"]))
        assert response.status_code == 422
        assert "labour_contract" in response.json["errors"]["materials"][0]

    def test_a_key_material_cannot_be_deferred(self, submit):
        body = intake_body(
            materials=FOOD_REQUIRED[1:],
            deferred=[{"code": "food_licence_application", "commit_date": "2026-03-03"}],
        )
        assert submit(body).status_code == 422

    def test_a_deferral_past_the_promised_due_date_is_refused(self, submit, frozen_clock):
        materials = [c for c in FOOD_REQUIRED if c != "food_safety_rules"]
        body = intake_body(
            materials=materials,
            deferred=[{"code": "food_safety_rules", "commit_date": "2026-03-10"}],
        )
        response = submit(body)
        assert response.status_code == 422
        assert "2026-03-09" in response.json["errors"]["deferred"][0]

    def test_unknown_fields_are_rejected(self, submit):
        response = submit({**intake_body(), "priority": "vip"})
        assert response.status_code == 422
        assert "priority" in response.json["errors"]

    def test_express_delivery_needs_an_address(self, submit):
        response = submit(intake_body(delivery={"method": "express"}))
        assert response.status_code == 422
        assert "delivery.address" in response.json["errors"]

    def test_a_rejected_request_changes_nothing(self, client, tokens, submit):
        submit(intake_body(item="NO-SUCH-ITEM"), key="same")
        listing = client.get("/api/v1/applications", headers=bearer(tokens["window"])).json
        assert listing["total"] == 0
        # the key was released: the corrected request goes through under the same key
        assert submit(intake_body(), key="same").status_code == 201


class TestIdempotency:
    def test_the_key_is_required(self, client, tokens):
        response = client.post(
            "/api/v1/applications", json=intake_body(), headers=bearer(tokens["window"])
        )
        assert response.status_code == 400
        assert response.content_type == "application/problem+json"

    def test_a_replay_returns_the_same_response_and_creates_nothing(self, client, tokens, submit):
        first = submit(key="k-1")
        again = submit(key="k-1")
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json == first.json
        listing = client.get("/api/v1/applications", headers=bearer(tokens["window"])).json
        assert listing["total"] == 1

    def test_the_same_key_with_another_body_is_422(self, submit):
        submit(key="k-2")
        response = submit(intake_body(channel="online"), key="k-2")
        assert response.status_code == 422
        assert "Idempotency-Key" in response.json["errors"]

    def test_a_duplicate_while_the_first_attempt_still_runs_is_409(
        self, client, submit, tokens, monkeypatch
    ):
        from windowsvc.services.cases import intake

        prepare, inside, release = intake._prepare, threading.Event(), threading.Event()

        def slow_prepare(body):  # e.g. a slow shared-data lookup
            inside.set()
            assert release.wait(WAIT_SECONDS)
            return prepare(body)

        monkeypatch.setattr(intake, "_prepare", slow_prepare)
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(submit, key="busy")
            assert inside.wait(WAIT_SECONDS)
            duplicate = submit(key="busy")
            release.set()
            assert first.result(WAIT_SECONDS).status_code == 201
        assert duplicate.status_code == 409
        assert duplicate.content_type == "application/problem+json"
        again = submit(key="busy")
        assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
        assert again.json["number"] == first.result().json["number"]

    def test_a_retry_after_an_attempt_killed_midway_is_served_within_seconds(
        self, config, client, submit, tokens
    ):
        """The first attempt's process is SIGKILLed after it claimed the key, before it
        finished (a gunicorn worker killed): the retry must not wait for any stale window."""
        env = {
            **os.environ,
            "KILLED_DATABASE_URL": config["DATABASE_URL"],
            "KILLED_TOKEN": tokens["window"],
        }
        done = subprocess.run(
            [sys.executable, "-m", "tests.integration.killed_intake", "crashed"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_SECONDS,
            check=False,
        )
        assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]

        deadline = time.monotonic() + RETRY_SECONDS
        retry = submit(key="crashed")
        while retry.status_code == 409 and time.monotonic() < deadline:
            time.sleep(0.1)
            retry = submit(key="crashed")
        assert retry.status_code == 201, retry.json
        assert "Idempotent-Replayed" not in retry.headers
        listing = client.get("/api/v1/applications", headers=bearer(tokens["window"])).json
        assert listing["total"] == 1

    def test_an_attempt_that_lost_its_claim_replays_the_case_recorded_meanwhile(
        self, client, submit, tokens, monkeypatch
    ):
        """A claim can be lost (a database restart frees advisory locks) while its attempt
        still runs; another attempt then records the key first. The slow one must not create a
        second case: it answers with the first one's receipt."""
        from contextlib import nullcontext

        from windowsvc.services.cases import idempotency, intake

        prepare, meanwhile = intake._prepare, []

        def slow_prepare(body):
            if not meanwhile:  # meanwhile, a retry that found the key unclaimed finishes
                meanwhile.append(None)
                with ThreadPoolExecutor(max_workers=1) as pool:
                    meanwhile[0] = pool.submit(submit, key="lost").result(WAIT_SECONDS)
            return prepare(body)

        monkeypatch.setattr(idempotency, "claim", lambda *_: nullcontext(True))
        monkeypatch.setattr(intake, "_prepare", slow_prepare)
        response = submit(key="lost")
        other = meanwhile[0]
        assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
        assert (response.status_code, response.headers.get("Idempotent-Replayed")) == (
            201,
            "true",
        )
        assert response.json == other.json
        listing = client.get("/api/v1/applications", headers=bearer(tokens["window"])).json
        assert listing["total"] == 1

    def test_a_key_row_left_unfinished_by_an_older_version_does_not_block_the_retry(
        self, app, client, submit, tokens
    ):
        from windowsvc import clock
        from windowsvc.api.applications import IntakeIn
        from windowsvc.extensions import db
        from windowsvc.models import IdempotencyKey, Principal
        from windowsvc.security import token_hash
        from windowsvc.services.cases.idempotency import fingerprint as request_fingerprint

        with app.app_context():
            principal = Principal.query.filter_by(token_hash=token_hash(tokens["window"])).one()
            db.session.add(
                IdempotencyKey(
                    principal_id=principal.id,
                    key="orphan",
                    request_hash=request_fingerprint(IntakeIn().load(intake_body())),
                    status="in_flight",
                    created_at=clock.now(),
                )
            )
            db.session.commit()
        response = submit(key="orphan")
        assert response.status_code == 201, response.json
        assert submit(key="orphan").headers.get("Idempotent-Replayed") == "true"
        listing = client.get("/api/v1/applications", headers=bearer(tokens["window"])).json
        assert listing["total"] == 1

    def test_keys_belong_to_the_principal_that_used_them(self, submit, tokens):
        first = submit(key="shared")
        second = submit(key="shared", token=tokens["window2"])
        assert second.status_code == 201
        assert second.json["number"] != first.json["number"]


class TestReceiptSecrecy:
    def test_the_stored_replay_copy_holds_no_clear_query_code(self, app, submit, frozen_clock):
        from windowsvc.models import IdempotencyKey

        created = submit(key="sealed").json
        with app.app_context():
            stored = IdempotencyKey.query.filter_by(key="sealed").one().response_body
        assert "query_code" not in stored
        assert stored["query_code_sealed"] != created["query_code"]
        assert submit(key="sealed").json["query_code"] == created["query_code"]

    def test_a_key_recorded_by_an_older_version_replays_its_answer(self, app, submit):
        from windowsvc.extensions import db
        from windowsvc.models import IdempotencyKey

        created = submit(key="legacy").json
        with app.app_context():
            row = IdempotencyKey.query.filter_by(key="legacy").one()
            stored = row.response_body
            # the layout before receipts were kept apart: the answer, its code sealed in it
            row.response_body = {
                **stored["receipt"],
                "query_code_sealed": stored["query_code_sealed"],
            }
            db.session.commit()
        again = submit(key="legacy")
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json == created

    def test_the_service_hands_back_the_case_with_its_number_and_code(self, app, tokens):
        from windowsvc.api.applications import IntakeIn
        from windowsvc.models import Principal
        from windowsvc.security import token_hash
        from windowsvc.services.cases import intake
        from windowsvc.services.cases.records import Actor

        with app.app_context():
            principal = Principal.query.filter_by(token_hash=token_hash(tokens["window"])).one()
            actor = Actor(principal.id, principal.name, principal.role)
            body = IntakeIn().load(intake_body())
            first = intake.submit(actor, "svc", body, lambda a: {"state": a.state})
            again = intake.submit(actor, "svc", body, lambda a: {"state": "never called"})
            assert not first.replayed and again.replayed
            assert first.number == again.number == first.application.number
            assert again.query_code == first.query_code and len(first.query_code) == 6
            assert first.receipt == again.receipt == {"state": "in_progress"}


def _credit_records(app, holders):
    """Shared data and credit records held in memory (ID number → holder)."""
    from windowsvc import clock
    from windowsvc.adapters.evidence import InMemoryEvidenceSource

    app.extensions["windowsvc.adapters"].evidence = InMemoryEvidenceSource(holders, clock.now)


class TestDeferredMaterials:
    """容缺受理."""

    def _body(self, commit="2026-03-06"):
        materials = [c for c in FOOD_REQUIRED if c != "food_safety_rules"]
        return intake_body(
            materials=materials, deferred=[{"code": "food_safety_rules", "commit_date": commit}]
        )

    def test_an_untrustworthy_applicant_cannot_use_deferral(self, app, submit, frozen_clock):
        _credit_records(
            app, {"11010519491231002X": {"name": "张三丰", "holds": [], "untrustworthy": True}}
        )
        response = submit(self._body())
        assert response.status_code == 422
        assert "失信" in response.json["errors"]["deferred"][0]

    def test_without_a_credit_check_deferral_is_refused(self, submit, frozen_clock):
        response = submit(self._body())
        assert response.status_code == 422
        assert "信用" in response.json["errors"]["deferred"][0]

    def test_a_commitment_date_in_the_past_is_refused(self, app, submit, frozen_clock):
        _credit_records(app, {})  # a trustworthy applicant: only the date can be wrong
        response = submit(self._body(commit="2020-01-01"))
        assert response.status_code == 422
        assert response.json["errors"]["deferred"] == [
            "food_safety_rules: 承诺补交日期不能早于今天 2026-03-02"
        ]

    def test_a_material_deferred_twice_is_refused(self, app, submit, frozen_clock):
        _credit_records(app, {})
        body = self._body()
        body["deferred"] *= 2
        response = submit(body)
        assert response.status_code == 422
        assert response.json["errors"]["deferred"] == ["food_safety_rules: 同一材料只能承诺一次"]

    def test_deferred_materials_are_handed_in_after_acceptance(
        self, app, submit, act, frozen_clock
    ):
        _credit_records(app, {})
        created = submit(self._body()).json
        assert "supplement" in created["allowed_actions"]
        done = act(created["number"], "supplement", {"materials": ["food_safety_rules"]})
        assert done.status_code == 200, done.json
        assert done.json["deferred"][0]["supplied_at"]
        assert "supplement" not in done.json["allowed_actions"]

    def test_missing_the_commitment_date_terminates_the_case(
        self, app, client, tokens, submit, frozen_clock
    ):
        import datetime as dt

        from windowsvc.services.admin import sweep

        _credit_records(app, {})
        number = submit(self._body()).json["number"]
        frozen_clock.moment += dt.timedelta(days=4)  # Friday 03-06: still the commitment day
        with app.app_context():
            assert sweep.terminate_missed_commitments() == []
        frozen_clock.moment += dt.timedelta(days=3)  # Monday 03-09
        with app.app_context():
            assert sweep.terminate_missed_commitments() == [number]
            assert sweep.terminate_missed_commitments() == []
        case = client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["window"])).json
        assert case["state"] == "terminated"
        assert {s["state"] for s in case["steps"]} == {"cancelled"}
