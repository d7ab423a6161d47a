"""Browser tests: the pages in Debian's chromium driven by Playwright, against the app served
over real HTTP on 127.0.0.1 (SQLite, a frozen clock on 2026-12-01, staff accounts per role).

Playwright's own browser download is not reachable here: ``browser_type_launch_args`` points
Playwright at the system chromium. A failing test keeps a screenshot (``--screenshot``, set in
pyproject.toml) under ``var/test-results/``.
"""

import os
import shutil
import threading
from datetime import datetime

import pytest
from werkzeug.serving import make_server

from tests.fakes import FakeClock
from windowsvc import clock

PASSWORD = "correct-horse-42"
# username → (role, department, name)
STAFF = {
    "clerk": ("window", None, "综合窗口01-王芳"),
    "clerk2": ("window", None, "综合窗口02-陈静"),
    "chief": ("supervisor", "scjg", "市场监管局-李科长"),
    "chief_zjj": ("supervisor", "zjj", "住建局-周科长"),
    "watch": ("oversight", None, "电子监察-赵敏"),
    "system": ("backoffice", "scjg", "市场监管业务系统"),
}
# no network beyond loopback: the flags Chromium needs on a machine with a closed network
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = chromium_path()
    if path is None:
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get)")
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    """No fixed base URL (pytest-base-url's own fixture warns on this pytest); see ``site``."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def frozen_clock():
    """2026-12-01 10:00 in Shanghai, a Tuesday in December: due dates reach into 2027."""
    fixed = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=clock.SHANGHAI))
    clock.set_clock(fixed)
    yield fixed
    clock.set_clock(None)


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    """Pages are tested on SQLite; the services under them run on both databases elsewhere."""
    path = tmp_path / "windowsvc.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url, frozen_clock):
    from windowsvc import create_app
    from windowsvc.extensions import db

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "browser-test-secret",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def accounts(app):
    """A staff account per entry of STAFF, all with PASSWORD."""
    from windowsvc.services.admin import staff

    with app.app_context():
        for username, (role, department, name) in STAFF.items():
            staff.create(username, PASSWORD, role, name, department)
    return STAFF


@pytest.fixture
def tokens(app):
    """Bearer tokens for setting cases up through the API (a window, scjg's system)."""
    from windowsvc.services.admin import credentials

    with app.app_context():
        return {
            "window": credentials.create("window", "测试窗口", None)[1],
            "scjg": credentials.create("backoffice", "市场监管业务系统", "scjg")[1],
            "oversight": credentials.create("oversight", "测试监察", None)[1],
        }


@pytest.fixture
def api(app):
    """A test client of the app, for setting cases up through the API."""
    return app.test_client()


@pytest.fixture
def site(app, accounts):
    """The app over real HTTP on a loopback port; its base URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    http.server_close()
    thread.join(timeout=5)


@pytest.fixture
def sign_in(page, site):
    """Sign a staff account in through the form; the page is left on the role's home."""

    def _sign_in(username, password=PASSWORD):
        page.goto(f"{site}/signin")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        return page

    return _sign_in


@pytest.fixture
def axe():
    """Assert that a page has no serious or critical axe-core violations."""
    from axe_playwright_python.sync_playwright import Axe

    checker = Axe()

    def _check(page):
        results = checker.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert bad == [], f"{page.url}: " + "\n".join(bad)
        return results

    return _check


@pytest.fixture
def shot():
    """With WINDOWSVC_SCREENSHOTS=<dir> (``make screenshots``), save the page at desktop and
    phone width as <dir>/<name>-desktop.png and <name>-phone.png; otherwise do nothing."""
    folder = os.environ.get("WINDOWSVC_SCREENSHOTS")

    def _shot(page, name):
        if not folder:
            return
        os.makedirs(folder, exist_ok=True)
        size = page.viewport_size
        for label, width, height in (("desktop", 1280, 900), ("phone", 390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=os.path.join(folder, f"{name}-{label}.png"), full_page=True)
        if size:
            page.set_viewport_size(size)

    return _shot
