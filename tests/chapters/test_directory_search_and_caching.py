"""Finding chapters (number, name, city, state or province by code or name, postal code) and the cheap,
cacheable public directory and chapter pages (ETag, 304, invalidated by any change)."""
import re

import pytest

from chapter.chapters.search import ChapterKeys, chapter_matches
from chapter.extensions import db
from tests import factories


@pytest.fixture
def chapters(app):
    made = {
        "tampa": factories.chapter(12, name="Tampa Bay", district_code="SE", city="Tampa", region="FL",
                                   postal_code="33602"),
        "schuylkill": factories.chapter(40, name="Schuylkill Valley", city="Reading", region="PA", postal_code="19601"),
        "pittsburgh": factories.chapter(31, name="Pittsburgh", city="Pittsburgh", region="Pennsylvania",
                                        postal_code="15222"),
        "montreal": factories.chapter(150, name="Montréal", district_code="CAN", city="Montréal", region="QC",
                                      postal_code="H3B 2Y5", country="CA"),
    }
    db.session.commit()
    return made


def listed(client, query: str) -> list[str]:
    response = client.get("/chapters", query_string={"q": query})
    assert response.status_code == 200
    return sorted(re.findall(r'href="/chapters/\d+">([^<]+)</a>', response.get_data(as_text=True)))


def test_a_state_code_finds_that_states_chapters_and_not_cities_containing_the_letters(chapters, client):
    assert listed(client, "PA") == ["Pittsburgh #31", "Schuylkill Valley #40"]
    assert listed(client, "pa") == ["Pittsburgh #31", "Schuylkill Valley #40"]


def test_a_state_or_province_name_finds_its_chapters_whether_stored_as_code_or_name(chapters, client):
    assert listed(client, "Pennsylvania") == ["Pittsburgh #31", "Schuylkill Valley #40"]
    assert listed(client, "Quebec") == ["Montréal #150"]
    assert listed(client, "florida") == ["Tampa Bay #12"]


def test_number_name_city_and_postal_code_find_a_chapter(chapters, client):
    assert listed(client, "#40") == ["Schuylkill Valley #40"]
    assert listed(client, "40") == ["Schuylkill Valley #40"]
    assert listed(client, "valley") == ["Schuylkill Valley #40"]
    assert listed(client, "reading") == ["Schuylkill Valley #40"]
    assert listed(client, "montreal") == ["Montréal #150"]  # accents ignored
    assert listed(client, "196") == ["Schuylkill Valley #40"]
    assert listed(client, "h3b 2y5") == ["Montréal #150"]
    assert listed(client, "Reading PA") == ["Schuylkill Valley #40"]
    assert listed(client, "Reading FL") == []


def test_a_search_has_a_clear_link_back_to_the_whole_directory(chapters, client):
    page = client.get("/chapters?q=PA").get_data(as_text=True)
    assert re.search(r'<a [^>]*href="/chapters">Clear', page)
    assert "Clear" not in client.get("/chapters").get_data(as_text=True)


def test_percent_and_underscore_find_nothing_rather_than_everything(chapters, client):
    assert listed(client, "%") == []
    assert listed(client, "_") == []


def test_staff_and_officer_chapter_lists_use_the_same_rules(chapters, client):
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    page = client.get("/admin/chapters?q=PA").get_data(as_text=True)
    assert "Pittsburgh" in page and "Schuylkill Valley" in page and "Tampa" not in page


def test_chapter_matching_rules_directly():
    chapter = ChapterKeys(1, 40, "Schuylkill Valley", "Reading", "PA", "19601")
    assert chapter_matches(chapter, "penn") and chapter_matches(chapter, "schuyl")
    assert not chapter_matches(chapter, "ylkill")  # words match from their start
    assert not chapter_matches(chapter, "4")  # a number is the whole number


def test_the_directory_answers_a_visitor_with_the_same_copy_304(chapters, client):
    first = client.get("/chapters")
    assert first.status_code == 200 and first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"] and "no-cache" in first.headers["Cache-Control"]
    again = client.get("/chapters", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_an_officer_appointed_or_a_chapter_renamed_changes_the_directory_at_once(chapters, client):
    first = client.get("/chapters")
    factories.officer(chapters["tampa"], "president", holder=factories.user(name="Priya Presidente"))
    db.session.commit()
    changed = client.get("/chapters", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Priya Presidente" in changed.get_data(as_text=True)
    chapters["tampa"].name = "Tampa Bay Area"
    db.session.commit()
    page = client.get("/chapters", headers={"If-None-Match": changed.headers["ETag"]})
    assert page.status_code == 200 and "Tampa Bay Area #12" in page.get_data(as_text=True)
    officer = db.session.get(type(chapters["tampa"].officer_terms[0].user), chapters["tampa"].officer_terms[0].user_id)
    officer.name = "Priya Renamed"
    db.session.commit()
    assert "Priya Renamed" in client.get("/chapters").get_data(as_text=True)


def test_a_chapter_page_is_cached_for_visitors_and_changes_with_its_officers(chapters, client):
    first = client.get("/chapters/12")
    assert first.status_code == 200 and first.headers["ETag"]
    assert client.get("/chapters/12", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    factories.officer(chapters["tampa"], "treasurer", holder=factories.user(name="Tomas Treasurer"))
    db.session.commit()
    changed = client.get("/chapters/12", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Tomas Treasurer" in changed.get_data(as_text=True)


def test_logged_in_pages_are_private_and_never_304(chapters, client):
    user = factories.user()
    db.session.commit()
    etag = client.get("/chapters").headers["ETag"]
    client.login(user.email)
    page = client.get("/chapters", headers={"If-None-Match": etag})
    assert page.status_code == 200 and "private" in page.headers["Cache-Control"]
    assert "ETag" not in page.headers


def test_a_visitors_chapter_page_is_rendered_once_and_drops_an_event_the_moment_it_has_ended(app, client, clock):
    """The visitor's page is kept per version (two small queries then); the version holds the end of the first
    upcoming event, so the page changes when that event ends, with nothing changed in the database."""
    from datetime import datetime

    from tests.events import factories as event_factories
    from tests.querycount import statements

    clock("2026-05-04T10:05:00", tick=False)
    chapter = factories.chapter(77, name="Harbor City")
    event_factories.event(chapter, title="Breakfast meeting", starts_at=datetime(2026, 5, 4, 8, 20), hours=2)
    event_factories.event(chapter, title="Plant tour", starts_at=datetime(2026, 6, 1, 18, 0))
    db.session.commit()
    first = client.get("/chapters/77").get_data(as_text=True)
    assert "Breakfast meeting" in first and "Plant tour" in first
    with statements() as sent:
        again = client.get("/chapters/77").get_data(as_text=True)
    assert again == first and len(sent) == 2  # the chapter and its version: the page itself is not rebuilt

    clock("2026-05-04T10:21:00", tick=False)  # the breakfast ended at 10:20 (the same hour)
    later = client.get("/chapters/77").get_data(as_text=True)
    assert "Breakfast meeting" not in later and "Plant tour" in later
