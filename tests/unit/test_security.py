"""Secrets stored only as hashes: bearer tokens and 查询密码 (query codes)."""

import hashlib

from windowsvc.security import (
    new_query_code,
    new_token,
    query_code_hash,
    query_code_matches,
    token_hash,
)

SECRET = "test-secret"
NUMBER = "3301002026112210000019"
OTHER_NUMBER = "3301002026112210000027"


class TestQueryCodes:
    def test_a_query_code_is_six_digits(self):
        for _ in range(200):
            code = new_query_code()
            assert len(code) == 6
            assert code.isascii() and code.isdigit()

    def test_query_codes_are_random(self):
        assert len({new_query_code() for _ in range(50)}) > 40

    def test_the_stored_hash_does_not_contain_the_code(self):
        stored = query_code_hash(SECRET, NUMBER, "042917")
        assert "042917" not in stored
        assert stored != hashlib.sha256(b"042917").hexdigest()

    def test_the_hash_differs_per_number(self):
        assert query_code_hash(SECRET, NUMBER, "042917") != query_code_hash(
            SECRET, OTHER_NUMBER, "042917"
        )

    def test_the_hash_differs_per_secret(self):
        assert query_code_hash(SECRET, NUMBER, "042917") != query_code_hash(
            "another-secret", NUMBER, "042917"
        )

    def test_the_hash_is_stable(self):
        assert query_code_hash(SECRET, NUMBER, "042917") == query_code_hash(
            SECRET, NUMBER, "042917"
        )


class TestQueryCodeMatches:
    stored = query_code_hash(SECRET, NUMBER, "042917")

    def test_the_right_code_matches(self):
        assert query_code_matches(SECRET, NUMBER, "042917", self.stored)

    def test_a_wrong_code_does_not_match(self):
        assert not query_code_matches(SECRET, NUMBER, "042918", self.stored)
        assert not query_code_matches(SECRET, NUMBER, "42917", self.stored)
        assert not query_code_matches(SECRET, NUMBER, "", self.stored)

    def test_the_right_code_for_another_number_does_not_match(self):
        assert not query_code_matches(SECRET, OTHER_NUMBER, "042917", self.stored)

    def test_the_right_code_under_another_secret_does_not_match(self):
        assert not query_code_matches("another-secret", NUMBER, "042917", self.stored)


class TestTokens:
    def test_tokens_are_long_random_and_prefixed(self):
        tokens = {new_token() for _ in range(20)}
        assert len(tokens) == 20
        assert all(t.startswith("wsv_") and len(t) >= 40 for t in tokens)

    def test_a_token_is_stored_as_its_sha256(self):
        token = new_token()
        assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
        assert token not in token_hash(token)
        assert token_hash(token) != token_hash(new_token())
