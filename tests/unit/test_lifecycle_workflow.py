"""The application lifecycle (办件生命周期) as data: its graph, its guards, who may act."""

from collections import deque

import pytest

from windowsvc.rules.ratings import is_concluded
from windowsvc.workflows import ActionNotAllowed, GuardViolation
from windowsvc.workflows.lifecycle import CONCLUDED, LIFECYCLE, STAFF_ACTIONS


class Case:
    """The smallest model the machine needs: a state, missing and deferred materials, details."""

    def __init__(self, state="submitted", missing=(), details=None, deferred=()):
        self.state = state
        self.missing = list(missing)
        self.details = dict(details or {})
        self.deferred = list(deferred)


MISSING = [{"code": "floor_plan", "name": "经营场所平面图"}, {"code": "id", "name": "身份证"}]
RIGHTS = "如不服, 可于60日内申请行政复议或于6个月内提起行政诉讼"
SUSPENSION = {"kind": "hearing", "reason": "申请人要求听证", "expected_days": 5}
EXTENSION = {"days": 10, "reason": "案情复杂", "approver": "王局长"}


def successors():
    """State → the states one transition away, computed from the published description."""
    graph = {s["name"]: set() for s in LIFECYCLE.describe()["states"]}
    for t in LIFECYCLE.describe()["transitions"]:
        for source in t["source"]:
            graph[source].add(source if t["dest"] == "=" else t["dest"])
    return graph


def refused(action, case, **kwargs):
    """Fire an action that must be refused by a guard; the state must not move."""
    before = case.state
    with pytest.raises(GuardViolation) as raised:
        LIFECYCLE.fire(action, case, **kwargs)
    assert case.state == before
    return raised.value


class TestTheGraph:
    def test_the_initial_state_is_submitted(self):
        assert LIFECYCLE.describe()["initial"] == "submitted"

    def test_every_transition_names_known_states(self):
        names = {s["name"] for s in LIFECYCLE.describe()["states"]}
        for t in LIFECYCLE.describe()["transitions"]:
            assert set(t["source"]) <= names
            assert t["dest"] == "=" or t["dest"] in names

    def test_every_state_is_reachable_from_the_initial_state(self):
        graph = successors()
        seen = {LIFECYCLE.initial}
        queue = deque(seen)
        while queue:
            for nxt in graph[queue.popleft()] - seen:
                seen.add(nxt)
                queue.append(nxt)
        assert seen == set(graph)

    def test_every_non_final_state_has_a_way_out(self):
        graph = successors()
        finals = {s["name"] for s in LIFECYCLE.describe()["states"] if s.get("final")}
        for state, nexts in graph.items():
            if state not in finals:
                assert nexts - {state}, f"{state} has no way out"

    def test_final_states_have_no_way_out(self):
        graph = successors()
        finals = {s["name"] for s in LIFECYCLE.describe()["states"] if s.get("final")}
        assert finals == LIFECYCLE.final_states == {"archived"}
        for state in finals:
            assert graph[state] == set()
            assert LIFECYCLE.allowed(state) == []

    def test_a_concluded_case_stays_concluded(self):
        """Ratings are made on concluded cases only (services.ratings.add) and the status lookup
        reads no rating for a case that is not: no way may lead a concluded case back."""
        graph = successors()
        # a denial is concluded by its decision (outcome deny, written with it), also once its
        # result is ready to collect; the decision is only made in processing, never again
        denial = {"decision": {"outcome": "deny"}}
        for start in CONCLUDED:
            details = denial if start == "denied" else {}
            seen, queue = {start}, deque([start])
            while queue:
                for nxt in graph[queue.popleft()] - seen:
                    assert is_concluded(nxt, details), f"{start} leads to {nxt}"
                    seen.add(nxt)
                    queue.append(nxt)
        deciding = [
            t for t in LIFECYCLE.describe()["transitions"] if t["trigger"] in ("approve", "deny")
        ]
        assert deciding and all(t["source"] == ["in_progress"] for t in deciding)

    def test_every_state_has_a_chinese_label(self):
        labels = LIFECYCLE.labels
        assert labels["correction"] == "待补正"
        assert all(labels.values())
        assert len(labels) == 13

    def test_a_case_can_run_from_submission_to_archive(self):
        case = Case()
        path = [
            ("accept", {}),
            ("start", {}),
            ("approve", {}),
            ("issue_result", {}),
            ("deliver", {"method": "window"}),
            ("archive", {}),
        ]
        states = [LIFECYCLE.fire(action, case, **kwargs) for action, kwargs in path]
        assert states == [
            "accepted",
            "in_progress",
            "approved",
            "result_ready",
            "delivered",
            "archived",
        ]

    def test_the_description_names_guards_and_actors(self):
        refuse = next(t for t in LIFECYCLE.describe()["transitions"] if t["trigger"] == "refuse")
        assert refuse["guards"] == [
            "has_reason_and_rights_notice",
            "not correction_came_from_department",
        ]
        assert refuse["actor"] == "window"

    def test_the_mermaid_diagram_shows_every_state_and_the_end(self):
        diagram = LIFECYCLE.mermaid()
        assert diagram.startswith("stateDiagram-v2\n    [*] --> submitted\n")
        for state in LIFECYCLE.labels:
            assert f"    {state} : " in diagram
        assert "    archived --> [*]" in diagram


class TestActionNotAllowed:
    def test_an_action_unknown_in_the_state_lists_what_is_possible(self):
        case = Case("in_progress")
        with pytest.raises(ActionNotAllowed) as raised:
            LIFECYCLE.fire("accept", case)
        assert raised.value.action == "accept"
        assert raised.value.state == "in_progress"
        assert set(raised.value.allowed) == {
            "department_correction",
            "suspend",
            "extend",
            "approve",
            "deny",
            "withdraw",
            "terminate",
        }
        assert case.state == "in_progress"

    def test_an_action_not_defined_at_all_is_not_allowed(self):
        with pytest.raises(ActionNotAllowed):
            LIFECYCLE.fire("teleport", Case())

    def test_a_decided_case_can_no_longer_be_withdrawn(self):
        case = Case("approved")
        with pytest.raises(ActionNotAllowed) as raised:
            LIFECYCLE.fire("withdraw", case, reason="不想办了")
        assert "withdraw" not in raised.value.allowed
        assert raised.value.allowed == ["issue_result"]
        assert case.state == "approved"

    @pytest.mark.parametrize("state", ["denied", "result_ready", "delivered", "archived"])
    def test_no_state_after_the_decision_offers_withdrawal(self, state):
        assert "withdraw" not in LIFECYCLE.allowed(state)


class TestAllowedByRole:
    def test_only_a_supervisor_may_extend(self):
        assert "extend" in LIFECYCLE.allowed("in_progress", "supervisor")
        assert "extend" not in LIFECYCLE.allowed("in_progress", "window")
        assert LIFECYCLE.actors_of("extend") == {"supervisor"}

    def test_system_triggers_are_never_offered_to_the_window(self):
        system = {"approve", "deny", "start", "deem_accepted", "issue_result", "terminate"}
        for state in LIFECYCLE.labels:
            assert not system & set(LIFECYCLE.allowed(state, "window")), state

    def test_the_window_is_offered_its_front_desk_actions(self):
        assert LIFECYCLE.allowed("submitted", "window") == [
            "accept",
            "request_correction",
            "refuse",
            "withdraw",
        ]
        assert LIFECYCLE.allowed("in_progress", "window") == ["suspend", "withdraw"]

    def test_without_a_role_every_trigger_of_the_state_is_listed(self):
        assert set(LIFECYCLE.allowed("submitted")) == {
            "accept",
            "request_correction",
            "refuse",
            "deem_accepted",
            "withdraw",
        }

    def test_staff_actions_exclude_system_triggers(self):
        assert "approve" not in STAFF_ACTIONS
        assert {"accept", "extend", "deliver", "archive"} <= set(STAFF_ACTIONS)


class TestAccept:
    def test_a_complete_case_is_accepted(self):
        assert LIFECYCLE.fire("accept", Case()) == "accepted"

    def test_missing_materials_are_named_in_the_refusal(self):
        violation = refused("accept", Case(missing=MISSING))
        assert violation.field == "materials"
        assert "经营场所平面图" in violation.message
        assert "身份证" in violation.message


class TestRequestCorrection:
    def test_a_correction_lists_what_is_missing(self):
        case = Case()
        assert LIFECYCLE.fire("request_correction", case, missing=MISSING) == "correction"

    def test_an_empty_list_is_refused(self):
        assert refused("request_correction", Case(), missing=[]).field == "missing"
        assert refused("request_correction", Case()).field == "missing"

    def test_a_second_correction_notice_is_refused(self):
        case = Case(details={"correction_notices": 1})
        violation = refused("request_correction", case, missing=MISSING)
        assert violation.field == "missing"
        assert "一次" in violation.message


class TestSupplement:
    def test_materials_still_missing_keep_the_case_in_correction(self):
        case = Case("correction", missing=MISSING[:1])
        assert LIFECYCLE.fire("supplement", case) == "correction"

    def test_complete_materials_accept_the_case(self):
        assert LIFECYCLE.fire("supplement", Case("correction")) == "accepted"

    def test_a_department_correction_completed_goes_back_to_processing(self):
        case = Case("correction", details={"correction_origin": "department"})
        assert LIFECYCLE.fire("supplement", case) == "in_progress"

    def test_a_department_correction_still_incomplete_stays_in_correction(self):
        case = Case("correction", MISSING, details={"correction_origin": "department"})
        assert LIFECYCLE.fire("supplement", case) == "correction"

    def test_a_window_correction_completed_is_accepted_not_processed(self):
        case = Case("correction", details={"correction_origin": "window"})
        assert LIFECYCLE.fire("supplement", case) == "accepted"


class TestRefuse:
    def test_a_refusal_with_reason_and_rights_notice_ends_in_not_accepted(self):
        case = Case()
        assert LIFECYCLE.fire("refuse", case, reason="不属于本机关职权", rights_notice=RIGHTS) == (
            "not_accepted"
        )

    def test_a_refusal_without_a_reason_is_refused(self):
        assert refused("refuse", Case(), rights_notice=RIGHTS).field == "reason"

    def test_a_blank_reason_counts_as_no_reason(self):
        assert refused("refuse", Case(), reason="   ", rights_notice=RIGHTS).field == "reason"

    def test_a_refusal_without_the_rights_notice_is_refused(self):
        assert refused("refuse", Case(), reason="不属于本机关职权").field == "rights_notice"

    def test_a_denial_needs_reason_and_rights_notice_too(self):
        assert refused("deny", Case("in_progress"), rights_notice=RIGHTS).field == "reason"
        assert refused("deny", Case("in_progress"), reason="不符合条件").field == "rights_notice"


class TestSuspend:
    def test_a_special_procedure_suspends_the_case(self):
        assert LIFECYCLE.fire("suspend", Case("in_progress"), **SUSPENSION) == "suspended"

    def test_an_unknown_kind_is_refused(self):
        violation = refused("suspend", Case("in_progress"), **{**SUSPENSION, "kind": "lunch"})
        assert violation.field == "kind"

    def test_no_reason_is_refused(self):
        violation = refused("suspend", Case("in_progress"), **{**SUSPENSION, "reason": ""})
        assert violation.field == "reason"

    @pytest.mark.parametrize("days", [0, -1, None, "5"])
    def test_an_expected_duration_below_one_working_day_is_refused(self, days):
        violation = refused("suspend", Case("in_progress"), **{**SUSPENSION, "expected_days": days})
        assert violation.field == "expected_days"


def suspended(*suspensions):
    """A suspended case with these special procedures on record (default: one under way)."""
    entries = suspensions or ({**SUSPENSION, "started_on": "2026-03-02"},)
    return Case("suspended", details={"suspensions": list(entries)})


class TestResume:
    def test_resuming_with_a_result_returns_to_processing(self):
        assert LIFECYCLE.fire("resume", suspended(), result="听证已举行") == "in_progress"

    def test_resuming_without_a_result_is_refused(self):
        assert refused("resume", suspended()).field == "result"
        assert refused("resume", suspended(), result=" ").field == "result"

    @pytest.mark.parametrize(
        "case",
        [
            pytest.param(Case("suspended"), id="never-suspended"),
            pytest.param(suspended({**SUSPENSION, "ended_on": "2026-03-09"}), id="ended"),
        ],
    )
    def test_without_a_procedure_under_way_resume_is_neither_offered_nor_allowed(self, case):
        assert "resume" not in LIFECYCLE.allowed("suspended", "window", case)
        with pytest.raises(ActionNotAllowed) as raised:
            LIFECYCLE.fire("resume", case, result="听证已举行")
        assert "resume" not in raised.value.allowed
        assert case.state == "suspended"

    def test_a_procedure_under_way_is_offered_for_resumption(self):
        assert "resume" in LIFECYCLE.allowed("suspended", "window", suspended())


class TestExtend:
    @pytest.mark.parametrize("state", ["in_progress", "suspended"])
    def test_an_extension_keeps_the_state(self, state):
        assert LIFECYCLE.fire("extend", Case(state), **EXTENSION) == state

    def test_a_second_extension_is_refused(self):
        case = Case("in_progress", details={"extension": {"days": 10}})
        violation = refused("extend", case, **EXTENSION)
        assert violation.field == "days"
        assert "一次" in violation.message

    def test_more_than_the_maximum_is_refused(self):
        assert refused("extend", Case("in_progress"), **{**EXTENSION, "days": 11}).field == "days"

    def test_a_parallel_item_may_extend_up_to_its_own_maximum(self):
        case = Case("in_progress")
        assert LIFECYCLE.fire("extend", case, **{**EXTENSION, "days": 15}, mode="parallel") == (
            "in_progress"
        )
        violation = refused(
            "extend", Case("in_progress"), **{**EXTENSION, "days": 16}, mode="parallel"
        )
        assert "15" in violation.message

    @pytest.mark.parametrize("days", [0, None])
    def test_zero_or_no_days_is_refused(self, days):
        assert refused("extend", Case("in_progress"), **{**EXTENSION, "days": days}).field == "days"

    def test_an_extension_without_an_approver_is_refused(self):
        violation = refused("extend", Case("in_progress"), days=10, reason="案情复杂")
        assert violation.field == "approver"

    def test_an_extension_without_a_reason_is_refused(self):
        violation = refused("extend", Case("in_progress"), days=10, approver="王局长")
        assert violation.field == "reason"


class TestDeliver:
    @pytest.mark.parametrize(
        "kwargs",
        [{"method": "window"}, {"method": "electronic"}, {"method": "express", "tracking": "SF1"}],
    )
    def test_each_delivery_method_delivers(self, kwargs):
        assert LIFECYCLE.fire("deliver", Case("result_ready"), **kwargs) == "delivered"

    def test_express_without_a_tracking_number_is_refused(self):
        assert refused("deliver", Case("result_ready"), method="express").field == "tracking"
        violation = refused("deliver", Case("result_ready"), method="express", tracking="  ")
        assert violation.field == "tracking"

    @pytest.mark.parametrize("method", ["pigeon", None])
    def test_an_unknown_method_is_refused(self, method):
        assert refused("deliver", Case("result_ready"), method=method).field == "method"


class TestWithdraw:
    @pytest.mark.parametrize(
        "state", ["submitted", "correction", "accepted", "in_progress", "suspended"]
    )
    def test_an_undecided_case_can_be_withdrawn_in_writing(self, state):
        assert LIFECYCLE.fire("withdraw", Case(state), reason="申请人书面撤回") == "withdrawn"

    def test_a_withdrawal_without_a_reason_is_refused(self):
        assert refused("withdraw", Case("accepted")).field == "reason"


class TestTerminate:
    def test_termination_needs_a_reason(self):
        assert refused("terminate", Case("correction")).field == "reason"
        assert LIFECYCLE.fire("terminate", Case("correction"), reason="补正超时") == "terminated"
