"""Finding a case by its acceptance number: normalised and checked before any lookup, and for
citizens only together with the query code (a leaf module: cases and ratings both use it)."""

from sqlalchemy import bindparam, select

from ...extensions import db
from ...models import Application
from ...platform.context import setting
from ...platform.errors import BadNumber, NotFound
from ...rules import acceptance_number
from ...security import query_code_matches

# Built once: the hot paths (the citizen's lookup, every staff read) execute it with the number
# bound, and SQLAlchemy neither builds the statement nor works out its cache key again.
BY_NUMBER = select(Application).where(Application.number == bindparam("number"))
# FOR NO KEY UPDATE: does not block the FOR KEY SHARE that inserting rows referencing the case
# takes (access records, events), which would deadlock with fetch-and-lock
BY_NUMBER_FOR_UPDATE = BY_NUMBER.with_for_update(of=Application, key_share=True)

NOT_FOUND = "未查到办件: 请核对受理号和查询密码 (no application matches this number and code)"


def parse_number(text: str) -> str:
    """The normalised number, or BadNumber (400) before any lookup is made."""
    try:
        return acceptance_number.parse(text).text
    except acceptance_number.InvalidNumber as exc:
        raise BadNumber(str(exc)) from exc


def the_entity(number: str) -> Application | None:
    """The case with this (normalised) number as an ORM entity, for callers that change it."""
    return db.session.scalar(BY_NUMBER, {"number": number})


def authenticate(number_text: str, query_code: str, read=the_entity):
    """The application matching number and code; the same NotFound for either being wrong.

    ``read`` finds the case by its normalised number: the entity by default, or a row of the
    columns a reader needs (it must include ``query_code_hash``).
    """
    number = parse_number(number_text)
    application = read(number)
    if application is None or not query_code_matches(
        setting("SECRET_KEY"), number, query_code, application.query_code_hash
    ):
        raise NotFound(NOT_FOUND)
    return application


def find_proven(number_text: str, read=the_entity):
    """The application by number alone, for a visitor who proved its query code earlier (the
    caller holds that proof); the same NotFound as ``authenticate`` otherwise."""
    number = parse_number(number_text)
    application = read(number)
    if application is None:
        raise NotFound(NOT_FOUND)
    return application
