"""Art 32's 5-working-day rule: when is a case accepted as of the day of receipt (视为受理)?"""

from datetime import datetime

from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import OutboxMessage
from ..rules.deadlines import Deadline
from .calendar import due_after

NOTICE_DAYS = 5


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
    """True when the notice limit passed without a timely correction notice (accepted as of
    the day of receipt, whoever accepts it now)."""
    if application.acceptance_date is not None or application.state not in (
        "submitted",
        "correction",
    ):
        return False
    limit = notice_limit(application).date
    if clock.today() <= limit:
        return False
    if application.state == "correction":
        delivered = notice_delivered_on(application)
        if delivered is not None and delivered <= limit:
            return False
    return True
