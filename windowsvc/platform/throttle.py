"""The failure budget of number + query code (查询密码), shared by the API and the pages.

Every endpoint taking number + query code (the API's status and ratings, the citizen's pages)
draws on the same limits, under the same scopes: guessing a code through one must not buy fresh
attempts on another. A failed attempt is counted once answered: by the API's status code (400
malformed number, 404 no match) or, on a page that answers with a form, by ``failed(kind)``.

The three budgets are counted here with the ``limits`` library, in the store Flask-Limiter is
configured with (``RATELIMIT_*``), under the keys Flask-Limiter's shared limits used: each
request reads its limits and keys once and makes one storage call per budget. Flask-Limiter's
own machinery for a decorated limit (resolving, sorting and describing it at every request) cost
more than the lookup's SQL. The behaviour is the one Flask-Limiter had, which these budgets keep:

- the budgets are checked when the view runs, in the order of their windows, shortest first,
  and the first one exhausted answers 429 (``RateLimitExceeded``; the API answers it as
  problem+json, the pages with their own page);
- a failure budget is only tested before the view and drawn on once the answer is known;
- every answer carries ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset`` and ``Retry-After``
  for the refused budget, or else the first one checked;
- when the store fails (Redis down), this process counts in memory and looks for the store
  again with a growing back-off (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``); an error the
  fallback does not cover is logged, not raised (``RATELIMIT_SWALLOW_ERRORS``);
- ``RATELIMIT_ENABLED=false`` switches the budgets off.

Flask-Limiter's meta limits and breach callbacks (``RATELIMIT_META``, ``…_ON_BREACH_CALLBACK``),
which the service does not use, do not apply to these budgets; default limits
(``RATELIMIT_DEFAULT``) still do, through Flask-Limiter's before-request check.
"""

import logging
import time
from dataclasses import dataclass
from functools import lru_cache, wraps

from flask import after_this_request, current_app, g, request
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import STRATEGIES
from werkzeug.http import http_date, parse_date

from ..extensions import client_address
from ..rules import acceptance_number
from .context import setting

# the kinds of failure a page reports with ``failed``
MALFORMED, NO_MATCH = "malformed", "no_match"
STORE_LOST = "Rate limit storage unreachable - falling back to in-memory storage"
BACKEND_CHECKS = 5  # the back-off doubles up to 2**5 seconds, then starts again (Flask-Limiter's)
EXTENSION = "windowsvc.query_code_budgets"
COUNTED = "windowsvc.query_code_budgets"  # in the request's environ: what this request counted

log = logging.getLogger(__name__)


def failed(kind: str) -> None:
    """Count this request as a failed attempt: MALFORMED (the client's budget) or NO_MATCH (the
    client's and the number's), like the API's 400 and 404."""
    g.query_code_failure = kind


def _failed(response) -> bool:
    return response.status_code in (400, 404) or g.get("query_code_failure") is not None


def _no_match(response) -> bool:
    return response.status_code == 404 or g.get("query_code_failure") == NO_MATCH


def presented_number() -> str:
    """The number the request names, as a lookup of it would use it: the JSON body's, the
    form's, else the path's, parsed whole (``acceptance_number.parse``); normalised and cut
    short when it is no valid number (such a request finds no case)."""
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        number = body.get("number")
    else:
        number = request.form.get("number") or (request.view_args or {}).get("number")
    text = number if isinstance(number, str) else ""
    try:
        return acceptance_number.parse(text).text
    except acceptance_number.InvalidNumber:
        return acceptance_number.normalise(text)[:60]


@dataclass(frozen=True)
class Budget:
    """One of the three: its setting, its scope (the store's key), what it is counted by, and
    which answers draw on it (None: every lookup, counted before it runs)."""

    setting: str
    scope: str
    per_number: bool
    drawn_when: object = None


# The scopes are those of Flask-Limiter's shared limits before: the counters in a running store
# stay valid across the upgrade, and every endpoint taking a query code counts under them.
BUDGETS = (
    Budget("STATUS_FAILURES_PER_CLIENT", "status-client", False, _failed),
    Budget("STATUS_FAILURES_PER_NUMBER", "status-number", True, _no_match),
    # Failures are only counted once answered, so concurrent guesses could all pass the check
    # above; this ceiling counts every lookup up front and bounds that race.
    Budget("STATUS_LOOKUPS_PER_NUMBER", "status-number-all", True),
)


@lru_cache(maxsize=64)
def _limits_of(text: str) -> tuple:
    """The limits a setting names ("5 per hour", or several separated by ";"), parsed once;
    ValueError for a text that names none (``init_app`` refuses to start with one)."""
    return tuple(parse_many(text)) if text else ()


def _errors_of(storage) -> tuple:
    """The exceptions a failing ``storage`` raises: its client's, and limits' own wrapper."""
    own = storage.base_exceptions
    return (*(own if isinstance(own, tuple) else (own,)), StorageError)


@dataclass
class _Counted:
    """One budget as this request counts it: the limit, the store's key parts, the rule that
    draws on it after the answer (None: drawn on already)."""

    limit: object
    key: list
    drawn_when: object
    error_message = None  # read by RateLimitExceeded, which then names the limit


@dataclass
class _State:
    checked: list  # the budgets this request checked, in order
    refused: _Counted | None = None


class QueryCodeBudgets:
    """The three budgets of one app, in the store and under the settings Flask-Limiter uses."""

    def __init__(self, config):
        options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        self.storage = storage_from_string(
            config.get("RATELIMIT_STORAGE_URI") or "memory://", **options
        )
        strategy = STRATEGIES[config.get("RATELIMIT_STRATEGY") or "fixed-window"]
        self.shared = strategy(self.storage)
        self.fallback = (
            strategy(MemoryStorage())
            if config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED")
            else None
        )
        # what a failing store raises (redis errors for Redis); anything else is not a lost store
        self.store_errors = _errors_of(self.storage)
        self.store_lost = False
        self._checks, self._last_check = 0, time.time()
        self.swallow_errors = bool(config.get("RATELIMIT_SWALLOW_ERRORS", False))
        self.first_breach_only = bool(config.get("RATELIMIT_FAIL_ON_FIRST_BREACH", True))
        self.prefix = config.get("RATELIMIT_KEY_PREFIX", "")
        self.headers = bool(config.get("RATELIMIT_HEADERS_ENABLED", False))
        self.header_names = tuple(
            config.get(f"RATELIMIT_HEADER_{name}", default)
            for name, default in (
                ("LIMIT", "X-RateLimit-Limit"),
                ("REMAINING", "X-RateLimit-Remaining"),
                ("RESET", "X-RateLimit-Reset"),
                ("RETRY_AFTER", "Retry-After"),
            )
        )
        self.http_date = config.get("RATELIMIT_HEADER_RETRY_AFTER_VALUE") == "http-date"

    @property
    def strategy(self):
        """The shared store's counters, or this process's while the store is lost."""
        return self.fallback if self.store_lost and self.fallback else self.shared

    def check(self) -> None:
        """Before the view: test the failure budgets, draw on the ceiling; 429 when one is out.

        What the request is counted under is worked out first, outside the store's error
        handling: a request that cannot be read (a duplicate JSON key, a form too large) is
        answered for that, and never mistaken for a lost store (which would switch this process
        to counting in memory, with fresh budgets).
        """
        if self.store_lost and self.fallback and self._time_to_look_again() and self._answers():
            log.info("Rate limit storage recovered")
            self.store_lost, self._checks = False, 0
        counted = self._counted()
        after_this_request(self.after)  # this request only: others carry no budget
        try:
            self._check(counted)
        except self.store_errors:
            if self._switched_to_memory():
                self._check(counted)
            elif self.swallow_errors:
                log.exception("Failed to rate limit. Swallowing error")
            else:
                raise

    def _switched_to_memory(self) -> bool:
        """The store just failed: count in this process's memory from now on, if that is allowed
        and not done already (then the caller tries again there); False otherwise."""
        if not self.fallback or self.store_lost:
            return False
        log.warning(STORE_LOST)
        self.store_lost = True
        return True

    def _counted(self) -> list:
        """The budgets this request is counted under: limit and store key, in checking order."""
        client = client_address()
        number = "status-number:" + presented_number()
        counted = []
        for budget in BUDGETS:
            key = number if budget.per_number else client
            for limit in _limits_of(setting(budget.setting)):
                if not key:
                    log.error("Skipping limit: %s. Empty value found in parameters.", limit)
                    continue
                parts = [self.prefix, key, budget.scope] if self.prefix else [key, budget.scope]
                counted.append(_Counted(limit, parts, budget.drawn_when))
        counted.sort(key=lambda c: c.limit)  # stable: shortest window first, as Flask-Limiter
        return counted

    def _check(self, counted) -> None:
        first_refused = None
        strategy = self.strategy
        checked = []
        # per request (a test's app context may span several, and g with it)
        request.environ[COUNTED] = state = _State(checked)
        for entry in counted:
            checked.append(entry)
            if entry.drawn_when is None:
                allowed = strategy.hit(entry.limit, *entry.key)
            else:
                allowed = strategy.test(entry.limit, *entry.key)
            if not allowed:
                log.info(
                    "ratelimit %s (%s) exceeded at endpoint: %s",
                    entry.limit,
                    entry.key[-2],
                    entry.key[-1],
                )
                state.refused = entry  # the last refusal is described in the headers
                first_refused = first_refused or entry  # the first one is named in the answer
                if self.first_breach_only:
                    break
        if first_refused is not None:
            raise RateLimitExceeded(first_refused)

    def _answers(self) -> bool:
        try:
            return bool(self.storage.check())
        except Exception:
            return False

    def _time_to_look_again(self) -> bool:
        if self._checks > BACKEND_CHECKS:
            self._checks = 0
        if time.time() - self._last_check > 2**self._checks:
            self._last_check = time.time()
            self._checks += 1
            return True
        return False

    def after(self, response):
        """After the answer: draw on the failure budgets it fails, then describe the budget."""
        state = request.environ.get(COUNTED)
        if state is None or not state.checked:
            return response
        for entry in state.checked:
            if entry.drawn_when is not None and entry.drawn_when(response):
                try:
                    self.strategy.hit(entry.limit, *entry.key)
                except self.store_errors:
                    if not self.swallow_errors:
                        raise
                    log.exception("Failed to deduct rate limit. Swallowing error")
        if self.headers:
            self._describe(response, state.refused or state.checked[0])
        return response

    def _describe(self, response, entry) -> None:
        try:
            reset, remaining = self.strategy.get_window_stats(entry.limit, *entry.key)
        except self.store_errors:
            if self._switched_to_memory():
                self._describe(response, entry)
            elif self.swallow_errors:
                log.exception("Failed to update rate limit headers. Swallowing error")
            else:
                raise
            return
        reset_at = int(reset + 1)
        limit_name, remaining_name, reset_name, retry_name = self.header_names
        response.headers.add(limit_name, str(entry.limit.amount))
        response.headers.add(remaining_name, str(remaining))
        response.headers.add(reset_name, str(reset_at))
        existing = response.headers.get("Retry-After")
        if existing is not None:  # the answer's own (a date, or seconds)
            retry_after = parse_date(existing)
            if retry_after is None:
                retry_after = time.time() + int(existing)
            else:
                retry_after = time.mktime(retry_after.timetuple())
            reset_at = max(int(retry_after), reset_at)
        response.headers.set(
            retry_name,
            str(http_date(reset_at) if self.http_date else int(reset_at - time.time())),
        )

    def reset(self) -> None:
        """Forget every count (tests that repeat failures on purpose)."""
        self.storage.reset()
        if self.fallback:
            self.fallback.storage.reset()


def init_app(app) -> None:
    """Count the budgets for ``app`` (after Flask-Limiter's ``init_app``: the same settings)."""
    if not app.config.get("RATELIMIT_ENABLED", True):
        app.extensions[EXTENSION] = None
        return
    for budget in BUDGETS:  # a setting that names no limit stops the start, not the budgets
        text = app.config.get(budget.setting)
        try:
            _limits_of(text or "")
        except ValueError as exc:
            raise ValueError(f"WINDOWSVC_{budget.setting}={text!r} is not a limit: {exc}") from exc
    app.extensions[EXTENSION] = QueryCodeBudgets(app.config)


def reset() -> None:
    """Forget every count of the app's budgets (tests that repeat failures on purpose)."""
    budgets = current_app.extensions.get(EXTENSION)
    if budgets is not None:
        budgets.reset()


def refused_for_seconds() -> float | None:
    """How long the budget that refused this request stays exhausted (None: none refused)."""
    state = request.environ.get(COUNTED)
    budgets = current_app.extensions.get(EXTENSION)
    if state is None or state.refused is None or budgets is None:
        return None
    refused = state.refused
    try:
        reset, _remaining = budgets.strategy.get_window_stats(refused.limit, *refused.key)
    except budgets.store_errors:
        log.exception("Failed to read the refused budget's window. Swallowing error")
        return None  # the page says its default wait
    return int(reset + 1) - 1 - time.time()  # rounded as the Reset header is


def query_code_limited(view):
    """Decorate a view (a page's POST handler, an API MethodView) with the three budgets."""

    @wraps(view)
    def limited(*args, **kwargs):
        budgets = current_app.extensions.get(EXTENSION)
        if budgets is not None:
            budgets.check()
        return view(*args, **kwargs)

    return limited
