"""Idempotency-Key (intake): a live claim while an attempt runs, the receipt recorded with the
case it created, replayed for the same body and refused for another (see docs/architecture.md)."""

import hashlib
import json
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, insert, select

from ... import clock, live_claims
from ...extensions import db
from ...models import IdempotencyKey
from ...platform.context import setting
from ...platform.errors import Invalid
from ...security import seal_query_code, unseal_query_code


def claim(principal_id: int, key: str):
    """The live claim an attempt holds on a principal's key while it runs."""
    return live_claims.claim(f"intake:{principal_id}:{key}")


def fingerprint(body: dict) -> str:
    """A digest of the validated request, independent of key order and formatting."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Replay(NamedTuple):
    """What was recorded for a key: the case's number, its query code, the caller's receipt."""

    number: str
    query_code: str
    receipt: Any


_KEYS = IdempotencyKey.__table__
# Built once, through Core: intake reads the key twice (before and under its claim) and writes
# it once; no ORM object of a key is ever loaded, so none can be stale.
_STORED = select(_KEYS.c.status, _KEYS.c.request_hash, _KEYS.c.response_body).where(
    _KEYS.c.principal_id == bindparam("principal_id"), _KEYS.c.key == bindparam("key")
)
# a row not marked done was left by an attempt that never finished (before claims were live
# locks, the claim was that row): it recorded nothing
_DROP_UNFINISHED = delete(_KEYS).where(
    _KEYS.c.principal_id == bindparam("principal_id"),
    _KEYS.c.key == bindparam("key"),
    _KEYS.c.status != "done",
)
_RECORD = insert(_KEYS)


def stored_response(actor, key, request_hash) -> Replay | None:
    """What was recorded for the key, to replay; None when the key has not been used."""
    row = db.session.connection().execute(_STORED, {"principal_id": actor.id, "key": key}).first()
    if row is None or row.status != "done":
        return None
    if row.request_hash != request_hash:
        raise Invalid(
            "Idempotency-Key 已用于另一份内容不同的申请 (key reused with another body)",
            {"Idempotency-Key": ["already used for a different request body"]},
        )
    return _unsealed(row.response_body)


def remember(actor, key, request_hash, number: str, query_code: str, receipt) -> None:
    """Record the key with the case's receipt, in the transaction that created the case; a key
    recorded meanwhile fails here (IntegrityError), before the commit."""
    connection = db.session.connection()
    connection.execute(_DROP_UNFINISHED, {"principal_id": actor.id, "key": key})
    connection.execute(
        _RECORD,
        {
            "principal_id": actor.id,
            "key": key,
            "request_hash": request_hash,
            "status": "done",
            "response_status": 201,
            "response_body": {
                "number": number,
                "query_code_sealed": seal_query_code(setting("SECRET_KEY"), number, query_code),
                "receipt": receipt,
            },
            "created_at": clock.now(),
        },
    )


def _unsealed(stored: dict) -> Replay:
    """The recorded receipt with the query code unsealed.

    Rows written before receipts were kept apart hold the answer itself, the code sealed in it.
    """
    if "receipt" in stored:
        receipt = stored["receipt"]
    else:
        receipt = {k: v for k, v in stored.items() if k != "query_code_sealed"}
    number = stored["number"]
    code = unseal_query_code(setting("SECRET_KEY"), number, stored["query_code_sealed"])
    return Replay(number, code, receipt)
