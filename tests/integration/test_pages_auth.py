"""Staff sign-in for the pages: accounts, session cookies, CSRF, throttling, expiry, roles."""

import time

import pytest

from tests import factories
from windowsvc.platform.policy import allow
from windowsvc.web.guard import SESSION_KEY, pages

PASSWORD = "correct-horse-42"


def csrf_of(client, path="/signin"):
    return factories.csrf_of(client.get(path).get_data(as_text=True))


def sign_in(client, username="clerk", password=PASSWORD, **extra):
    data = {"username": username, "password": password, "csrf_token": csrf_of(client), **extra}
    return client.post("/signin", data=data)


@pytest.fixture
def accounts(app):
    from windowsvc.services.admin import staff

    with app.app_context():
        return {
            "clerk": staff.create("clerk", PASSWORD, "window", "综合窗口01", None).principal_id,
            "chief": staff.create("chief", PASSWORD, "supervisor", "李科长", "scjg").principal_id,
        }


def session_cookie(response):
    return next(h for h in response.headers.getlist("Set-Cookie") if "windowsvc_session=" in h)


class TestAccounts:
    def test_the_password_is_stored_as_scrypt_never_in_clear(self, app, accounts):
        from windowsvc.models import StaffAccount

        with app.app_context():
            stored = StaffAccount.query.filter_by(username="clerk").one().password_hash
        assert stored.startswith("scrypt:") and PASSWORD not in stored

    def test_the_cli_reads_the_password_from_stdin(self, app):
        runner = app.test_cli_runner()
        args = ["staff", "create", "--username", "wang", "--role", "window", "--name", "王芳"]
        result = runner.invoke(args=args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        assert "created staff account wang (window" in result.output
        client = app.test_client()
        assert sign_in(client, "wang").status_code == 302

    def test_the_cli_refuses_a_short_password_and_a_department_the_role_cannot_have(self, app):
        runner = app.test_cli_runner()
        short = runner.invoke(
            args=["staff", "create", "--username", "wang", "--role", "window", "--name", "王"],
            input="short\n",
        )
        assert short.exit_code != 0 and "密码至少" in short.output
        args = ["staff", "create", "--username", "lili", "--role", "window", "--name", "李"]
        wrong = runner.invoke(args=[*args, "--department", "scjg"], input=PASSWORD + "\n")
        assert wrong.exit_code != 0 and "no department" in wrong.output


class TestSignIn:
    def test_a_session_cookie_is_httponly_and_lax_and_secure_over_https(self, app, accounts):
        plain = sign_in(app.test_client())
        assert plain.status_code == 302
        cookie = session_cookie(plain)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        secure_client = app.test_client()
        page = secure_client.get("/signin", base_url="https://hall.example").get_data(as_text=True)
        token = factories.csrf_of(page)
        data = {"username": "clerk", "password": PASSWORD, "csrf_token": token}
        # over https Flask-WTF also wants a same-origin Referer, as browsers send
        over_https = secure_client.post(
            "/signin",
            data=data,
            base_url="https://hall.example",
            headers={"Referer": "https://hall.example/signin"},
        )
        assert over_https.status_code == 302
        assert "Secure" in session_cookie(over_https)

    def test_a_form_without_its_csrf_token_is_refused_and_signs_nobody_in(self, app, accounts):
        client = app.test_client()
        response = client.post("/signin", data={"username": "clerk", "password": PASSWORD})
        assert response.status_code == 400
        assert "表单已过期" in response.get_data(as_text=True)
        with client.session_transaction() as session:
            assert SESSION_KEY not in session

    def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(self, app, accounts):
        client = app.test_client()
        wrong = sign_in(client, "clerk", "wrong-password")
        unknown = sign_in(client, "nobody", "wrong-password")
        assert wrong.status_code == unknown.status_code == 401
        message = "用户名或密码不正确"
        assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)

    def test_five_failures_lock_the_account_even_for_the_right_password(self, app, accounts):
        from windowsvc.services.admin.staff import FAILURES_BEFORE_LOCK

        for _ in range(FAILURES_BEFORE_LOCK):
            assert sign_in(app.test_client(), "clerk", "wrong-password").status_code == 401
        locked = sign_in(app.test_client(), "clerk", PASSWORD)
        assert locked.status_code == 401
        assert "连续登录失败次数过多" in locked.get_data(as_text=True)
        assert sign_in(app.test_client(), "chief").status_code == 302  # others unaffected

    def test_failures_from_one_client_are_throttled(self, app, accounts):
        app.config["SIGN_IN_FAILURES_PER_CLIENT"] = "3 per minute"
        client = app.test_client()
        statuses = [sign_in(client, f"nobody{i}", "x").status_code for i in range(4)]
        assert statuses == [401, 401, 401, 429]
        page = sign_in(client, "clerk").get_data(as_text=True)
        assert "操作过于频繁" in page

    def test_an_unsafe_next_address_is_ignored(self, app, accounts):
        client = app.test_client()
        response = sign_in(client, next="//evil.example/x")
        assert response.status_code == 302 and "evil" not in response.location
        response = sign_in(app.test_client(), next="/workbench/?queue=1")
        assert response.location == "/workbench/?queue=1"


class TestSessions:
    def test_an_idle_session_ends(self, app, accounts):
        client = app.test_client()
        sign_in(client)
        assert client.get("/signin").status_code == 200
        with client.session_transaction() as session:
            held = session[SESSION_KEY]
            idle = app.config["SESSION_IDLE_MINUTES"] * 60
            session[SESSION_KEY] = {**held, "seen": time.time() - idle - 1}
        page = client.get("/", follow_redirects=True).get_data(as_text=True)
        assert "工作人员登录" in page and 'class="who"' not in page

    def test_a_session_ends_after_its_longest_life_however_busy(self, app, accounts):
        client = app.test_client()
        sign_in(client)
        with client.session_transaction() as session:
            held = session[SESSION_KEY]
            longest = app.config["SESSION_MAX_HOURS"] * 3600
            session[SESSION_KEY] = {**held, "since": time.time() - longest - 1}
        page = client.get("/").get_data(as_text=True)
        assert 'class="who"' not in page and "工作人员登录" in page

    def test_revoking_the_principal_ends_the_session(self, app, accounts):
        from windowsvc.services.admin import credentials

        client = app.test_client()
        sign_in(client, "chief")
        assert "李科长" in client.get("/", follow_redirects=True).get_data(as_text=True)
        with app.app_context():
            credentials.revoke(accounts["chief"])
        assert "李科长" not in client.get("/", follow_redirects=True).get_data(as_text=True)
        assert sign_in(app.test_client(), "chief").status_code == 401

    def test_sign_out_needs_the_form_and_ends_the_session(self, app, accounts):
        client = app.test_client()
        sign_in(client)
        assert client.post("/signout").status_code == 400  # no CSRF token: a forged sign-out
        token = csrf_of(client, "/signin")
        assert client.post("/signout", data={"csrf_token": token}).status_code == 302
        with client.session_transaction() as session:
            assert SESSION_KEY not in session


class TestPagesAreDeniedByDefault:
    def test_a_page_without_a_declaration_is_refused(self, app, accounts):
        forgotten = pages("web_forgotten", __name__, url_prefix="/forgotten")

        @forgotten.get("/")
        def secret():
            return "secret"

        @forgotten.get("/declared")
        @allow("supervisor")
        def declared():
            return "for supervisors"

        app.register_blueprint(forgotten)
        client = app.test_client()
        sign_in(client)
        refused = client.get("/forgotten/")
        assert refused.status_code == 403 and "secret" not in refused.get_data(as_text=True)
        assert client.get("/forgotten/declared").status_code == 403  # a clerk
        anonymous = app.test_client().get("/forgotten/declared")
        assert anonymous.status_code == 302 and "/signin" in anonymous.location

    def test_the_api_still_answers_problem_json_to_a_browser(self, client):
        response = client.get("/api/v1/nothing-here", headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"

    def test_an_unknown_address_gets_a_page_in_a_browser(self, client):
        response = client.get("/nothing-here", headers={"Accept": "text/html,*/*;q=0.8"})
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "页面不存在" in response.get_data(as_text=True)


class TestRedirectsAndHeaders:
    @pytest.mark.parametrize(
        "target",
        ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "https://evil.example/"],
    )
    def test_a_next_address_that_could_leave_the_site_is_ignored(self, app, accounts, target):
        client = app.test_client()
        response = sign_in(client, next=target)
        assert response.status_code == 302
        assert "evil" not in response.location

    def test_pages_are_neither_cached_nor_framed(self, app, accounts):
        client = app.test_client()
        sign_in(client)
        for path in ("/signin", "/", "/workbench/"):
            response = client.get(path)
            assert response.headers["Cache-Control"] == "no-store", path
            assert response.headers["X-Frame-Options"] == "DENY", path
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
