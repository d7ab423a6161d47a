"""The client behind trusted reverse proxies: ProxyFix for the whole app, pages and API alike.

Every per-client budget keys on ``request.remote_addr`` (Flask-Limiter's ``get_remote_address``:
the query-code budget of platform.throttle, the staff sign-in budget). Behind a proxy that
address is the proxy's, so every citizen would share one budget and one attacker's guesses would
lock everyone out; with ``TRUSTED_PROXY_HOPS`` set, the address is the one the last trusted proxy
saw. With 0 the ``X-Forwarded-*`` headers are ignored, so a client reaching gunicorn directly
cannot pick a fresh address, and a fresh budget, by sending one.
"""

from werkzeug.middleware.proxy_fix import ProxyFix


def install(app) -> None:
    """Believe ``X-Forwarded-For``/``-Proto``/``-Host`` from ``TRUSTED_PROXY_HOPS`` proxies."""
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops < 0:
        raise ValueError(f"TRUSTED_PROXY_HOPS must be 0 or more, not {hops}")
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
