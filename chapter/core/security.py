"""Hardening every response and request: security headers, request size, proxies, trusted hosts.

The Content-Security-Policy allows scripts from this site and from Stripe.js only: templates carry no
inline script (what was inline lives in static/js/), so an injected <script> or onclick= does not run.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, g, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

DATABASE_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER, what every id and chapter number is stored as


class DatabaseIntegerConverter(IntegerConverter):
    """<int:...> in routes, bounded to what the database can hold: a larger number matches no route (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", DATABASE_INT_MAX)
        super().__init__(map, *args, **kwargs)

# The hosts real Stripe.js talks to (docs.stripe.com/security/guide#content-security-policy).
STRIPE_HOSTS = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(config) -> str:
    """The policy: our own scripts, styles and images; Stripe.js and its frames; nobody may frame us."""
    stripe_origin = _origin(config.get("STRIPE_JS_URL"))
    extra: dict[str, list[str]] = {"script-src": [], "frame-src": [], "connect-src": []}
    if stripe_origin:
        for directive in extra:
            extra[directive].append(stripe_origin)
        if stripe_origin == "https://js.stripe.com":
            for directive, hosts in STRIPE_HOSTS.items():
                extra[directive] += [h for h in hosts if h not in extra[directive]]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *extra["script-src"]],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *extra["connect-src"]],
        "frame-src": extra["frame-src"] or ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def init_security(app: Flask) -> None:
    """Install the proxy fix, the early size check and the headers on `app`."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        # Only as many X-Forwarded-* hops as there are proxies we run are believed; a client
        # cannot pick its own address (rate limits, lock-out, logs) by sending the header itself.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)

    @app.before_request
    def forget_the_previous_requests_user():
        """Each request loads its user from its own session (the version check runs every time).

        In production g is new for every request; a test client that reuses one app context would
        otherwise see the user and CSRF token another client's request left in g.
        """
        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    @app.before_request
    def refuse_oversized_bodies():
        """A body larger than MAX_CONTENT_LENGTH is refused from its Content-Length, before any of it is read."""
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()

    @app.before_request
    def refuse_nul_characters():
        """A NUL character in a query or a form is no one's typing: 400 with a reason, before any database
        (PostgreSQL refuses NUL in text, which would otherwise surface as a database error)."""
        if request.path.startswith("/stripe/"):
            return None  # the webhook reads its raw body itself
        values = list(request.args.values())
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += list(request.form.values())
        if any("\x00" in value for value in values):
            raise BadRequest("The request contains a NUL character, which no field accepts.")
        return None

    @app.after_request
    def security_headers(response):
        """The same protective headers on every response, error pages and files included."""
        config = app.config
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(config))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers without CSP 2
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if config.get("PRODUCTION"):
            headers.setdefault("Strict-Transport-Security", f"max-age={int(config['HSTS_SECONDS'])}; includeSubDomains")
        return response
