"""The one place that writes lifecycle events (全过程记录), inside the caller's transaction."""

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

from sqlalchemy import insert, select

from ... import clock
from ...extensions import db
from ...models import Application, Event
from ...rules.chain import GENESIS, event_hash
from . import notices


@dataclass(frozen=True)
class Actor:
    """Who did something: a principal, a citizen or the engine itself."""

    id: int | None
    name: str
    role: str
    department: str | None = None


SYSTEM = Actor(None, "windowsvc", "system")
CITIZEN = Actor(None, "申请人", "citizen")


def hashed_fields(event, number: str) -> dict:
    """The fields an event's hash covers (the case is named by its acceptance number)."""
    return {
        "application": number,
        "seq": event.seq,
        "type": event.type,
        # always UTC: the database hands ``at`` back in UTC whatever offset the clock gave it
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "actor_role": event.actor_role,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "details": event.details,
    }


@dataclass(frozen=True)
class Recorded:
    """An event as appended (the stored row has the same fields, plus its id)."""

    application_id: int
    seq: int
    type: str
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    from_state: str | None
    to_state: str | None
    details: dict
    prev_hash: str
    hash: str = ""


_INSERT_EVENT = insert(Event.__table__)
_FIELDS = tuple(f.name for f in fields(Recorded))


def record(
    application: Application, type_: str, *, by: Actor, from_state=None, to_state=None, details=None
) -> Recorded:
    """Append an event to the application's record; call inside the transaction that changed it.

    The row is inserted at once through Core (no ORM unit of work for an append-only row); the
    chain head moves on the application, which the caller's transaction writes.
    """
    if application.id is None:
        db.session.flush()
    seq, prev = (application.last_event_seq or 0) + 1, application.last_event_hash or GENESIS
    event = Recorded(
        application_id=application.id,
        seq=seq,
        type=type_,
        at=clock.now(),
        actor_id=by.id,
        actor_name=by.name,
        actor_role=by.role,
        from_state=from_state,
        to_state=to_state,
        details=details or {},
        prev_hash=prev,
    )
    event = replace(event, hash=event_hash(hashed_fields(event, application.number), prev))
    db.session.connection().execute(_INSERT_EVENT, {f: getattr(event, f) for f in _FIELDS})
    application.last_event_seq, application.last_event_hash = seq, event.hash
    notices.notify_for(application, event)
    return event


def transition(
    workflow,
    model,
    trigger: str,
    event_type: str,
    *,
    by: Actor,
    application=None,
    details=None,
    **kwargs,
) -> None:
    """Fire ``trigger`` on ``model`` and record the change on its application's record."""
    before = model.state
    workflow.fire(trigger, model, **kwargs)
    record(
        application or model,
        event_type,
        by=by,
        from_state=before,
        to_state=model.state,
        details=details or {},
    )


def events_of(application: Application) -> list[Event]:
    """The application's record in order."""
    return list(
        db.session.scalars(
            select(Event).where(Event.application_id == application.id).order_by(Event.seq)
        )
    )
