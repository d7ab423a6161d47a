"""Idempotency-Key (intake): a live claim while an attempt runs, the receipt recorded with the
case it created, replayed for the same body and refused for another (see docs/architecture.md)."""

import hashlib
import json
from typing import Any, NamedTuple

from sqlalchemy import delete

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


def stored_response(actor, key, request_hash) -> Replay | None:
    """What was recorded for the key, to replay; None when the key has not been used."""
    row = db.session.get(IdempotencyKey, (actor.id, key), populate_existing=True)
    if row is None or row.status != "done":
        return None
    if row.request_hash != request_hash:
        raise Invalid(
            "Idempotency-Key 已用于另一份内容不同的申请 (key reused with another body)",
            {"Idempotency-Key": ["already used for a different request body"]},
        )
    return _unsealed(row.response_body)


def remember(actor, key, request_hash, number: str, query_code: str, receipt) -> None:
    """Record the key with the case's receipt, in the transaction that created the case."""
    # a row not marked done was left by an attempt that never finished (before claims were live
    # locks, the claim was that row): it recorded nothing
    db.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.principal_id == actor.id,
            IdempotencyKey.key == key,
            IdempotencyKey.status != "done",
        )
    )
    db.session.add(
        IdempotencyKey(
            principal_id=actor.id,
            key=key,
            request_hash=request_hash,
            status="done",
            response_status=201,
            response_body={
                "number": number,
                "query_code_sealed": seal_query_code(setting("SECRET_KEY"), number, query_code),
                "receipt": receipt,
            },
            created_at=clock.now(),
        )
    )
    db.session.flush()  # a key recorded meanwhile fails here, before the commit


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
