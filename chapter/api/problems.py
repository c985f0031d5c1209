"""Errors of /api/v1 as application/problem+json (RFC 9457): a status, a title and a `detail` that says
what to change; validation errors list each field at fault under `errors`."""
from __future__ import annotations

import logging
from http import HTTPStatus

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, json, request
from werkzeug.exceptions import HTTPException

from chapter.extensions import db

log = logging.getLogger(__name__)
PROBLEM_TYPE = "application/problem+json"

DETAILS = {
    400: "The request could not be read.",
    401: "This request needs a valid API token: send `Authorization: Bearer <token>`.",
    403: "The token may not do this.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request body is too large.",
    409: "The object is not in a state that allows this.",
    415: "Send the body as application/json.",
    422: "Some fields are not valid.",
    429: "Too many requests for this token; wait and try again (see the RateLimit headers).",
    500: "The request failed on our side; it has been logged.",
    503: "The service cannot reach its database right now; try again in a minute.",
}


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(required=True, metadata={"description": "The parameter or body field at fault"})
    location = ma.fields.String(metadata={"description": "Where the field is: query, json, path or header"})
    message = ma.fields.String(required=True)


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem detail."""

    type = ma.fields.String(metadata={"description": "A URI naming the kind of problem; about:blank by default"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True, metadata={"description": "What went wrong and what to change"})
    instance = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema), metadata={"description": "Fields at fault"})


def problem(status: int, detail: str | None = None, *, errors: list[dict] | None = None,
            headers: dict | None = None) -> Response:
    """A problem+json response."""
    body: dict = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                  "detail": detail or DETAILS.get(status, HTTPStatus(status).description)}
    if request:
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="chapter-api"'
    return response


def field_errors(messages) -> list[dict]:
    """webargs' {"query": {"limit": ["Must be..."]}} as [{"field": "limit", "location": "query", "message": ...}]."""
    found: list[dict] = []

    def walk(value, location: str, path: list[str]):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, location, [*path, str(key)])
        elif isinstance(value, (list, tuple)):
            if all(isinstance(item, str) for item in value):
                found.append({"field": ".".join(path) or location, "location": location, "message": " ".join(value)})
            else:
                for item in value:
                    walk(item, location, path)
        else:
            found.append({"field": ".".join(path) or location, "location": location, "message": str(value)})

    for location, fields in (messages or {}).items():
        walk(fields, str(location), [])
    return found


def http_problem(error: HTTPException) -> Response:
    """Any HTTP error raised in /api/v1 (aborts, webargs' validation, Flask-Limiter, routing) as a problem."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = field_errors(data.get("messages")) if data.get("messages") else None
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if status == 422 or status == 400:
            status = 422 if not any(e["field"] == "json" for e in errors) else 400
    else:
        detail = data.get("message") or _werkzeug_detail(error)
    headers = dict(data.get("headers") or {})
    if status == 405 and error.get_headers():
        headers.update({k: v for k, v in error.get_headers() if k == "Allow"})
    if status == 429:
        detail = f"Too many requests: the limit is {error.description}. Wait and try again (see the RateLimit headers)."
    return problem(status, detail, errors=errors, headers=headers)


def _werkzeug_detail(error: HTTPException) -> str:
    """Our own message when the code aborted with one; else the standard sentence for the status."""
    description = error.description or ""
    standard = type(error).description if hasattr(type(error), "description") else None
    if description and description != standard:
        return description
    return DETAILS.get(error.code or 500, description or "The request failed.")


def unexpected_problem(error: Exception) -> Response:
    """An exception no handler expected: logged, rolled back, a 500 (503 when the database is down)."""
    if isinstance(error, HTTPException):
        return http_problem(error)
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone
        log.warning("rollback failed after an API error", exc_info=True)
    from chapter.core.errors_views import is_database_unavailable

    if isinstance(error, sa.exc.SQLAlchemyError) and is_database_unavailable(error):
        return problem(503, headers={"Retry-After": "30"})
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return problem(500)
