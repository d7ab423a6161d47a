"""Secrets: bearer tokens and query codes, only ever stored as hashes."""

import hashlib
import hmac
import secrets


def new_token() -> str:
    """A fresh bearer token (256 bits of randomness)."""
    return "wsv_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_query_code() -> str:
    """A 6-digit query code (查询密码) for the receipt."""
    return f"{secrets.randbelow(1_000_000):06d}"


def query_code_hash(secret_key: str, number: str, code: str) -> str:
    """Keyed hash of a query code: six digits are too few to store with a plain hash."""
    message = f"{number}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def query_code_matches(secret_key: str, number: str, code: str, stored: str) -> bool:
    """Constant-time comparison of a presented query code with the stored hash."""
    return hmac.compare_digest(query_code_hash(secret_key, number, code), stored)
