"""The failure budget of number + query code (查询密码), shared by the API and the pages.

Every endpoint taking number + query code (the API's status and ratings, the citizen's pages)
draws on the same limits, under the same scopes: guessing a code through one must not buy fresh
attempts on another. A failed attempt is counted once answered: by the API's status code (400
malformed number, 404 no match) or, on a page that answers with a form, by ``failed(kind)``.
"""

from flask import g, request

from ..extensions import limiter
from ..rules import acceptance_number
from .context import setting

# the kinds of failure a page reports with ``failed``
MALFORMED, NO_MATCH = "malformed", "no_match"


def failed(kind: str) -> None:
    """Count this request as a failed attempt: MALFORMED (the client's budget) or NO_MATCH (the
    client's and the number's), like the API's 400 and 404."""
    g.query_code_failure = kind


def _failed(response) -> bool:
    return response.status_code in (400, 404) or g.get("query_code_failure") is not None


def _no_match(response) -> bool:
    return response.status_code == 404 or g.get("query_code_failure") == NO_MATCH


def presented_number() -> str:
    """The number the request names, normalised (valid or not): the JSON body's, the form's,
    else the path's."""
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        number = body.get("number")
    else:
        number = request.form.get("number") or (request.view_args or {}).get("number")
    return acceptance_number.normalise(number if isinstance(number, str) else "")[:60]


def _number_key():
    return "status-number:" + presented_number()


def _client_limit():
    return setting("STATUS_FAILURES_PER_CLIENT")


def _number_limit():
    return setting("STATUS_FAILURES_PER_NUMBER")


def _number_ceiling():
    return setting("STATUS_LOOKUPS_PER_NUMBER")


QUERY_CODE_LIMITS = [
    limiter.shared_limit(_client_limit, "status-client", deduct_when=_failed),
    limiter.shared_limit(
        _number_limit, "status-number", key_func=_number_key, deduct_when=_no_match
    ),
    # Failures are only counted once answered, so concurrent guesses could all pass the check
    # above; this ceiling counts every lookup up front and bounds that race.
    limiter.shared_limit(_number_ceiling, "status-number-all", key_func=_number_key),
]


def query_code_limited(view):
    """Decorate a view function with QUERY_CODE_LIMITS (a page's POST handler)."""
    for limit in reversed(QUERY_CODE_LIMITS):
        view = limit(view)
    return view
