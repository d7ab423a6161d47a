"""好差评 — the applicant rates a concluded case once (一事一评), with number + query code.

A bad rating (levels 1–2) opens a rectification work order in the same transaction. With
DEFAULT_RATING_DAYS set, the sweep gives a case nobody rated a default 满意, marked as such.
"""

from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from ... import clock
from ...db import write_transaction
from ...extensions import db
from ...models import Application, Rating
from ...platform.context import setting
from ...platform.errors import Conflict, Invalid, NotFound
from ...rules import ratings as rules
from ...workflows.lifecycle import CONCLUDED
from ..calendar.working import due_after
from ..cases.applications import lock as lock_application
from ..cases.lookup import authenticate
from ..cases.records import CITIZEN, SYSTEM, Actor, record
from . import rectifications

ALREADY_RATED = "本件已评价, 每件只能评价一次 (one rating per case)"
NOT_CONCLUDED = "办件办结后才能评价 (the case can be rated once it is concluded)"


def give(number_text: str, query_code: str, level: int, tags=(), comment: str = "") -> Rating:
    """Rate a concluded case; 409 before its conclusion or when it was rated already."""
    tags, comment = list(dict.fromkeys(tags)), (comment or "").strip()
    with write_transaction():
        application = authenticated_for_update(number_text, query_code)
        if not rules.is_concluded(application.state, application.details):
            raise Conflict(NOT_CONCLUDED, state=application.state)
        if rating_of(application) is not None:
            raise Conflict(ALREADY_RATED)
        problems = rules.rating_problems(level, tags, comment, application.channel)
        if problems:
            raise Invalid("评价内容不符合要求 (the rating breaks a rule)", problems)
        try:
            rating = add(application, level, tags, comment, by=CITIZEN)
        except IntegrityError as exc:  # a concurrent rating won the unique constraint
            raise Conflict(ALREADY_RATED) from exc
        return rating


def rate_rectification(rating_id: int, number_text: str, query_code: str, verdict: str) -> Rating:
    """整改评价: the rater's verdict on the rectification of their bad rating, after it closed."""
    with write_transaction():
        application = authenticated_for_update(number_text, query_code)
        rating = rating_of(application)
        if rating is None or rating.id != rating_id or rating.rectification is None:
            raise NotFound(f"本件没有编号为 {rating_id} 的差评整改 (no such rectification)")
        order = rating.rectification
        db.session.refresh(order, with_for_update=True)
        rectifications.assess(order, application, verdict, CITIZEN)
        return rating


def authenticated_for_update(number_text: str, query_code: str) -> Application:
    """The case matching number and code (the status lookup's 404 otherwise), locked."""
    application = authenticate(number_text, query_code)
    # FOR NO KEY UPDATE, like every lock on a case: rows referencing it may still be inserted
    db.session.refresh(application, with_for_update={"key_share": True})
    return application


_RATING_OF = select(Rating).where(Rating.application_id == bindparam("application_id"))


def rating_of(application: Application) -> Rating | None:
    """The case's rating, if any (one statement, built once: the citizen's lookup asks it)."""
    return db.session.scalar(_RATING_OF, {"application_id": application.id})


def handling_departments(application: Application) -> list[str]:
    """Every department that had a step of the case, in the order they came in."""
    return list(dict.fromkeys(s.department for s in sorted(application.steps, key=lambda s: s.id)))


def add(application: Application, level, tags, comment, *, by: Actor, default=False) -> Rating:
    """Store a rating on the case, its window and its departments; open a rectification if bad.

    The only place a rating is made, and only on a concluded case: the status lookup relies on
    it and reads no rating for a case that is not concluded (a concluded case stays concluded).
    """
    if not rules.is_concluded(application.state, application.details):
        raise Conflict(NOT_CONCLUDED, state=application.state)
    now = clock.now()
    rating = Rating(
        application_id=application.id,
        level=level,
        tags=tags,
        comment=comment,
        window_principal_id=application.received_by_id,
        departments=handling_departments(application),
        is_default=default,
        excluded=False,
        rated_at=now,
        rated_on=clock.today(),
    )
    db.session.add(rating)
    db.session.flush()
    record(
        application,
        "rating.given",
        by=by,
        details={
            "rating_id": rating.id,
            "level": level,
            "tags": tags,
            "comment": comment,
            "default": default,
        },
    )
    if rules.is_bad(level):
        rectifications.open_for(rating, application)
    return rating


def rateable():
    """SQL: the case may be rated (concluded, or denied with the result still to collect)."""
    outcome = Application.details[("decision", "outcome")].as_string()
    return or_(Application.state.in_(CONCLUDED), outcome == "deny")


def rateable_since(application: Application):
    """The day the case became rateable: its delivery, or its conclusion (refusal, denial...)."""
    details = application.details or {}
    delivery = details.get("delivery_record")
    if delivery and (details.get("decision") or {}).get("outcome") != "deny":
        return clock.local(datetime.fromisoformat(delivery["at"])).date()
    return application.concluded_on


def give_default_ratings() -> list[str]:
    """默认好评: a default 满意 for every case unrated N working days after it became rateable."""
    days = setting("DEFAULT_RATING_DAYS")
    if days is None or days == "":
        return []
    days, today = int(days), clock.today()
    # working days are never fewer than calendar days: a cheap SQL pre-selection
    candidates = db.session.scalars(
        select(Application.id)
        .outerjoin(Rating, Rating.application_id == Application.id)
        .where(
            rateable(),
            Rating.id.is_(None),
            Application.concluded_on < today - timedelta(days=days),
        )
        .order_by(Application.id)
    ).all()
    given = []
    for application_id in candidates:
        with write_transaction():
            application = lock_application(application_id)
            since = rateable_since(application)
            if rating_of(application) is not None or since is None:
                continue
            if not rules.is_concluded(application.state, application.details):
                continue
            if due_after(since, days).date >= today:
                continue
            add(application, rules.DEFAULT_LEVEL, [], "", by=SYSTEM, default=True)
            given.append(application.number)
    return given


def may_rate(application: Application, rating: Rating | None) -> bool:
    """Whether the applicant may rate the case now: concluded and not rated yet (一事一评)."""
    return rating is None and rules.is_concluded(application.state, application.details)
