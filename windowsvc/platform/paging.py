"""One page of a listing, and how many rows the whole listing has."""

from sqlalchemy import func, select

from ..extensions import db


def page_of(query, page: int, per_page: int, *order_by):
    """(``query`` ordered and limited to page ``page``, the total count of its rows)."""
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    return query.order_by(*order_by).offset((page - 1) * per_page).limit(per_page), total
