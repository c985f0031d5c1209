"""Users make, list and revoke tokens on their account page; staff list and revoke everyone's."""
import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from chapter.api.models import ApiToken
from chapter.core.models import today
from chapter.extensions import db
from tests import factories
from tests.api.conftest import make_token

TOKEN_TEXT = re.compile(r'value="(chp_[0-9a-f]{12}_([A-Za-z0-9_-]{43}))"')


def test_an_officer_makes_a_token_shown_once_stored_hashed_and_usable(app, client, api):
    chapter = factories.chapter(40)
    factories.chapter(31)
    president = factories.officer(chapter, "president")
    db.session.commit()
    client.login(president.email)
    page = client.get("/account/api-tokens").get_data(as_text=True)
    assert "Chapter 40" in page and "Chapter 31" not in page  # only the chapters they hold a position in
    response = client.submit("/account/api-tokens", {
        "name": "Web site", "scopes": ["roster:read", "me:read"], "chapters": [str(chapter.id)],
        "expires_on": (today() + timedelta(days=30)).isoformat()})
    assert response.status_code == 200
    shown = TOKEN_TEXT.search(response.get_data(as_text=True))
    plain, secret = shown.group(1), shown.group(2)  # the secret may itself hold "_": never split the text on it
    row = db.session.scalar(sa.select(ApiToken))
    assert row.secret_sha256 == hashlib.sha256(plain.encode()).hexdigest()
    assert secret not in row.secret_sha256 + row.prefix
    assert api.get("/chapters/40/roster", plain).status_code == 200
    again = client.get("/account/api-tokens").get_data(as_text=True)
    assert plain not in again and f"chp_{row.prefix}_" in again  # listed by its prefix, never shown again
    assert "never" not in again.split("Web site")[1].split("</tr>")[0]  # its last use is listed
    with db.engine.connect() as other_connection:  # committed, not only flushed in the request's session
        assert other_connection.scalar(sa.select(ApiToken.last_used_at)) is not None


def test_a_token_longer_than_a_year_or_without_scopes_is_refused_by_field(app, client):
    chapter = factories.chapter(40)
    president = factories.officer(chapter, "president")
    db.session.commit()
    client.login(president.email)
    response = client.submit("/account/api-tokens", {
        "name": "Too long", "scopes": ["roster:read"], "chapters": [str(chapter.id)],
        "expires_on": (today() + timedelta(days=400)).isoformat()})
    assert response.status_code == 400
    assert "at most 365 days" in response.get_data(as_text=True)
    response = client.submit("/account/api-tokens", {"name": "None", "expires_on": (today() + timedelta(days=4)).isoformat()})
    assert response.status_code == 400 and "Choose at least one scope." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_the_owner_revokes_a_token_and_it_stops_working(app, client, api):
    chapter = factories.chapter(40)
    president = factories.officer(chapter, "president")
    db.session.commit()
    plain = make_token(president, ["roster:read"], [chapter])
    row = db.session.scalar(sa.select(ApiToken))
    client.login(president.email)
    response = client.submit(f"/account/api-tokens/{row.id}/revoke", form_url="/account/api-tokens",
                             follow_redirects=True)
    assert "revoked" in response.get_data(as_text=True)
    assert api.get("/chapters/40/roster", plain).status_code == 401


def test_another_user_cannot_revoke_my_token(app, client):
    chapter = factories.chapter(40)
    president = factories.officer(chapter, "president")
    make_token(president, ["roster:read"], [chapter])
    other = factories.user()
    db.session.commit()
    row = db.session.scalar(sa.select(ApiToken))
    client.login(other.email)
    response = client.submit(f"/account/api-tokens/{row.id}/revoke", form_url="/account/api-tokens")
    assert response.status_code == 404
    db.session.refresh(row)
    assert row.revoked_at is None


def test_staff_list_every_token_and_revoke_any(app, client, api):
    chapter = factories.chapter(40)
    president = factories.officer(chapter, "president")
    plain = make_token(president, ["roster:read"], [chapter])
    staff = factories.staff()
    member = factories.user()
    db.session.commit()
    client.login(member.email)
    assert client.get("/admin/api-tokens").status_code == 403
    client.logout()
    client.login(staff.email)
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert president.email in page and "roster:read" in page
    row = db.session.scalar(sa.select(ApiToken))
    client.submit(f"/admin/api-tokens/{row.id}/revoke", form_url="/admin/api-tokens")
    assert api.get("/chapters/40/roster", plain).status_code == 401
    db.session.refresh(row)
    assert row.revoked_by_id == staff.id


def test_the_docs_page_loads_the_vendored_viewer_and_the_document_is_openapi_3_1(app):
    web = app.test_client()
    page = web.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script>" not in html and "style=" not in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert web.get(asset).status_code == 200, asset
    document = web.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/chapters/{number}/roster" in document["paths"]
