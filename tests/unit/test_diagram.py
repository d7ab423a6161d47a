"""The state diagram: well-formed SVG, every state drawn, the path and the current state marked."""

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from windowsvc.web.diagram import (
    lifecycle_svg,
    lifecycle_svg_from_events,
    path_from_events,
    state_class,
)
from windowsvc.workflows import WorkflowDefinition
from windowsvc.workflows.lifecycle import LIFECYCLE
from windowsvc.workflows.rectification import RECTIFICATION
from windowsvc.workflows.step import STEP

NS = "{http://www.w3.org/2000/svg}"
PATH = [
    (None, "submitted"),
    ("submitted", "correction"),
    ("correction", "accepted"),
    ("accepted", "in_progress"),
    ("in_progress", "in_progress"),
]


def parse(svg):
    return ET.fromstring(svg)


def classes(element):
    return set((element.get("class") or "").split())


def groups(root, kind):
    return [g for g in root.iter(f"{NS}g") if kind in classes(g)]


def states(root):
    return {g.get("data-state"): g for g in groups(root, "state")}


def edges(root):
    return {(g.get("data-from"), g.get("data-to")): g for g in groups(root, "edge")}


def texts(element):
    return "".join(element.itertext())


@pytest.fixture
def root():
    return parse(lifecycle_svg(LIFECYCLE, PATH, "in_progress", "办件 2024-001"))


def test_the_svg_is_an_accessible_image(root):
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title.text == "办件 2024-001"
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    assert root.get("width") == "100%" and root.get("viewBox").startswith("0 0 ")


def test_every_state_of_the_lifecycle_is_drawn_with_its_label(root):
    drawn = states(root)
    assert set(drawn) == {s["name"] for s in LIFECYCLE.states}
    for name, label in LIFECYCLE.labels.items():
        assert label in texts(drawn[name]) and name in texts(drawn[name])


def test_the_current_state_is_marked_and_says_so(root):
    drawn = states(root)
    current = [name for name, g in drawn.items() if "current" in classes(g)]
    assert current == ["in_progress"]
    assert "当前" in texts(drawn["in_progress"])
    assert "当前" not in texts(drawn["accepted"])


def test_the_visited_states_are_marked_and_the_others_not(root):
    drawn = states(root)
    visited = {name for name, g in drawn.items() if "visited" in classes(g)}
    assert visited == {"submitted", "correction", "accepted"}
    assert all("已经过" in texts(drawn[name]) for name in visited)
    assert "已经过" not in texts(drawn["approved"])


def test_exactly_the_taken_edges_are_marked(root):
    drawn = edges(root)
    taken = {pair for pair, g in drawn.items() if "taken" in classes(g)}
    assert taken == {
        ("submitted", "correction"),
        ("correction", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "in_progress"),
    }
    assert ("in_progress", "approved") in drawn  # untaken edges are drawn too


def test_every_transition_of_the_definition_is_an_edge(root):
    drawn = edges(root)
    for t in LIFECYCLE.describe()["transitions"]:
        for source in t["source"]:
            dest = source if t["dest"] == "=" else t["dest"]
            assert (source, dest) in drawn, (t["trigger"], source)


def test_the_description_tells_the_path_and_the_current_state(root):
    desc = root.find(f"{NS}desc").text
    assert "已提交(submitted) → 待补正(correction) → 已受理(accepted) → 办理中(in_progress)" in desc
    assert "当前状态: 办理中(in_progress)" in desc


def test_text_is_escaped():
    definition = WorkflowDefinition(
        "evil<&>",
        "a",
        [{"name": "a", "label": "甲<&>"}, {"name": "b", "label": "乙 \"'"}],
        [{"trigger": "go<&>", "source": "a", "dest": "b"}],
    )
    svg = lifecycle_svg(definition, [("a", "b")], "b", "标题 <script>&")
    root = parse(svg)
    assert "<script>" not in svg
    assert root.find(f"{NS}title").text == "标题 <script>&"
    assert "甲<&>" in texts(states(root)["a"])
    assert any(t.text == "go<&>" for t in root.iter(f"{NS}text"))


@pytest.mark.parametrize("definition", [STEP, RECTIFICATION])
def test_the_other_machines_are_drawn_too(definition):
    first = definition.transitions[0]
    root = parse(lifecycle_svg(definition, [(first["source"], first["dest"])], first["dest"], "x"))
    assert set(states(root)) == {s["name"] for s in definition.states}
    assert "taken" in classes(edges(root)[(first["source"], first["dest"])])


def test_no_path_and_no_current_state_mark_nothing():
    root = parse(lifecycle_svg(LIFECYCLE, [], None, "模板"))
    assert not [g for g in groups(root, "state") if classes(g) & {"visited", "current"}]
    assert not [g for g in groups(root, "edge") if "taken" in classes(g)]
    assert "尚无经过的流转" in root.find(f"{NS}desc").text


def test_unknown_states_and_undefined_moves_do_not_break_it():
    root = parse(
        lifecycle_svg(
            LIFECYCLE, [("nowhere", "submitted"), ("submitted", "delivered")], "gone", "t"
        )
    )
    assert "visited" in classes(states(root)["submitted"])
    assert not [g for g in groups(root, "state") if "current" in classes(g)]
    assert {"taken", "undefined"} <= classes(edges(root)[("submitted", "delivered")])


def test_states_are_laid_out_in_layers_from_the_initial_state(root):
    def top(name):
        return float(states(root)[name].find(f"{NS}rect").get("y"))

    assert top("submitted") < top("correction") < top("accepted") < top("in_progress")
    assert top("in_progress") < top("approved") < top("result_ready") < top("delivered")
    assert top("delivered") < top("archived")


def test_the_path_of_recorded_events():
    events = [
        SimpleNamespace(from_state=None, to_state="submitted"),
        SimpleNamespace(from_state="submitted", to_state=None),  # e.g. a note: no state change
        {"from_state": "submitted", "to_state": "accepted"},
    ]
    assert path_from_events(events) == [(None, "submitted"), ("submitted", "accepted")]
    root = parse(lifecycle_svg_from_events(LIFECYCLE, events, "accepted", "t"))
    assert "taken" in classes(edges(root)[("submitted", "accepted")])


def test_state_class():
    assert state_class("a", {"a"}, "a") == "state current"
    assert state_class("a", {"a"}, "b") == "state visited"
    assert state_class("c", {"a"}, "b") == "state"
