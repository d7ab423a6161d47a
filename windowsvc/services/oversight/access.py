"""行为监控: who looked at a case's full personal data, and when."""

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


def listing(number=None, principal_id=None, page=1, per_page=50):
    """A page of access records, newest first, with the case number; and the total."""
    query = select(AccessRecord, Application.number).join(
        Application, Application.id == AccessRecord.application_id
    )
    if number:
        query = query.where(Application.number == number)
    if principal_id:
        query = query.where(AccessRecord.principal_id == principal_id)
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
