"""Styled error pages: no stack trace ever reaches a user."""
import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from chapter.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing at this address. It may have moved or never existed."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("File too large", "The file is too large to upload. Split it into smaller files and try again."),
    429: ("Too many requests", "You have made too many requests. Please wait a minute and try again."),
    500: ("Something went wrong", "We could not complete your request. It has been logged; please try again."),
}


def render_error(status: int, detail: str | None = None):
    """Render the error page for `status` with an optional specific detail."""
    title, message = MESSAGES.get(status, (f"Error {status}", "The request failed."))
    return render_template("errors/error.html", status=status, title=title, message=detail or message), status


def register_error_handlers(app: Flask) -> None:
    """Map HTTP errors, CSRF failures and unexpected exceptions to styled pages."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, "Your form expired or was sent from another site. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith("/stripe/") or request.accept_mimetypes.best == "application/json":
            return {"error": error.name}, error.code
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
