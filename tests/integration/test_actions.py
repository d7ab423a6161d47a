"""Staff actions: POST /api/v1/applications/{number}/actions/{action}."""

from tests.factories import FOOD_REQUIRED, PARALLEL, PARALLEL_REQUIRED, bearer, intake_body


def _events(client, tokens, number):
    return client.get(
        f"/api/v1/applications/{number}/events", headers=bearer(tokens["window"])
    ).json


class TestOptimisticLocking:
    def test_an_action_without_if_match_is_428(self, client, tokens, submit):
        number = submit(intake_body(channel="online")).json["number"]
        response = client.post(
            f"/api/v1/applications/{number}/actions/accept",
            json={},
            headers=bearer(tokens["window"]),
        )
        assert response.status_code == 428
        assert response.content_type == "application/problem+json"

    def test_a_stale_version_is_412_and_changes_nothing(self, client, tokens, submit, act):
        created = submit(intake_body(channel="online")).json
        response = act(created["number"], "accept", version=created["version"] - 1)
        assert response.status_code == 412
        detail = client.get(
            f"/api/v1/applications/{created['number']}", headers=bearer(tokens["window"])
        )
        assert detail.json["state"] == "submitted"
        assert detail.headers["ETag"] == f'"{created["version"]}"'

    def test_a_weak_if_match_never_matches_even_the_current_version(self, client, tokens, submit):
        created = submit(intake_body(channel="online")).json
        response = client.post(
            f"/api/v1/applications/{created['number']}/actions/accept",
            json={},
            headers={**bearer(tokens["window"]), "If-Match": f'W/"{created["version"]}"'},
        )
        assert response.status_code == 412
        assert response.content_type == "application/problem+json"
        detail = client.get(
            f"/api/v1/applications/{created['number']}", headers=bearer(tokens["window"])
        )
        assert detail.json["state"] == "submitted"

    def test_each_change_bumps_the_version_and_etag(self, submit, act):
        created = submit(intake_body(channel="online")).json
        response = act(created["number"], "accept", version=created["version"])
        assert response.status_code == 200
        assert response.json["version"] == created["version"] + 1
        assert response.headers["ETag"] == f'"{created["version"] + 1}"'


class TestStateRules:
    def test_an_action_not_allowed_now_is_409_with_the_allowed_actions(self, submit, act):
        number = submit().json["number"]  # accepted and in the back office
        response = act(number, "deliver", {"method": "window"})
        assert response.status_code == 409
        assert response.json["state"] == "in_progress"
        assert set(response.json["allowed_actions"]) == {"suspend", "withdraw"}

    def test_resuming_a_case_never_suspended_is_409_with_the_allowed_actions(
        self, client, tokens, submit, act
    ):
        number = submit().json["number"]  # in the back office, no special procedure
        response = act(number, "resume", {"result": "听证已举行"})
        assert response.status_code == 409, response.json
        assert response.json["state"] == "in_progress"
        assert set(response.json["allowed_actions"]) == {"suspend", "withdraw"}
        assert [e["type"] for e in _events(client, tokens, number)][-1] != "application.resumed"

    def test_an_unknown_action_is_404(self, client, tokens, submit):
        number = submit().json["number"]
        response = client.post(
            f"/api/v1/applications/{number}/actions/approve",
            json={},
            headers={**bearer(tokens["window"]), "If-Match": '"1"'},
        )
        assert response.status_code == 404

    def test_an_unknown_number_is_404(self, act):
        assert act("3301002026030210009997", "accept", version=1).status_code == 404


class TestPreReviewAndCorrection:
    def test_an_online_submission_is_accepted_after_pre_review(self, submit, act, frozen_clock):
        number = submit(intake_body(channel="online")).json["number"]
        response = act(number, "accept")
        assert response.status_code == 200
        assert response.json["state"] == "in_progress"
        assert response.json["acceptance_date"] == "2026-03-02"
        assert [s["code"] for s in response.json["steps"]] == ["food_licence_review"]

    def test_accepting_with_missing_materials_is_refused_with_the_list(self, submit, act):
        number = submit(intake_body(channel="online", materials=FOOD_REQUIRED[:-1])).json["number"]
        response = act(number, "accept")
        assert response.status_code == 422
        assert "从业人员健康证明" in response.json["detail"]

    def test_correction_is_requested_once_with_every_missing_item(
        self, submit, act, client, tokens
    ):
        number = submit(intake_body(channel="online")).json["number"]
        response = act(
            number, "request_correction", {"missing": ["food_safety_rules", "premises_floor_plan"]}
        )
        assert response.status_code == 200
        assert response.json["state"] == "correction"
        assert [m["code"] for m in response.json["missing_materials"]] == [
            "food_safety_rules",
            "premises_floor_plan",
        ]
        # once only: correction is no longer offered, and a direct attempt is refused
        assert "request_correction" not in response.json["allowed_actions"]
        assert (
            act(number, "request_correction", {"missing": ["food_safety_rules"]}).status_code == 409
        )

    def test_a_correction_request_naming_no_material_of_the_item_is_refused(self, submit, act):
        number = submit(intake_body(channel="online")).json["number"]
        assert (
            act(number, "request_correction", {"missing": ["labour_contract"]}).status_code == 422
        )
        assert act(number, "request_correction", {"missing": []}).status_code == 422

    def test_acceptance_dates_from_the_day_the_materials_became_complete(
        self, submit, act, frozen_clock
    ):
        import datetime as dt

        number = submit(intake_body(materials=FOOD_REQUIRED[:5])).json["number"]
        frozen_clock.moment += dt.timedelta(days=2)  # Wednesday 2026-03-04
        partial = act(number, "supplement", {"materials": ["food_safety_rules"]})
        assert partial.json["state"] == "correction"
        assert [m["code"] for m in partial.json["missing_materials"]] == [
            "staff_health_certificates"
        ]
        frozen_clock.moment += dt.timedelta(days=1)  # Thursday 2026-03-05
        complete = act(number, "supplement", {"materials": ["staff_health_certificates"]})
        assert complete.json["state"] == "in_progress"
        assert complete.json["acceptance_date"] == "2026-03-05"
        assert complete.json["due_date"] == "2026-03-12"

    def test_refusal_needs_a_reason_and_the_rights_notice(self, submit, act):
        number = submit(intake_body(materials=FOOD_REQUIRED[:2])).json["number"]
        missing_notice = act(number, "refuse", {"reason": "不属于本机关职权范围"})
        assert missing_notice.status_code == 422
        assert "rights_notice" in missing_notice.json["errors"]
        blank = act(number, "refuse", {"reason": "  ", "rights_notice": "可申请行政复议"})
        assert blank.status_code == 422
        refused = act(
            number, "refuse", {"reason": "不属于本机关职权范围", "rights_notice": "可申请行政复议"}
        )
        assert refused.json["state"] == "not_accepted"
        assert refused.json["refusal"]["reason"] == "不属于本机关职权范围"


class TestProcessingActions:
    def test_a_special_procedure_is_recorded_with_kind_reason_and_result(self, submit, act, decide):
        number = submit().json["number"]
        suspended = act(
            number,
            "suspend",
            {"reason": "需组织专家评审", "kind": "expert_review", "expected_days": 3},
        )
        assert suspended.json["state"] == "suspended"
        assert act(number, "resume", {}).status_code == 422
        resumed = act(number, "resume", {"result": "专家评审通过"})
        assert resumed.json["state"] == "in_progress"
        entry = resumed.json["suspensions"][0]
        assert (entry["kind"], entry["result"]) == ("expert_review", "专家评审通过")

    def test_only_a_supervisor_extends_and_only_once(self, submit, act, decide, frozen_clock):
        number = submit().json["number"]
        payload = {"days": 10, "reason": "案情复杂", "approver": "李局长"}
        assert act(number, "extend", payload).status_code == 403
        extended = act(number, "extend", payload, role="supervisor")
        assert extended.status_code == 200
        assert extended.json["legal_due_date"] == "2026-04-14"  # 03-30 + 10 working days
        assert extended.json["extension"]["approver"] == "李局长"
        again = act(number, "extend", payload, role="supervisor")
        assert again.status_code == 422

    def test_a_single_item_cannot_be_extended_by_more_than_ten_days(
        self, submit, act, frozen_clock
    ):
        number = submit().json["number"]
        payload = {"days": 11, "reason": "复杂", "approver": "李局长"}
        refused = act(number, "extend", payload, role="supervisor")
        assert refused.status_code == 422, refused.json
        assert "至 10 个工作日" in refused.json["detail"]
        extended = act(number, "extend", {**payload, "days": 10}, role="supervisor")
        assert extended.json["legal_due_date"] == "2026-04-14"  # the maximum itself is allowed

    def test_withdrawal_is_possible_before_the_decision_only(self, submit, act, decide):
        early = submit().json["number"]
        assert act(early, "withdraw", {"reason": "申请人书面申请撤回"}).json["state"] == "withdrawn"
        late = submit().json["number"]
        decide(late)
        response = act(late, "withdraw", {"reason": "申请人书面申请撤回"})
        assert response.status_code == 409

    def test_a_result_is_delivered_then_archived(self, submit, act, decide):
        number = submit().json["number"]
        decide(number)
        assert act(number, "deliver", {"method": "express"}).status_code == 422
        delivered = act(number, "deliver", {"method": "express", "tracking": "SF1234567890"})
        assert delivered.json["state"] == "delivered"
        assert act(number, "archive").json["state"] == "archived"
        assert act(number, "archive").status_code == 409

    def test_a_parallel_item_may_be_extended_by_fifteen_days(self, app, submit, act, frozen_clock):
        from windowsvc.services.admin import credentials

        with app.app_context():  # the leading department's head approves (a zjj case)
            zjj_supervisor = credentials.create("supervisor", "住建局长", "zjj")[1]
        created = submit(intake_body(item=PARALLEL, materials=PARALLEL_REQUIRED))
        assert created.status_code == 201, created.json
        assert created.json["legal_due_date"] == "2026-05-08"  # 45 days: 清明, 劳动节 1–5 May off
        payload = {"days": 15, "reason": "多部门联合验收", "approver": "王主任"}
        extended = act(created.json["number"], "extend", payload, token=zjj_supervisor)
        assert extended.status_code == 200, extended.json
        assert extended.json["legal_due_date"] == "2026-05-28"


class TestLifecycleRecord:
    def test_every_transition_is_recorded_with_who_and_from_to(self, client, tokens, submit, act):
        number = submit(intake_body(channel="online")).json["number"]
        act(number, "accept")
        events = _events(client, tokens, number)
        assert [e["type"] for e in events] == [
            "application.received",
            "application.accepted",
            "application.processing_started",
            "stage.opened",
        ]
        accepted = events[1]
        assert (accepted["from_state"], accepted["to_state"]) == ("submitted", "accepted")
        assert accepted["actor_role"] == "window" and accepted["actor_name"] == "测试window"
        assert accepted["prev_hash"] == events[0]["hash"]

    def test_a_refused_action_leaves_no_event(self, client, tokens, submit, act):
        number = submit().json["number"]
        before = len(_events(client, tokens, number))
        act(number, "deliver", {"method": "window"})
        act(number, "withdraw", {})
        assert len(_events(client, tokens, number)) == before

    def test_a_department_cannot_read_the_record(self, client, tokens, submit):
        number = submit().json["number"]
        response = client.get(
            f"/api/v1/applications/{number}/events", headers=bearer(tokens["scjg"])
        )
        assert response.status_code == 403
