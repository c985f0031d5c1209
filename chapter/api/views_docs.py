"""The OpenAPI 3.1 document (a stable interface) and its readable page (Swagger UI, vendored under static/)."""
from __future__ import annotations

import flask
from flask import jsonify, render_template

from chapter.api import api, bp


def openapi_json():
    """The API's OpenAPI 3.1 document, generated from the views and their schemas."""
    return jsonify(api.spec.to_dict())


def docs():
    """The API reference, readable in a browser (the viewer is served from static/vendor/swagger-ui)."""
    return render_template("api/docs.html")


# Flask's own add_url_rule: these two are not operations of the API, so they stay out of its document.
flask.Blueprint.add_url_rule(bp, "/openapi.json", view_func=openapi_json, methods=["GET"])
flask.Blueprint.add_url_rule(bp, "/docs", view_func=docs, methods=["GET"])
