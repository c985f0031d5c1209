"""Styled error pages: no stack trace ever reaches a user, and no error page needs the database."""
import logging

import sqlalchemy as sa
from typing import Callable

from flask import Flask, Response, current_app, g, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from chapter.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing at this address. It may have moved or never existed."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "What you sent is too large. Split a file into smaller files and try again."),
    429: ("Too many requests", "You have made too many requests. Please wait a minute and try again."),
    500: ("Something went wrong", "We could not complete your request. It has been logged; please try again."),
    503: ("Back in a moment", "The membership system cannot reach its database right now. "
                              "Nothing was lost; please try again in a minute."),
}
RETRY_AFTER_SECONDS = 30

# Path prefixes whose HTTP errors a feature renders itself (the JSON API: application/problem+json), for the
# errors no blueprint handler sees: an address under the prefix that matches no route (404, 405).
_PREFIX_RENDERERS: dict[str, Callable[[HTTPException], Response]] = {}


def register_error_renderer(prefix: str, render: Callable[[HTTPException], Response]) -> None:
    """Let `render` answer the HTTP errors of every path that starts with `prefix`."""
    _PREFIX_RENDERERS[prefix] = render


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone: the pool replaces it on the next checkout
        log.warning("rollback failed after an error", exc_info=True)


def render_unavailable(status: int = 503, detail: str | None = None):
    """The error page that needs nothing but templates and static files (no user, no database)."""
    title, message = MESSAGES.get(status, (f"Error {status}", "The request failed."))
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
    # Flask-Login's context processor loads the session's user for every template: not this one.
    g._login_user = current_app.login_manager.anonymous_user()
    if request.path.startswith(("/stripe/", "/healthz")) or request.accept_mimetypes.best == "application/json":
        return {"error": title, "status": status}, status, headers
    return render_template("errors/unavailable.html", status=status, title=title, message=detail or message), \
        status, headers


def render_error(status: int, detail: str | None = None):
    """Render the error page for `status` with an optional specific detail."""
    title, message = MESSAGES.get(status, (f"Error {status}", "The request failed."))
    try:
        return render_template("errors/error.html", status=status, title=title, message=detail or message), status
    except sa.exc.SQLAlchemyError:
        # The page's menu loads the logged-in user; without a database, the plain page says the same.
        _rollback_quietly()
        return render_unavailable(status, detail)


def is_database_unavailable(error: BaseException) -> bool:
    """The database cannot be reached (down, restarting, connection killed), as opposed to a bad query."""
    if isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError,
                          sa.exc.TimeoutError)):
        return True
    return isinstance(error, sa.exc.DBAPIError) and bool(error.connection_invalidated)


def register_error_handlers(app: Flask) -> None:
    """Map HTTP errors, CSRF failures, an unreachable database and unexpected exceptions to styled pages."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, "Your form expired or was sent from another site. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request_ctx.url_adapter is None:
            # An untrusted Host header (TRUSTED_HOSTS): no URL can be built for it, so no page either.
            return "Bad request: this site is not served under that host name.\n", error.code or 400, \
                {"Content-Type": "text/plain; charset=utf-8"}
        for prefix, render in _PREFIX_RENDERERS.items():
            if request.path.startswith(prefix):
                return render(error)
        if request.path.startswith("/stripe/") or request.accept_mimetypes.best == "application/json":
            return {"error": error.name}, error.code
        return render_error(error.code or 500)

    @app.errorhandler(sa.exc.SQLAlchemyError)
    def database_error(error: sa.exc.SQLAlchemyError):
        _rollback_quietly()
        if is_database_unavailable(error):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, error.__class__.__name__)
            return render_unavailable(503)
        log.exception("Database error on %s %s", request.method, request.path)
        return render_error(500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("Unhandled error on %s %s", request.method, request.path)
        _rollback_quietly()
        return render_error(500)
