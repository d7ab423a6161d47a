"""好差评 indicators: GET /api/v1/oversight/ratings, checked against an independent count."""

import csv
import io
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import pytest

from tests.factories import (
    FOOD,
    FOOD_REQUIRED,
    INSTANT,
    INSTANT_REQUIRED,
    bearer,
    intake_body,
    move_to,
)
from windowsvc.services.admin import credentials, sweep

pytestmark = pytest.mark.usefixtures("frozen_clock")

ITEMS = {FOOD: ("scjg", FOOD_REQUIRED), INSTANT: ("rsj", INSTANT_REQUIRED)}
WINDOWS = ("window", "window2")
FOLLOW_UP = {"contacted_at": "2026-03-02T09:30:00+08:00", "summary": "已回访"}
MONTH = {"from": "2026-03-01", "to": "2026-03-31"}


@dataclass
class Planned:
    """One generated case and what was done to it: the expectations come from here alone."""

    department: str
    item: str
    window: str
    channel: str
    ending: str  # delivered, denied, refused, withdrawn, awaiting (result not collected), open
    level: int | None = None  # given by the applicant
    fate: str | None = None  # of a bad rating's work order
    default: bool = False  # a default rating came from the sweep

    @property
    def rateable(self):
        return self.ending not in ("awaiting", "open")

    @property
    def rated_level(self):
        return 4 if self.default else self.level

    @property
    def excluded(self):
        return self.fate == "upheld"


ENDINGS = ("delivered", "denied", "delivered", "withdrawn", "awaiting", "delivered", "open")
FATES = ("open", "followed_up", "closed", "explained", "upheld")


def plan(seed=20260302, count=30) -> list[Planned]:
    """Cases with every ending and every fate of a work order; the rest is drawn at random."""
    rng = random.Random(seed)
    endings, fates = itertools.cycle(ENDINGS), itertools.cycle(FATES)
    cases = []
    for _ in range(count):
        item = rng.choice(list(ITEMS))
        channel = rng.choice(("window", "online"))
        ending = next(endings)
        if ending == "withdrawn" and channel == "online":
            ending = "refused"  # at the online pre-review
        case = Planned(ITEMS[item][0], item, rng.choice(WINDOWS), channel, ending)
        if case.rateable:
            case.level = rng.choice((None, 1, 2, 2, 3, 4, 5, 5))
        if case.level in (1, 2):
            case.fate = next(fates)
        cases.append(case)
    return cases


def expected(cases, key, include_defaults=True) -> dict:
    """The indicators per group, counted in plain Python from the plan."""
    groups = defaultdict(lambda: defaultdict(int))
    for case in cases:
        group = groups[key(case)]
        if case.rateable:
            group["concluded"] += 1
            group["rated"] += case.level is not None
        rated = case.level is not None or (case.default and include_defaults)
        if not rated:
            continue
        group["ratings"] += 1
        if case.excluded:
            group["excluded"] += 1
            continue
        level = case.rated_level
        group["valid"] += 1
        group[f"level_{level}"] += 1
        group["default"] += case.level is None
        group["good"] += level >= 4
        if level <= 2:
            group["bad"] += 1
            group["followed_up"] += 1 if case.fate != "open" else 0
            group["rectified"] += case.fate in ("closed", "explained")
            group["rectifications_overdue"] += case.fate in ("open", "followed_up")
    return groups


def _share(a, b):
    return round(a / b, 4) if b else None


def _with_rates(counts):
    return {
        **counts,
        "good_rate": _share(counts["good"], counts["valid"]),
        "bad_rate": _share(counts["bad"], counts["valid"]),
        "rating_rate": _share(counts["rated"], counts["concluded"]),
        "rectification_rate": _share(counts["rectified"], counts["bad"]),
        "follow_up_rate": _share(counts["followed_up"], counts["bad"]),
    }


KEYS = {
    "department": lambda c: c.department,
    "item": lambda c: c.item,
    "window": lambda c: f"测试{c.window}",
    "channel": lambda c: c.channel,
}
CHECKED = (
    "ratings",
    "valid",
    "excluded",
    "default",
    "good",
    "bad",
    "rectified",
    "followed_up",
    "rectifications_overdue",
    "concluded",
    "rated",
    "good_rate",
    "bad_rate",
    "rating_rate",
    "rectification_rate",
    "follow_up_rate",
)


def _project(indicators):
    levels = {f"level_{n}": indicators["distribution"][str(n)] for n in range(1, 6)}
    return {k: indicators[k] for k in CHECKED} | levels


def _normalise(counts):
    full = _with_rates(defaultdict(int, counts))
    levels = {f"level_{n}": full.get(f"level_{n}", 0) for n in range(1, 6)}
    return {k: full.get(k, 0) for k in CHECKED} | levels


@pytest.fixture
def generated(app, client, tokens, submit, decide, act, rate, frozen_clock):
    """Run the planned cases through the API on 2 March; defaults come on 16 March."""
    with app.app_context():
        supervisors = {
            "scjg": tokens["supervisor"],
            "rsj": credentials.create("supervisor", "人社局主管", "rsj")[1],
        }
    cases = plan()
    for case in cases:
        body = intake_body(item=case.item, channel=case.channel, materials=ITEMS[case.item][1])
        created = submit(body, token=tokens[case.window]).json
        number, code = created["number"], created["query_code"]
        if case.ending == "refused":
            refusal = {"reason": "不属于本机关职权范围", "rights_notice": "可申请行政复议"}
            assert act(number, "refuse", refusal).status_code == 200
        else:
            if created["state"] == "submitted":
                assert act(number, "accept").status_code == 200
            if case.ending == "withdrawn":
                assert act(number, "withdraw", {"reason": "申请人书面撤回"}).status_code == 200
            elif case.ending != "open":
                decide(number, "deny" if case.ending == "denied" else "approve")
            if case.ending == "delivered":
                assert act(number, "deliver", {"method": "window"}).status_code == 200
        if case.level is not None:
            rating = rate(number, code, case.level, comment="生成的评价").json
            if case.fate:
                order = rating["rectification"]["id"]
                supervisor = supervisors[case.department]
                _run_loop(client, supervisor, tokens["oversight"], order, case.fate)
    move_to(frozen_clock, date(2026, 3, 16))
    app.config["DEFAULT_RATING_DAYS"] = 5
    with app.app_context():
        defaulted = sweep.run().default_ratings
    for case in cases:
        case.default = case.rateable and case.level is None
    assert len(defaulted) == sum(c.default for c in cases)
    return cases


def _run_loop(client, supervisor, oversight, order, fate):
    """Take a bad rating's work order as far as its planned fate."""

    def act_on(action, payload=None, token=supervisor):
        response = client.post(
            f"/api/v1/rectifications/{order}/actions/{action}",
            json=payload or {},
            headers=bearer(token),
        )
        assert response.status_code == 200, response.json

    if fate == "open":
        return
    act_on("follow_up", FOLLOW_UP)
    if fate == "closed":
        act_on("rectify", {"measures": "整改措施"})
        act_on("close")
    elif fate == "explained":
        act_on("explain", {"explanation": "解释说明"})
        act_on("close")
    elif fate == "upheld":
        act_on("appeal", {"reason": "申诉理由"})
        act_on("decide_appeal", {"upheld": True, "reason": "成立"}, oversight)


def ratings_stats(client, tokens, **query):
    response = client.get(
        "/api/v1/oversight/ratings", query_string=query, headers=bearer(tokens["oversight"])
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


class TestIndicators:
    @pytest.mark.parametrize("group_by", list(KEYS))
    def test_every_grouping_matches_an_independent_count(self, client, tokens, generated, group_by):
        body = ratings_stats(client, tokens, group_by=group_by, **MONTH).json
        want = expected(generated, KEYS[group_by])
        got = {g["group"]: _project(g) for g in body["groups"]}
        assert got == {name: _normalise(counts) for name, counts in want.items()}
        everything = expected(generated, lambda _c: "all")["all"]
        assert _project(body["total"]) == _normalise(everything)

    def test_the_generated_set_covers_every_kind_of_case(self, generated):
        assert {c.ending for c in generated} >= set(ENDINGS) | {"refused"}
        assert {c.fate for c in generated} == set(FATES) | {None}
        assert any(c.default for c in generated) and any(c.level == 5 for c in generated)

    def test_ratings_count_by_the_day_they_were_given(self, client, tokens, generated):
        body = ratings_stats(client, tokens, **{"from": "2026-03-02", "to": "2026-03-02"}).json
        want = expected(generated, lambda _c: "all", include_defaults=False)["all"]
        assert _project(body["total"]) == _normalise(want)
        assert body["total"]["default"] == 0

    def test_the_csv_carries_the_same_numbers(self, client, tokens, generated):
        response = ratings_stats(client, tokens, group_by="department", format="csv", **MONTH)
        assert response.content_type.startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        json_groups = ratings_stats(client, tokens, group_by="department", **MONTH).json["groups"]
        assert [r["department"] for r in rows] == [g["group"] for g in json_groups]
        for row, group in zip(rows, json_groups, strict=True):
            assert int(row["ratings"]) == group["ratings"]
            assert int(row["level_1"]) == group["distribution"]["1"]
            assert (float(row["good_rate"]) if row["good_rate"] else None) == group["good_rate"]

    def test_an_empty_range_has_no_rates(self, client, tokens):
        body = ratings_stats(client, tokens, **{"from": "2025-01-01", "to": "2025-01-31"}).json
        assert body["groups"] == [] and body["total"]["ratings"] == 0
        assert body["total"]["good_rate"] is None and body["total"]["rating_rate"] is None

    @pytest.mark.parametrize("role", ["window", "supervisor", "scjg"])
    def test_only_oversight_and_admin_read_the_indicators(self, client, tokens, role):
        response = client.get("/api/v1/oversight/ratings", headers=bearer(tokens[role]))
        assert response.status_code == 403
        admin = client.get("/api/v1/oversight/ratings", headers=bearer(tokens["admin"]))
        assert admin.status_code == 200

    def test_a_reversed_range_or_unknown_grouping_is_422(self, client, tokens):
        for query in ({"from": "2026-03-10", "to": "2026-03-01"}, {"group_by": "weather"}):
            response = client.get(
                "/api/v1/oversight/ratings", query_string=query, headers=bearer(tokens["oversight"])
            )
            assert response.status_code == 422, query
