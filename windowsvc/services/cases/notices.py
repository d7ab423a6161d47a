"""Notices to the applicant (告知书), written to the outbox by the event that causes them."""

from ...platform.outbox import enqueue

NOTICES = {
    "application.received": "收件回执",
    "application.accepted": "受理通知书",
    "application.deemed_accepted": "受理通知书 (视为受理)",
    "application.correction_requested": "一次性补正告知书",
    "application.refused": "不予受理决定书",
    "application.extended": "延长办理期限告知书",
    "application.suspended": "特别程序告知书",
    "application.result_ready": "办结通知 (结果待领取)",
    "application.delivered": "送达回证",
    "application.terminated": "终止办理告知书",
    "application.denied": "不予许可决定书",
    "rectification.closed": "整改结果告知",
}
RATING_INVITATION = "评价邀请"
# The events after which a case may be rated (好差评): the invitation goes out with them, once.
CONCLUDING_EVENTS = {
    "application.refused",
    "application.withdrawn",
    "application.terminated",
    "application.denied",
    "application.delivered",
}


def notify_for(application, event) -> None:
    """Queue the notices an event calls for, if any (same transaction as the event)."""
    title = NOTICES.get(event.type)
    if title is not None:
        _enqueue(application, event, title, f"notice:{application.number}:{event.seq}")
    if _invites_rating(application, event):
        key = f"notice:{application.number}:{event.seq}:rating-invitation"
        _enqueue(application, event, RATING_INVITATION, key)


def _invites_rating(application, event) -> bool:
    # a denial is rateable from the decision on: its later delivery does not invite again
    if event.type not in CONCLUDING_EVENTS:
        return False
    if event.type == "application.delivered":
        return ((application.details or {}).get("decision") or {}).get("outcome") != "deny"
    return True


def _enqueue(application, event, title, key) -> None:
    phone = (application.applicant or {}).get("phone")
    enqueue(
        "notice",
        phone or "",
        {
            "number": application.number,
            "title": title,
            "event": event.type,
            "details": event.details,
            "at": event.at.isoformat(),
        },
        dedupe_key=key,
        application_id=application.id,
    )
