"""Health check, error pages, and the promise that no stack trace reaches a user."""
import sqlalchemy as sa

from chapter.core.money import format_money, parse_money
from tests import factories


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_down(app, client, monkeypatch):
    from chapter.extensions import db

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_unknown_page_gets_the_styled_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Not found" in page and "Go to the home page" in page


def test_unknown_chapter_number_is_404(client):
    assert client.get("/chapters/9999").status_code == 404


def test_an_unexpected_error_shows_the_500_page_without_a_trace(app, client, monkeypatch):
    from chapter.chapters import services

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "directory", explode)
    response = client.get("/chapters")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_a_form_without_csrf_token_is_refused(app, client):
    factories.user("someone@example.org")
    from chapter.extensions import db

    db.session.commit()
    response = client.client.post("/login", data={"email": "someone@example.org", "password": "x"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True) or "expired" in response.get_data(as_text=True)


def test_pages_share_the_layout_with_an_alert_region(client):
    page = client.get("/chapters").get_data(as_text=True)
    assert 'role="alert"' in page
    assert "vendor/bootstrap/bootstrap.min.css" in page
    assert "cdn" not in page.lower()


def test_money_is_formatted_from_cents():
    assert format_money(21000, "USD") == "$210.00"
    assert format_money(-550, "USD") == "-$5.50"
    assert format_money(123456789, "CAD") == "CAD 1,234,567.89"  # the code only when not the site's currency
    assert parse_money("1,210.50") == 121050
