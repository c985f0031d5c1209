"""Errors of /api/v1 are problem+json naming the field; rate limits are per token and say what is left."""
import pytest

from chapter.extensions import db
from tests import factories
from tests.api.conftest import make_token


@pytest.fixture
def token(app):
    chapter = factories.chapter(40)
    president = factories.officer(chapter, "president")
    db.session.commit()
    return make_token(president, ["roster:read"], [chapter])


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=abc", "limit"), ("status=sleeping", "status"), ("view=never", "view"),
    ("joined_from=2026-13-45", "joined_from"), ("q=" + "x" * 101, "q"),
])
def test_bad_query_arguments_are_422_problems_naming_the_field(token, api, query, field):
    response = api.get(f"/chapters/40/roster?{query}", token)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 422 and body["title"] == "Unprocessable Entity"
    assert [error["field"] for error in body["errors"]] == [field]
    assert body["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize("method, path, status", [
    ("get", "/nowhere", 404), ("get", "/chapters/999", 404), ("post", "/chapters", 405),
    ("get", "/chapters/99999999999", 404),
])
def test_unknown_addresses_and_methods_are_problems_inside_the_api_only(app, api, method, path, status):
    response = getattr(api.client, method)(f"/api/v1{path}")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"]
    page = app.test_client().get("/nowhere")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_nul_character_is_a_400_problem(token, api):
    response = api.get("/chapters/40/roster?q=a%00b", token)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_the_rate_limit_is_per_token_and_the_headers_say_what_is_left(app, token, api):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    chapter = factories.chapter(41)
    other = make_token(factories.officer(chapter, "president"), ["roster:read"], [chapter])
    remaining = [api.get("/chapters/40/roster", token).headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = api.get("/chapters/40/roster", token)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert "3 per 1 minute" in refused.get_json()["detail"]
    assert refused.headers["Retry-After"]
    assert api.get("/chapters/41/roster", other).status_code == 200  # another token has its own budget


def test_the_certificate_check_is_rate_limited_on_its_own(app, api):
    app.config["API_VERIFY_RATE_LIMIT"] = "2 per hour"
    statuses = [api.get("/certifications/verify?certificate_number=C1&last_name=Nobody").status_code
                for _ in range(3)]
    assert statuses == [404, 404, 429]
