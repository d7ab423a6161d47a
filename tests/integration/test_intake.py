"""收件: POST /api/v1/applications on SQLite and PostgreSQL."""

import datetime as dt

from tests.conftest import bearer
from tests.integration.conftest import FOOD, FOOD_REQUIRED, INSTANT, INSTANT_REQUIRED, intake_body
from windowsvc.rules import acceptance_number


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

    def test_a_request_still_in_flight_is_409(self, app, submit, tokens):
        from windowsvc import clock
        from windowsvc.api.applications import IntakeIn
        from windowsvc.extensions import db
        from windowsvc.models import IdempotencyKey, Principal
        from windowsvc.security import token_hash
        from windowsvc.services.intake import request_fingerprint

        body = intake_body()
        with app.app_context():
            principal = Principal.query.filter_by(token_hash=token_hash(tokens["window"])).one()
            db.session.add(
                IdempotencyKey(
                    principal_id=principal.id,
                    key="busy",
                    request_hash=request_fingerprint(IntakeIn().load(body)),
                    status="in_flight",
                    created_at=clock.now(),
                )
            )
            db.session.commit()
        response = submit(body, key="busy")
        assert response.status_code == 409

    def test_an_attempt_whose_key_was_taken_over_and_given_up_creates_nothing(
        self, app, client, submit, tokens, monkeypatch
    ):
        """A slow attempt: a retry took its stale key over, failed and released it. Finishing
        now would leave a case no key records, and the next retry would create a second."""
        from sqlalchemy import delete

        from windowsvc.extensions import db
        from windowsvc.models import IdempotencyKey
        from windowsvc.services import intake

        prepare = intake._prepare

        def slow_prepare(body):  # e.g. a slow shared-data lookup, past the stale limit
            with db.engine.begin() as other:  # meanwhile, the retry's takeover and release
                other.execute(delete(IdempotencyKey).where(IdempotencyKey.key == "slow"))
            return prepare(body)

        monkeypatch.setattr(intake, "_prepare", slow_prepare)
        response = submit(key="slow")
        assert response.status_code == 409
        monkeypatch.setattr(intake, "_prepare", prepare)
        listing = client.get("/api/v1/applications", headers=bearer(tokens["window"])).json
        assert listing["total"] == 0
        assert submit(key="slow").status_code == 201

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

        from windowsvc.services import sweep

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
