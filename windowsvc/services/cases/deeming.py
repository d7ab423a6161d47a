"""Art 32's 5-working-day rule (视为受理) on a stored case: its notice limit and delivery."""

from datetime import datetime

from sqlalchemy import select

from ... import clock
from ...extensions import db
from ...models import OutboxMessage
from ...rules import deeming as rules
from ...rules.deadlines import Deadline
from ...rules.deeming import NOTICE_DAYS
from ..calendar.working import due_after


def notice_limit(application) -> Deadline:
    """The last day a correction notice may reach the applicant: receipt + 5 working days."""
    return due_after(clock.local(application.received_at).date(), NOTICE_DAYS)


def notice_delivered_on(application):
    """When the correction notice reached the applicant (on the spot, or by the outbox)."""
    correction = (application.details or {}).get("correction") or {}
    if correction.get("delivered_at"):
        return clock.local(datetime.fromisoformat(correction["delivered_at"])).date()
    key = correction.get("notice_key")
    if not key:
        return None
    sent = db.session.scalar(
        select(OutboxMessage.sent_at).where(
            OutboxMessage.dedupe_key == key, OutboxMessage.state == "sent"
        )
    )
    return clock.local(sent).date() if sent else None


def deemed_accepted(application) -> bool:
    """True when the notice limit passed without a timely correction notice (rules.deeming)."""
    return rules.deemed_accepted(
        application.state,
        application.acceptance_date,
        clock.today(),
        notice_limit(application).date,
        notice_delivered_on(application) if application.state == "correction" else None,
    )
