"""Per-client budgets behind reverse proxies: the client is who ProxyFix says, with the
configured ``TRUSTED_PROXY_HOPS`` (windowsvc.platform.proxies), for the API and the pages."""

import pytest

from tests.integration.test_pages_auth import PASSWORD, sign_in
from windowsvc.rules import acceptance_number

ATTACKER, CITIZEN = "203.0.113.7", "198.51.100.9"
CLIENT_BUDGET = 10  # STATUS_FAILURES_PER_CLIENT, "10 per 10 minutes"


@pytest.fixture
def hops():
    """No proxy in front, unless a test says otherwise."""
    return 0


@pytest.fixture
def config(config, hops):
    return {**config, "TRUSTED_PROXY_HOPS": hops}


@pytest.fixture
def accounts(app):
    """A window clerk's account."""
    from windowsvc.services.admin import staff

    with app.app_context():
        staff.create("clerk", PASSWORD, "window", "综合窗口01", None)


def lookup(client, number, code, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/api/v1/status", json={"number": number, "query_code": code}, headers=headers
    )


def unknown_numbers(created, count):
    """Well-formed numbers of no case: every guess is a 404 on a number of its own."""
    desk = acceptance_number.parse(created["number"]).desk_date
    return [acceptance_number.compose("330100", desk, "window", 500 + i) for i in range(count)]


def wrong(code):
    return "000000" if code != "000000" else "111111"


@pytest.mark.parametrize("hops", [1])
class TestBehindOneTrustedProxy:
    def test_one_attackers_failures_do_not_throttle_another_citizen(self, client, submit):
        created = submit().json
        guesses = [
            lookup(client, number, "123456", ATTACKER).status_code
            for number in unknown_numbers(created, CLIENT_BUDGET + 1)
        ]
        assert guesses == [404] * CLIENT_BUDGET + [429]
        mine = lookup(client, created["number"], created["query_code"], CITIZEN)
        assert mine.status_code == 200, mine.json
        # the citizen's own budget is whole: a typo is a 404, not the attacker's 429
        assert (
            lookup(client, created["number"], wrong(created["query_code"]), CITIZEN).status_code
            == 404
        )
        assert lookup(client, unknown_numbers(created, 1)[0], "123456", ATTACKER).status_code == 429

    def test_only_the_address_the_trusted_proxy_saw_counts(self, client, submit):
        """The proxy appends the address it saw; whatever the client wrote before it is ignored."""
        created = submit().json
        guesses = [
            lookup(client, number, "123456", f"10.9.8.{i}, {ATTACKER}").status_code
            for i, number in enumerate(unknown_numbers(created, CLIENT_BUDGET + 1))
        ]
        assert guesses == [404] * CLIENT_BUDGET + [429]

    def test_sign_in_failures_are_counted_per_forwarded_client(self, app, accounts):
        app.config["SIGN_IN_FAILURES_PER_CLIENT"] = "3 per minute"
        attacker = app.test_client()
        attacker.environ_base["HTTP_X_FORWARDED_FOR"] = ATTACKER
        statuses = [sign_in(attacker, f"nobody{i}", "x").status_code for i in range(4)]
        assert statuses == [401, 401, 401, 429]
        clerk = app.test_client()
        clerk.environ_base["HTTP_X_FORWARDED_FOR"] = CITIZEN
        assert sign_in(clerk, "clerk", PASSWORD).status_code == 302


class TestWithoutAProxy:
    def test_a_client_cannot_dodge_its_budget_with_x_forwarded_for(self, client, submit):
        created = submit().json
        guesses = [
            lookup(client, number, "123456", f"192.0.2.{i}").status_code
            for i, number in enumerate(unknown_numbers(created, CLIENT_BUDGET + 1))
        ]
        assert guesses == [404] * CLIENT_BUDGET + [429]

    def test_sign_in_ignores_x_forwarded_for(self, app, accounts):
        app.config["SIGN_IN_FAILURES_PER_CLIENT"] = "3 per minute"
        client = app.test_client()
        statuses = []
        for i in range(4):
            client.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{i}"
            statuses.append(sign_in(client, f"nobody{i}", "x").status_code)
        assert statuses == [401, 401, 401, 429]
