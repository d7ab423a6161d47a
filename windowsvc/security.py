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


def _pad(secret_key: str, number: str) -> list[int]:
    digest = hmac.new(secret_key.encode(), f"replay:{number}".encode(), hashlib.sha256).digest()
    return [b % 10 for b in digest[:6]]


def seal_query_code(secret_key: str, number: str, code: str) -> str:
    """Encrypt a query code for the idempotent-replay copy of a receipt (one-time pad per number).

    The pad is a keyed PRF of the unique acceptance number, so without the secret key the sealed
    digits say nothing about the code; lookups still use only the keyed hash.
    """
    return "".join(
        str((int(c) + p) % 10) for c, p in zip(code, _pad(secret_key, number), strict=True)
    )


def unseal_query_code(secret_key: str, number: str, sealed: str) -> str:
    """The query code sealed by ``seal_query_code``."""
    return "".join(
        str((int(c) - p) % 10) for c, p in zip(sealed, _pad(secret_key, number), strict=True)
    )
