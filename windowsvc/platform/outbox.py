"""The outbox: side effects leaving the process are written with the state change that causes
them and delivered afterwards by `windowsvc dispatch`, with retries (at least once, deduplicated
by the receiver through the message key)."""

from datetime import timedelta

from sqlalchemy import insert, or_, select

from .. import clock
from ..db import write_transaction
from ..extensions import db
from ..models import OutboxMessage

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8


_INSERT_MESSAGE = insert(OutboxMessage.__table__)


def enqueue(kind: str, target: str, payload: dict, dedupe_key: str, application_id=None) -> None:
    """Add a message inside the caller's transaction; the key is unique (one message per cause).

    Inserted at once through Core: a duplicate key fails here, in the causing transaction.
    """
    now = clock.now()
    db.session.connection().execute(
        _INSERT_MESSAGE,
        {
            "application_id": application_id,
            "kind": kind,
            "target": target,
            "payload": payload,
            "dedupe_key": dedupe_key,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "created_at": now,
            "sent_at": None,
        },
    )


def claim(limit: int = 20) -> list[dict]:
    """Lease due messages (a crashed sender's lease runs out and the message is sent again)."""
    with write_transaction():
        now = clock.now()
        rows = list(
            db.session.scalars(
                select(OutboxMessage)
                .where(
                    or_(OutboxMessage.state == "pending", OutboxMessage.state == "sending"),
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.state, row.attempts, row.next_attempt_at = "sending", row.attempts + 1, now + LEASE
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "target": r.target,
                "payload": r.payload,
                "key": r.dedupe_key,
                "attempts": r.attempts,
            }
            for r in rows
        ]


def _leased(message_id: int, attempt: int):
    """The message if this sender's lease (its attempt) is still the current one, else None."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None or row.state != "sending" or row.attempts != attempt:
        return None  # another sender took it over, or it was already sent
    return row


def delivered(message_id: int) -> None:
    """Mark a message sent (whichever sender got it through: it reached the receiver)."""
    with write_transaction():
        row = db.session.get(OutboxMessage, message_id)
        if row is not None and row.state != "sent":
            row.state, row.sent_at, row.last_error = "sent", clock.now(), None


def failed(message_id: int, attempt: int, error: str) -> None:
    """Schedule another attempt with exponential backoff, or give up after MAX_ATTEMPTS; a
    sender whose lease was taken over changes nothing (and a sent message is never undone)."""
    with write_transaction():
        row = _leased(message_id, attempt)
        if row is None:
            return
        row.last_error = error[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.state = "dead"
            return
        row.state = "pending"
        row.next_attempt_at = clock.now() + timedelta(seconds=min(2**row.attempts, 600))
