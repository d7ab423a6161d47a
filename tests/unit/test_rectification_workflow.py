"""The rectification (差评整改) closed loop as data: its graph, its guards, who may act."""

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from windowsvc.workflows import ActionNotAllowed, GuardViolation
from windowsvc.workflows.rectification import (
    APPEALABLE,
    OPEN_STATES,
    RECTIFICATION,
    STAFF_ACTIONS,
)

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
FOLLOW_UP = {"contacted_at": NOW - timedelta(hours=1), "summary": "已电话回访", "now": NOW}


class Order:
    """The smallest model the machine needs: a state and the appeal bookkeeping."""

    def __init__(self, state="open", appealed_at=None, appealed_from=None):
        self.state = state
        self.appealed_at = appealed_at
        self.appealed_from = appealed_from


def successors():
    """State → the states one transition away, from the published description."""
    graph = {s["name"]: set() for s in RECTIFICATION.describe()["states"]}
    for t in RECTIFICATION.describe()["transitions"]:
        for source in t["source"]:
            graph[source].add(source if t["dest"] == "=" else t["dest"])
    return graph


def reachable(graph, start):
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in graph[queue.popleft()] - seen:
            seen.add(nxt)
            queue.append(nxt)
    return seen


def refused(action, order, **kwargs):
    """Fire an action a guard must refuse; the state must not move."""
    before = order.state
    with pytest.raises(GuardViolation) as raised:
        RECTIFICATION.fire(action, order, **kwargs)
    assert order.state == before
    return raised.value


class TestTheGraph:
    def test_a_work_order_starts_waiting_for_its_follow_up(self):
        assert RECTIFICATION.initial == "open"
        assert RECTIFICATION.labels["open"] == "待回访"

    def test_every_transition_names_known_states(self):
        names = set(RECTIFICATION.labels)
        for t in RECTIFICATION.describe()["transitions"]:
            assert set(t["source"]) <= names
            assert t["dest"] == "=" or t["dest"] in names

    def test_every_state_is_reachable_from_open(self):
        graph = successors()
        assert reachable(graph, "open") == set(graph)

    def test_every_non_final_state_has_a_way_out_and_can_still_end(self):
        graph = successors()
        finals = RECTIFICATION.final_states
        for state in set(graph) - finals:
            assert graph[state] - {state}, f"{state} has no way out"
            assert reachable(graph, state) & finals, f"{state} can never end"

    def test_the_final_states_are_the_verdict_and_the_upheld_appeal(self):
        graph = successors()
        assert RECTIFICATION.final_states == {"assessed", "appeal_upheld"}
        for state in RECTIFICATION.final_states:
            assert graph[state] == set() and RECTIFICATION.allowed(state) == []

    def test_nothing_but_the_follow_up_leaves_open(self):
        assert successors()["open"] == {"followed_up"}
        assert RECTIFICATION.allowed("open") == ["follow_up"]

    def test_closed_is_reached_only_through_the_follow_up(self):
        graph = {k: v - {"followed_up"} for k, v in successors().items() if k != "followed_up"}
        assert "closed" not in reachable(graph, "open")

    def test_open_states_are_those_before_close(self):
        assert set(OPEN_STATES) == {"open", "followed_up", "rectified", "explained", "appealed"}

    def test_the_description_and_diagram_name_guards_and_actors(self):
        transitions = RECTIFICATION.describe()["transitions"]
        follow_up = next(t for t in transitions if t["trigger"] == "follow_up")
        assert (follow_up["guards"], follow_up["actor"]) == (["has_follow_up_record"], "supervisor")
        decide = [t for t in transitions if t["trigger"] == "decide_appeal"]
        assert {t["actor"] for t in decide} == {"oversight"}
        assert {t["dest"] for t in decide} == {"appeal_upheld", *APPEALABLE}
        diagram = RECTIFICATION.mermaid()
        assert diagram.startswith("stateDiagram-v2\n    [*] --> open\n")
        assert "    appeal_upheld --> [*]" in diagram


class TestWhoMayAct:
    def test_the_department_supervisor_runs_the_loop(self):
        for action in ("follow_up", "rectify", "explain", "close", "appeal"):
            assert RECTIFICATION.actors_of(action) == {"supervisor"}, action

    def test_only_oversight_decides_an_appeal(self):
        assert RECTIFICATION.actors_of("decide_appeal") == {"oversight"}
        assert RECTIFICATION.allowed("appealed", "supervisor") == []

    def test_only_the_rater_rates_and_it_is_no_staff_action(self):
        assert RECTIFICATION.actors_of("rate") == {"citizen"}
        assert "rate" not in STAFF_ACTIONS


class TestTheLoop:
    def test_a_work_order_runs_from_follow_up_to_the_verdict(self):
        order = Order()
        states = [
            RECTIFICATION.fire("follow_up", order, **FOLLOW_UP),
            RECTIFICATION.fire("rectify", order, measures="开展培训"),
            RECTIFICATION.fire("close", order),
            RECTIFICATION.fire("rate", order, verdict="satisfied"),
        ]
        assert states == ["followed_up", "rectified", "closed", "assessed"]

    def test_an_explanation_is_the_other_way_to_close(self):
        order = Order("followed_up")
        assert RECTIFICATION.fire("explain", order, explanation="无法律依据") == "explained"
        assert RECTIFICATION.fire("close", order) == "closed"

    @pytest.mark.parametrize("action", ["close", "rectify", "explain", "appeal", "rate"])
    def test_nothing_skips_the_follow_up(self, action):
        with pytest.raises(ActionNotAllowed) as raised:
            RECTIFICATION.fire(action, Order(), measures="x", explanation="x", reason="x")
        assert raised.value.allowed == ["follow_up"]

    def test_close_needs_a_rectification_or_an_explanation(self):
        with pytest.raises(ActionNotAllowed) as raised:
            RECTIFICATION.fire("close", Order("followed_up"))
        assert raised.value.allowed == ["rectify", "explain", "appeal"]

    def test_a_closed_order_can_no_longer_be_appealed(self):
        with pytest.raises(ActionNotAllowed):
            RECTIFICATION.fire("appeal", Order("closed"), reason="恶意差评")


class TestGuards:
    def test_a_follow_up_needs_when_and_what(self):
        assert refused("follow_up", Order(), summary="已回访", now=NOW).field == "contacted_at"
        no_summary = {**FOLLOW_UP, "summary": "  "}
        assert refused("follow_up", Order(), **no_summary).field == "summary"

    def test_a_follow_up_cannot_be_dated_in_the_future(self):
        future = {**FOLLOW_UP, "contacted_at": NOW + timedelta(minutes=5)}
        assert refused("follow_up", Order(), **future).field == "contacted_at"

    def test_rectify_and_explain_need_their_text(self):
        assert refused("rectify", Order("followed_up"), measures="").field == "measures"
        assert refused("explain", Order("followed_up")).field == "explanation"

    def test_a_verdict_is_one_of_three(self):
        assert refused("rate", Order("closed"), verdict="thrilled").field == "level"
        for verdict in ("satisfied", "basically_satisfied", "unsatisfied"):
            assert RECTIFICATION.fire("rate", Order("closed"), verdict=verdict) == "assessed"


class TestAppeal:
    @pytest.mark.parametrize("state", APPEALABLE)
    def test_an_appeal_after_the_follow_up_waits_for_oversight(self, state):
        assert RECTIFICATION.fire("appeal", Order(state), reason="事实不符") == "appealed"

    def test_an_appeal_needs_a_reason(self):
        assert refused("appeal", Order("followed_up"), reason=" ").field == "reason"

    def test_a_second_appeal_is_not_offered(self):
        order = Order("followed_up", appealed_at=NOW)
        assert "appeal" not in RECTIFICATION.allowed("followed_up", "supervisor", order)
        with pytest.raises(ActionNotAllowed):
            RECTIFICATION.fire("appeal", order, reason="再次申诉")

    def test_an_upheld_appeal_ends_the_order(self):
        order = Order("appealed", NOW, "rectified")
        assert RECTIFICATION.fire("decide_appeal", order, upheld=True, reason="成立") == (
            "appeal_upheld"
        )

    @pytest.mark.parametrize("origin", APPEALABLE)
    def test_a_rejected_appeal_returns_where_it_came_from(self, origin):
        order = Order("appealed", NOW, origin)
        assert RECTIFICATION.fire("decide_appeal", order, upheld=False, reason="不成立") == origin

    def test_a_decision_needs_upheld_and_a_reason(self):
        order = Order("appealed", NOW, "followed_up")
        assert refused("decide_appeal", order, reason="x").field == "upheld"
        assert refused("decide_appeal", order, upheld="yes", reason="x").field == "upheld"
        assert refused("decide_appeal", order, upheld=False, reason="").field == "reason"
