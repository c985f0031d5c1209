"""The JSON API at /api/v1 (tokens, OpenAPI 3.1 document, docs page) and the token pages.

flask-smorest (pinned in requirements.txt) generates the OpenAPI document from the views' marshmallow
schemas and validates their arguments with webargs. It plugs into the existing Flask app as an extension
with ordinary blueprints (APIFlask needs its own app class); we keep its spec and argument parsing and
turn off its app-wide error handler: the HTML pages keep theirs, /api/v1 answers application/problem+json.
"""
from __future__ import annotations

import http

from flask import Blueprint, Flask
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest.utils import prepare_response

from chapter.api.problems import PROBLEM_TYPE, ProblemSchema

API_PREFIX = "/api/v1"
bp = ApiBlueprint("api", __name__, url_prefix=API_PREFIX, description="The chapter membership API")
pages = Blueprint("api_tokens", __name__)  # the token pages of the HTML app (account, staff)


class ChapterApi(Api):
    """flask-smorest's Api with problem+json errors documented and no app-wide error handler."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """The API blueprint registers its own (see views); the HTML app keeps its error pages."""

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error, as an RFC 9457 problem", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


api = ChapterApi(spec_kwargs={
    "title": "Chapter membership API", "version": "1", "openapi_version": "3.1.0",
    "info": {"description": "Read rosters, members, events and payments of the chapters your token names; "
                            "see docs/api.md. Every request needs `Authorization: Bearer <token>` except the "
                            "public directory and the certificate check."},
    "servers": [{"url": "/"}],
})


def init_api(app: Flask) -> None:
    """Register the API blueprint (CSRF-exempt: no cookie authenticates it), its docs and the token pages."""
    from chapter.api import views, views_docs, views_events, views_money, views_people, pages_tokens  # noqa: F401
    from chapter.extensions import csrf

    api.init_app(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                                   "description": "An API token from your account page"})
    # CSRF protects cookie-authenticated forms; the API reads no cookie (a Bearer token a cross-site page
    # cannot attach), so a forged cross-site request carries no credentials and there is nothing to protect.
    csrf.exempt(bp)
    api.register_blueprint(bp)
    app.register_blueprint(pages)
    from chapter.core.errors_views import register_error_renderer
    from chapter.api.problems import http_problem

    register_error_renderer(API_PREFIX + "/", http_problem)
