"""Roster export: the list on screen as CSV, streamed, safe in spreadsheets, and logged."""
import csv
import re
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.chapters import exports, services
from chapter.core.audit import AuditEntry
from chapter.core.models import today
from chapter.extensions import db
from tests import factories


@pytest.fixture
def roster(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    other = factories.chapter(31)
    factories.member(home=home, status="active", first_name="Ada", last_name="Lovelace", email="ada@example.org",
                     employer="=HYPERLINK(\"http://evil\")", phone="+1 555 0100")
    factories.member(home=home, status="lapsed", first_name="Alan", last_name="Turing", email="alan@example.org")
    factories.member(home=home, status="pending", first_name="Chloé", last_name="Müller", email="chloe@example.org")
    factories.member(home=other, status="active", first_name="Ada", last_name="Yonath", email="yonath@example.org")
    president = factories.officer(home, "president")
    db.session.commit()
    client.login(president.email)
    return president


def export(client, url: str):
    """Export CSV is a button: a POST with the page's CSRF token (the export is logged)."""
    return client.submit(url, {}, form_url="/chapters/40/roster")


def rows_of(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_is_the_list_on_screen(roster, client):
    response = export(client, "/chapters/40/roster.csv?status=active")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'attachment; filename="roster-40-' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = rows_of(response)
    assert [(r["Last name"], r["Status"]) for r in rows] == [("Lovelace", "Active")]
    assert rows[0]["Membership type"] == "Professional" and rows[0]["Member until"]


def test_export_keeps_the_sort_and_every_member_of_an_unfiltered_list(roster, client):
    rows = rows_of(export(client, "/chapters/40/roster.csv?sort=name&dir=desc"))
    assert [r["Last name"] for r in rows] == ["Turing", "Müller", "Lovelace"]
    assert rows[1]["First name"] == "Chloé" and rows[1]["Status"] == "Pending" and rows[1]["Member until"] == ""


def test_cells_that_would_run_as_formulas_are_neutralised_but_phone_numbers_are_not(roster, client):
    ada = rows_of(export(client, "/chapters/40/roster.csv?q=lovelace"))[0]
    assert ada["Employer"].startswith("'=HYPERLINK")
    assert ada["Phone"] == "+1 555 0100"


def test_the_export_is_streamed_in_batches(roster, client, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_BATCH", 1)
    response = export(client, "/chapters/40/roster.csv")
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 4  # the heading, then one chunk per batch of one row
    assert sum(chunk.count(b"\r\n") if isinstance(chunk, bytes) else chunk.count("\r\n") for chunk in chunks) == 4


def test_who_exported_what_and_how_many_rows_is_logged(roster, client):
    export(client, "/chapters/40/roster.csv?status=lapsed&q=tur").get_data()
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "roster.exported"))
    assert entry.actor_id == roster.id and entry.chapter_id == services.get_chapter_by_number(40).id
    assert entry.after == {"filters": {"q": "tur", "status": "lapsed"}, "rows": 1, "format": "csv"}
    assert "Exported 1 member of Schuylkill Valley #40 (q=tur, status=lapsed)" == entry.summary


def test_a_get_of_the_export_changes_nothing(roster, client):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    assert client.get("/chapters/40/roster.csv").status_code == 405
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before
    # And the button is a form that posts.
    page = client.get("/chapters/40/roster").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/chapters/40/roster\.csv', page)


def test_export_link_is_shown_only_to_those_who_may_export(app, client):
    home = factories.chapter(40)
    treasurer = factories.officer(home, "treasurer")
    secretary = factories.officer(home, "secretary")
    db.session.commit()
    client.login(treasurer.email)
    assert "Export CSV" not in client.get("/chapters/40/roster").get_data(as_text=True)
    client.logout()
    client.login(secretary.email)
    assert "Export CSV" in client.get("/chapters/40/roster").get_data(as_text=True)


def test_export_service_reads_the_same_rows_as_the_page(app):
    home = factories.chapter(40)
    for index in range(7):
        factories.member(home=home, status="active", last_name=f"Member{index:02d}")
    db.session.commit()
    query = services.RosterQuery(sort=services.RosterSort.NAME)
    text = "".join(exports.export_csv(home, query, today()))
    page = services.roster_page(home, query, per_page=100)
    exported = [row["Member number"] for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]
    assert exported == [m.member_number for m in page.items]
    assert services.roster_count(home, query) == 7


def test_lifetime_members_export_as_lifetime(app):
    home = factories.chapter(40)
    factories.member(home=home, status="active", type_code="lifetime")
    db.session.commit()
    text = "".join(exports.export_csv(home, services.RosterQuery(), today() + timedelta(days=1)))
    assert ",Lifetime\r\n" in text


def test_the_stream_does_not_need_the_views_session(app):
    """Flask removes the view's session before a streamed response runs; the rows are read without it."""
    home = factories.chapter(40)
    factories.member(home=home, status="active", last_name="Lovelace")
    db.session.commit()
    stream = exports.export_csv(home, services.RosterQuery(), today())
    db.session.remove()
    assert "Lovelace" in "".join(stream)
