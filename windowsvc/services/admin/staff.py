"""Staff accounts: people sign in to the pages with a username and a password (scrypt).

Each account is tied to a principal, so a person acts with the same role, department and name
on the pages as a bearer token would in the API, and revoking the principal ends both. The
principal's own token is random and never shown: a person has no API token by signing up.
"""

import re
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ... import clock
from ...db import write_transaction
from ...extensions import db
from ...models import Principal, StaffAccount
from ...platform.errors import Conflict, Invalid
from ...security import new_token
from ..cases.records import Actor
from .credentials import add_principal

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{2,39}")
MIN_PASSWORD = 10
# After this many failures in a row an account waits LOCK_MINUTES before it may try again.
FAILURES_BEFORE_LOCK = 5
LOCK_MINUTES = 15
HASH_METHOD = "scrypt"
# compared against when the username is unknown, so both answers take the same time
_DUMMY_HASH = generate_password_hash("windowsvc-no-such-account", method=HASH_METHOD)


def create(username: str, password: str, role: str, name: str, department=None) -> StaffAccount:
    """Create a person's account and its principal in one transaction."""
    username = (username or "").strip().lower()
    if not USERNAME.fullmatch(username):
        raise Invalid(
            "用户名须为 3–40 位小写字母、数字或 . _ -", {"username": ["3-40 of a-z 0-9 . _ -"]}
        )
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(
            f"密码至少 {MIN_PASSWORD} 位", {"password": [f"at least {MIN_PASSWORD} characters"]}
        )
    with write_transaction():
        if db.session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)):
            raise Conflict(f"用户名 {username} 已存在")
        principal = add_principal(role, name, department, new_token())
        account = StaffAccount(
            username=username,
            password_hash=generate_password_hash(password, method=HASH_METHOD),
            principal_id=principal.id,
            failed_attempts=0,
        )
        db.session.add(account)
    return account


class Locked(Exception):
    """The account has failed too often; it may try again at ``until``."""

    def __init__(self, until):
        super().__init__(f"locked until {until}")
        self.until = until


def authenticate(username: str, password: str) -> Actor | None:
    """The actor for a correct username and password; None otherwise (which one is wrong is
    not said). Raises ``Locked`` while the account waits after repeated failures."""
    username = (username or "").strip().lower()
    with write_transaction():
        row = db.session.execute(
            select(StaffAccount, Principal)
            .join(Principal, StaffAccount.principal_id == Principal.id)
            .where(StaffAccount.username == username)
        ).first()
        if row is None:
            check_password_hash(_DUMMY_HASH, password or "")
            return None
        account, principal = row
        now = clock.now()
        if account.locked_until is not None and account.locked_until > now:
            raise Locked(account.locked_until)
        if principal.revoked_at is not None or not check_password_hash(
            account.password_hash, password or ""
        ):
            account.failed_attempts += 1
            if account.failed_attempts >= FAILURES_BEFORE_LOCK:
                account.failed_attempts = 0
                account.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            return None
        account.failed_attempts = 0
        account.locked_until = None
        account.last_sign_in_at = now
        return _actor(principal)


def actor_of(principal_id: int) -> Actor | None:
    """The signed-in person's actor, or None once the principal is revoked or has no account."""
    row = db.session.execute(
        select(Principal)
        .join(StaffAccount, StaffAccount.principal_id == Principal.id)
        .where(Principal.id == principal_id, Principal.revoked_at.is_(None))
    ).scalar_one_or_none()
    return _actor(row) if row is not None else None


def _actor(principal: Principal) -> Actor:
    return Actor(principal.id, principal.name, principal.role, principal.department)


def listing() -> list[tuple[StaffAccount, Principal]]:
    """Every account with its principal, oldest first."""
    return list(
        db.session.execute(
            select(StaffAccount, Principal)
            .join(Principal, StaffAccount.principal_id == Principal.id)
            .order_by(StaffAccount.id)
        ).tuples()
    )
