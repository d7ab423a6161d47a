"""Hash chaining of lifecycle events (sha256 over a canonical JSON form)."""

import hashlib
import json

GENESIS = "0" * 64


def canonical(data) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8, no floats expected."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(fields: dict, prev_hash: str) -> str:
    """The hash of an event: its fields plus the previous event's hash of the same case."""
    return hashlib.sha256(canonical({**fields, "prev_hash": prev_hash})).hexdigest()
