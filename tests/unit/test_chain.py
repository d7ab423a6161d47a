"""Tamper-evident lifecycle record: sha256 over canonical JSON, chained by prev_hash."""

import hashlib
import json

from windowsvc.rules.chain import GENESIS, canonical, event_hash

EVENT = {
    "application": "3301002026112210000019",
    "kind": "application.accepted",
    "at": "2026-11-22T09:30:00+08:00",
    "by": "window:张三",
    "data": {"missing": [], "state": "accepted"},
}


class TestCanonical:
    def test_key_order_does_not_matter(self):
        reordered = dict(reversed(list(EVENT.items())))
        reordered["data"] = {"state": "accepted", "missing": []}
        assert canonical(reordered) == canonical(EVENT)

    def test_it_is_compact_utf8_with_sorted_keys(self):
        assert canonical({"b": 1, "a": "受理"}) == '{"a":"受理","b":1}'.encode()

    def test_list_order_does_matter(self):
        assert canonical({"a": [1, 2]}) != canonical({"a": [2, 1]})


class TestEventHash:
    def test_it_is_sha256_of_the_fields_with_the_previous_hash(self):
        expected = hashlib.sha256(canonical({**EVENT, "prev_hash": GENESIS})).hexdigest()
        assert event_hash(EVENT, GENESIS) == expected
        assert len(event_hash(EVENT, GENESIS)) == 64

    def test_the_same_event_always_hashes_the_same(self):
        copy = json.loads(json.dumps(EVENT))
        assert event_hash(copy, GENESIS) == event_hash(EVENT, GENESIS)

    def test_changing_any_field_changes_the_hash(self):
        original = event_hash(EVENT, GENESIS)
        for key in EVENT:
            changed = {**EVENT, key: "tampered"}
            assert event_hash(changed, GENESIS) != original, key

    def test_changing_a_nested_value_changes_the_hash(self):
        changed = {**EVENT, "data": {"missing": [], "state": "not_accepted"}}
        assert event_hash(changed, GENESIS) != event_hash(EVENT, GENESIS)

    def test_adding_or_removing_a_field_changes_the_hash(self):
        original = event_hash(EVENT, GENESIS)
        assert event_hash({**EVENT, "note": ""}, GENESIS) != original
        assert event_hash({k: v for k, v in EVENT.items() if k != "by"}, GENESIS) != original

    def test_changing_the_previous_hash_changes_the_hash(self):
        assert event_hash(EVENT, GENESIS) != event_hash(EVENT, "1" + GENESIS[1:])

    def test_reordering_two_events_breaks_the_chain(self):
        second = {**EVENT, "kind": "application.started"}
        first_hash = event_hash(EVENT, GENESIS)
        chain = event_hash(second, first_hash)
        swapped_first = event_hash(second, GENESIS)
        assert event_hash(EVENT, swapped_first) != chain
