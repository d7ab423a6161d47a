"""好差评 indicators — SQL aggregates grouped like the other indicators (department, item, window,
channel): distribution, 好评率, 差评率, 主动评价率, 差评整改率, 回访率, overdue, excluded, default.

Ratings count by the day they were given; 主动评价率 is over the cases concluded (rateable) in the
range, each counted as rated when it has a rating its applicant gave (not a default one).
"""

from sqlalchemy import and_, case, func, select

from ... import clock
from ...extensions import db
from ...models import Application, CatalogItem, Principal, Rating, Rectification
from ...platform.errors import Invalid
from ...rules.ratings import BAD_LEVELS, GOOD_LEVELS, LEVELS, rate
from ...workflows.rectification import OPEN_STATES
from ..oversight.indicators import GROUP_BY, csv_table, period
from .ratings import rateable

CLOSED = ("closed", "assessed")
COUNTS = (
    "ratings",
    "valid",
    "excluded",
    "default",
    "good",
    "bad",
    "rectified",
    "followed_up",
    "rectifications_overdue",
)
COLUMNS = (
    *COUNTS,
    *(f"level_{n}" for n in sorted(LEVELS)),
    "concluded",
    "rated",
    "good_rate",
    "bad_rate",
    "rating_rate",
    "rectification_rate",
    "follow_up_rate",
)


def _count(*conditions):
    return func.sum(case((and_(*conditions), 1), else_=0))


def _rating_columns(today):
    valid = Rating.excluded.is_(False)
    bad = and_(valid, Rating.level.in_(BAD_LEVELS))
    followed = Rectification.followed_up_at.is_not(None)
    return [
        func.count(Rating.id).label("ratings"),
        _count(valid).label("valid"),
        _count(Rating.excluded.is_(True)).label("excluded"),
        _count(valid, Rating.is_default.is_(True)).label("default"),
        _count(valid, Rating.level.in_(GOOD_LEVELS)).label("good"),
        _count(bad).label("bad"),
        # 差评整改: closed, and never without the follow-up call on record
        _count(bad, Rectification.state.in_(CLOSED), followed).label("rectified"),
        _count(bad, followed).label("followed_up"),
        _count(Rectification.state.in_(OPEN_STATES), Rectification.due_date < today).label(
            "rectifications_overdue"
        ),
        *(_count(valid, Rating.level == n).label(f"level_{n}") for n in sorted(LEVELS)),
    ]


def _grouped(query, group_by):
    query = query.join(CatalogItem, Application.item_id == CatalogItem.id)
    if group_by == "window":
        query = query.join(Principal, Application.received_by_id == Principal.id)
    return query


def _ratings_query(date_from, date_to, group_by):
    query = (
        select(*_rating_columns(clock.today()))
        .select_from(Rating)
        .join(Application, Rating.application_id == Application.id)
        .outerjoin(Rectification, Rectification.rating_id == Rating.id)
    )
    return _grouped(query, group_by).where(Rating.rated_on.between(date_from, date_to))


def _concluded_query(date_from, date_to, group_by):
    query = (
        select(
            func.count(Application.id).label("concluded"),
            _count(Rating.id.is_not(None), Rating.is_default.is_(False)).label("rated"),
        )
        .select_from(Application)
        .outerjoin(Rating, Rating.application_id == Application.id)
    )
    return _grouped(query, group_by).where(
        rateable(), Application.concluded_on.between(date_from, date_to)
    )


def _indicators(ratings_row, concluded_row) -> dict:
    counts = {c: int(getattr(ratings_row, c, None) or 0) for c in COUNTS}
    levels = {str(n): int(getattr(ratings_row, f"level_{n}", None) or 0) for n in sorted(LEVELS)}
    concluded = int(getattr(concluded_row, "concluded", None) or 0)
    rated = int(getattr(concluded_row, "rated", None) or 0)
    return {
        **counts,
        "distribution": levels,
        "concluded": concluded,
        "rated": rated,
        "good_rate": rate(counts["good"], counts["valid"]),
        "bad_rate": rate(counts["bad"], counts["valid"]),
        "rating_rate": rate(rated, concluded),
        "rectification_rate": rate(counts["rectified"], counts["bad"]),
        "follow_up_rate": rate(counts["followed_up"], counts["bad"]),
    }


def stats(date_from=None, date_to=None, group_by="department") -> dict:
    """The 好差评 indicators for the range, per group and in total."""
    date_from, date_to = period(date_from, date_to)
    if group_by not in GROUP_BY:
        raise Invalid("不支持的分组", {"group_by": [f"one of {', '.join(GROUP_BY)}"]})
    key = GROUP_BY[group_by].label("group")
    ratings = _ratings_query(date_from, date_to, group_by)
    concluded = _concluded_query(date_from, date_to, group_by)
    by_ratings = {r.group: r for r in db.session.execute(ratings.add_columns(key).group_by(key))}
    by_concluded = {
        r.group: r for r in db.session.execute(concluded.add_columns(key).group_by(key))
    }
    groups = sorted(set(by_ratings) | set(by_concluded), key=lambda g: (g is None, str(g)))
    return {
        "date_from": date_from,
        "date_to": date_to,
        "group_by": group_by,
        "groups": [
            {"group": g, **_indicators(by_ratings.get(g), by_concluded.get(g))} for g in groups
        ],
        "total": _indicators(
            db.session.execute(ratings).one(), db.session.execute(concluded).one()
        ),
    }


def stats_csv(date_from=None, date_to=None, group_by="department") -> str:
    """The per-group indicators as CSV text with a header row (empty cells for no value)."""
    result = stats(date_from, date_to, group_by)
    rows = [
        {**group, **{f"level_{n}": v for n, v in group["distribution"].items()}}
        for group in result["groups"]
    ]
    return csv_table(result["group_by"], rows, COLUMNS)
