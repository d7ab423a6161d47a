"""Configuration: defaults here, overridden by ``WINDOWSVC_*`` environment variables."""

from pathlib import Path

from flask import Config


class Defaults:
    """Settings every deployment starts from; see README "Configuration"."""

    DATABASE_URL = None  # default: sqlite file under ./var/ (resolved in load_config)
    SECRET_KEY = "dev-only-change-me"
    REGION_CODE = "330100"  # 杭州市 (GB/T 2260); the accepting hall's region
    TIMEZONE = "Asia/Shanghai"
    CALENDAR_OVERRIDES = None  # path to a JSON file, or inline JSON
    WARNING_DAYS = 2
    RED_CARD_DAYS = 3
    RATING_RECTIFY_DAYS = 5  # working days a department has to close a bad rating's rectification
    DEFAULT_RATING_DAYS = None  # working days after which no rating counts as 满意 (None: off)
    RATELIMIT_STORAGE_URI = "memory://"  # per process: use redis://… with several workers/nodes
    RATELIMIT_MEMORY_ACKNOWLEDGED = False  # true: gunicorn may start >1 worker on memory://
    STATUS_FAILURES_PER_CLIENT = "10 per 10 minutes"
    STATUS_FAILURES_PER_NUMBER = "5 per hour"
    STATUS_LOOKUPS_PER_NUMBER = "60 per hour"  # every lookup, counted before it runs
    # A worker remembers a valid token this long; a revocation made in another process (the CLI,
    # another worker) takes effect within it. 0: every request reads the principals table.
    AUTH_CACHE_SECONDS = 5.0
    MAX_CONTENT_LENGTH = 256 * 1024
    EVIDENCE_SOURCE = "none"  # none | simulated | http(s)://… (一证通办 shared data)
    EVIDENCE_TOKEN = None
    EVIDENCE_TIMEOUT = 3.0
    PUSH_ENDPOINTS = None  # JSON {"department": "http://…"}: departments the engine calls
    NOTIFIER_URL = None  # notification gateway; default: notices appended to NOTICE_LOG
    NOTICE_LOG = "var/notices.jsonl"
    SWEEP_STAMP_FILE = "var/sweep-last-success"  # the sweep's last success, read by /metrics
    LOG_LEVEL = "INFO"
    # pages (windowsvc/web): staff sessions and the proxies in front of the app
    SESSION_IDLE_MINUTES = 30  # signed out after this long without a request
    SESSION_MAX_HOURS = 10  # and after this long in any case (one working day)
    SESSION_COOKIE_NAME = "windowsvc_session"
    SESSION_COOKIE_SECURE = False  # True: Secure even over http; https requests get it anyway
    # the address citizens reach the pages at, printed as the QR code on notices (default: the
    # address the clerk's browser used, which may be an internal name)
    PUBLIC_BASE_URL = None
    TRUSTED_PROXY_HOPS = 0  # proxies whose X-Forwarded-For/-Proto/-Host to believe (ProxyFix)
    SIGN_IN_FAILURES_PER_CLIENT = "10 per 10 minutes"


def load_config(app, overrides=None):
    """Fill ``app.config`` from defaults, the ``WINDOWSVC_`` environment, then ``overrides``."""
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("WINDOWSVC")
    if overrides:
        app.config.update(overrides)
    url = app.config.get("DATABASE_URL") or default_sqlite_url()
    app.config["DATABASE_URL"] = url
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(url))
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["API_TITLE"] = "windowsvc"
    app.config["API_VERSION"] = "v1"
    app.config["OPENAPI_VERSION"] = "3.0.3"
    app.config["OPENAPI_URL_PREFIX"] = "/api"
    app.config["OPENAPI_JSON_PATH"] = "openapi.json"
    app.config["OPENAPI_SWAGGER_UI_PATH"] = "docs"
    app.config["OPENAPI_SWAGGER_UI_URL"] = "/api/docs/static/"
    # no call to validator.swagger.io from the docs page: it works offline and leaks nothing
    app.config["OPENAPI_SWAGGER_UI_CONFIG"] = {"validatorUrl": None}
    app.config["JSON_SORT_KEYS"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False


def settings(overrides=None) -> Config:
    """Defaults and the ``WINDOWSVC_`` environment without an app (gunicorn's master reads it)."""
    config = Config(str(Path.cwd()))
    config.from_object(Defaults)
    config.from_prefixed_env("WINDOWSVC")
    config.update(overrides or {})
    return config


def default_sqlite_url():
    """The embedded default: a SQLite file under ./var/ of the working directory."""
    var = Path.cwd() / "var"
    var.mkdir(exist_ok=True)
    return f"sqlite:///{var / 'windowsvc.db'}"


def normalise_database_url(url):
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url):
    """Engine settings per backend: SQLite waits for the write lock instead of failing."""
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        if url not in ("sqlite://", "sqlite:///:memory:"):  # in memory: one static connection
            # Enough pooled connections for every gunicorn thread: an overflow connection is
            # closed when returned, and opening one (pragmas, schema parse) costs more than a
            # request.
            options.update(pool_size=20, max_overflow=20)
        return options
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
