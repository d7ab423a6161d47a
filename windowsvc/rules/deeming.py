"""Art 32's 5-working-day rule (视为受理): when is a case accepted as of the day of receipt?"""

from datetime import date

NOTICE_DAYS = 5  # working days after receipt within which a correction notice must arrive
PENDING_STATES = ("submitted", "correction")


def deemed_accepted(
    state: str,
    acceptance_date: date | None,
    today: date,
    notice_limit: date,
    notice_delivered_on: date | None,
) -> bool:
    """True when the notice limit passed without a correction notice delivered in time: the case
    counts as accepted from the day of receipt, whoever accepts it now."""
    if acceptance_date is not None or state not in PENDING_STATES:
        return False
    if today <= notice_limit:
        return False
    return not (
        state == "correction"
        and notice_delivered_on is not None
        and notice_delivered_on <= notice_limit
    )
