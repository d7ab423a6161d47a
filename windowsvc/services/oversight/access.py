"""行为监控: who looked at a case's full personal data, and when."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select

from ... import clock
from ...extensions import db
from ...models import AccessRecord, Application
from ...platform.paging import page_of
from ..cases.records import Actor

_INSERT_RECORD = insert(AccessRecord.__table__)


def note(application_id: int, actor: Actor, purpose: str) -> None:
    """Record, in the caller's transaction, that ``actor`` saw the case's personal data."""
    note_many([application_id], actor, purpose)


def note_many(application_ids, actor: Actor, purpose: str) -> None:
    """``note`` for several cases at once (fetch-and-lock), inserted at once through Core."""
    at = clock.now()
    db.session.connection().execute(
        _INSERT_RECORD,
        [
            {
                "application_id": application_id,
                "principal_id": actor.id,
                "principal_name": actor.name,
                "role": actor.role,
                "department": actor.department,
                "purpose": purpose,
                "at": at,
            }
            for application_id in application_ids
        ],
    )


def _start_of(day: date) -> datetime:
    """The first moment of a day in Shanghai."""
    return datetime.combine(day, time(0), tzinfo=clock.SHANGHAI)


def listing(number=None, principal_id=None, page=1, per_page=50, date_from=None, date_to=None):
    """A page of access records, newest first, with the case number; and the total.

    ``date_from`` and ``date_to`` (both days included, Shanghai time) narrow the period."""
    query = select(AccessRecord, Application.number).join(
        Application, Application.id == AccessRecord.application_id
    )
    if number:
        query = query.where(Application.number == number)
    if principal_id:
        query = query.where(AccessRecord.principal_id == principal_id)
    if date_from:
        query = query.where(AccessRecord.at >= _start_of(date_from))
    if date_to:
        query = query.where(AccessRecord.at < _start_of(date_to + timedelta(days=1)))
    one_page, total = page_of(query, page, per_page, AccessRecord.id.desc())
    rows = db.session.execute(one_page).all()
    return [
        {
            "number": n,
            "principal_id": r.principal_id,
            "principal_name": r.principal_name,
            "role": r.role,
            "department": r.department,
            "purpose": r.purpose,
            "at": r.at,
        }
        for r, n in rows
    ], total


def principals() -> list[tuple[int, str, str]]:
    """(id, name, role) of everyone with an access record, by name: the filter's choices."""
    rows = db.session.execute(
        select(AccessRecord.principal_id, AccessRecord.principal_name, AccessRecord.role)
        .where(AccessRecord.principal_id.is_not(None))
        .distinct()
        .order_by(AccessRecord.principal_name, AccessRecord.principal_id)
    )
    seen, found = set(), []
    for principal_id, name, role in rows:
        if principal_id not in seen:
            seen.add(principal_id)
            found.append((principal_id, name, role))
    return found
