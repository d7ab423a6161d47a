"""Credentials: principals with hashed bearer tokens, roles and departments."""

import time

from flask import current_app
from sqlalchemy import bindparam, select

from ... import clock
from ...db import write_transaction
from ...extensions import db
from ...models import Department, Principal
from ...platform.context import setting
from ...platform.errors import Invalid, NotFound
from ...rules.scoping import DEPARTMENT_ROLES
from ...security import new_token, token_hash
from ..cases.records import Actor

ROLES = ("window", "backoffice", "supervisor", "oversight", "admin", "monitor")
# monitor: a scraper's token, good for GET /metrics only; no person signs in with it
PERSON_ROLES = tuple(role for role in ROLES if role != "monitor")


def create(role: str, name: str, department: str | None = None) -> tuple[Principal, str]:
    """Create a principal; returns it and its token, which is shown once and stored hashed."""
    token = new_token()
    with write_transaction():
        principal = add_principal(role, name, department, token)
    return principal, token


def add_principal(role: str, name: str, department: str | None, token: str) -> Principal:
    """Check and add a principal holding ``token`` (in the caller's transaction)."""
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}", {"role": [f"one of {', '.join(ROLES)}"]})
    if role in DEPARTMENT_ROLES and not department:
        raise Invalid(f"role {role} needs a department", {"department": ["required"]})
    if role not in DEPARTMENT_ROLES and department:
        raise Invalid(f"role {role} has no department", {"department": ["not allowed"]})
    if not name.strip():
        raise Invalid("name is required", {"name": ["required"]})
    if department and db.session.get(Department, department) is None:
        raise Invalid(f"unknown department {department!r}", {"department": ["unknown"]})
    principal = Principal(
        name=name.strip(), role=role, department=department, token_hash=token_hash(token)
    )
    db.session.add(principal)
    db.session.flush()
    return principal


def revoke(principal_id: int) -> None:
    """Revoke a principal's token; later requests with it get 401."""
    with write_transaction():
        principal = db.session.get(Principal, principal_id)
        if principal is None:
            raise NotFound(f"no principal {principal_id}")
        if principal.revoked_at is None:
            principal.revoked_at = clock.now()
    _known_tokens().forget_all()  # this process stops accepting the token at once


class KnownTokens:
    """This app's valid tokens in this process: token hash → (actor, valid until).

    ``generation`` moves on at every revocation here, so a lookup that read the table before
    the revocation committed does not store its now revoked answer afterwards.
    """

    MAX_ENTRIES = 10_000

    def __init__(self):
        self.entries: dict[str, tuple[Actor, float]] = {}
        self.generation = 0

    def forget_all(self) -> None:
        self.generation += 1
        self.entries.clear()


def _known_tokens() -> KnownTokens:
    known = current_app.extensions.get("windowsvc_known_tokens")
    if known is None:  # not setdefault: that would build a new one on every request
        known = current_app.extensions.setdefault("windowsvc_known_tokens", KnownTokens())
    return known


_PRINCIPAL_BY_TOKEN = select(
    Principal.id, Principal.name, Principal.role, Principal.department
).where(Principal.token_hash == bindparam("token_hash"), Principal.revoked_at.is_(None))


def authenticate(token: str) -> Actor | None:
    """The actor behind a bearer token, or None for an unknown or revoked token.

    A valid token is remembered for AUTH_CACHE_SECONDS, so a busy department system does not
    cost a database read per request; unknown and revoked tokens are always looked up.
    """
    digest = token_hash(token)
    known = _known_tokens()
    hit = known.entries.get(digest)
    if hit is not None and hit[1] > time.monotonic():
        return hit[0]
    generation = known.generation
    row = db.session.execute(_PRINCIPAL_BY_TOKEN, {"token_hash": digest}).first()
    if row is None:
        known.entries.pop(digest, None)
        return None
    actor = Actor(row.id, row.name, row.role, row.department)
    seconds = float(setting("AUTH_CACHE_SECONDS") or 0)
    if seconds > 0 and known.generation == generation:
        if len(known.entries) >= known.MAX_ENTRIES:
            known.entries.clear()
        known.entries[digest] = (actor, time.monotonic() + seconds)
    return actor


def listing() -> list[Principal]:
    """All principals, newest last."""
    return list(db.session.scalars(select(Principal).order_by(Principal.id)))
