"""The roster: search by name, e-mail or member number, filter by status, sort, pages in SQL."""
import re

import pytest

from chapter.extensions import db
from tests import factories


@pytest.fixture
def roster(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    other = factories.chapter(31)
    people = {
        "active": factories.member(home=home, status="active", first_name="Ada", last_name="Lovelace", email="ada@example.org", employer="Babbage"),
        "grace": factories.member(home=home, status="grace", first_name="Grace", last_name="Hopper", email="grace@navy.example.org"),
        "lapsed": factories.member(home=home, status="lapsed", first_name="Alan", last_name="Turing", email="alan@example.org"),
        "pending": factories.member(home=home, status="pending", first_name="Edsger", last_name="Dijkstra", email="ewd@example.org"),
        "elsewhere": factories.member(home=other, status="active", first_name="Ada", last_name="Yonath", email="yonath@example.org"),
    }
    president = factories.officer(home, "president")
    db.session.commit()
    client.login(president.email)
    return people


def names(response) -> list[str]:
    return re.findall(r'/members/\d+">([^<]+)</a>', response.get_data(as_text=True))


def test_roster_lists_only_the_chapters_members_sorted_by_name(roster, client):
    assert names(client.get("/chapters/40/roster")) == ["Dijkstra, Edsger", "Hopper, Grace", "Lovelace, Ada", "Turing, Alan"]


@pytest.mark.parametrize("search, expected", [
    ("lovelace", ["Lovelace, Ada"]),
    ("Ada Love", ["Lovelace, Ada"]),
    ("navy.example", ["Hopper, Grace"]),
    ("ADA@EXAMPLE.ORG", ["Lovelace, Ada"]),
    ("nobody", []),
])
def test_search_by_name_or_email(roster, client, search, expected):
    assert names(client.get("/chapters/40/roster", query_string={"q": search})) == expected


def test_search_by_member_number(roster, client):
    number = roster["lapsed"].member_number
    assert names(client.get(f"/chapters/40/roster?q={number}")) == ["Turing, Alan"]


@pytest.mark.parametrize("status, expected", [
    ("active", ["Lovelace, Ada"]), ("grace", ["Hopper, Grace"]), ("lapsed", ["Turing, Alan"]),
    ("pending", ["Dijkstra, Edsger"]), ("bogus", ["Dijkstra, Edsger", "Hopper, Grace", "Lovelace, Ada", "Turing, Alan"]),
])
def test_filter_by_status(roster, client, status, expected):
    assert names(client.get(f"/chapters/40/roster?status={status}")) == expected


def test_status_counts_are_shown(roster, client):
    page = client.get("/chapters/40/roster").get_data(as_text=True)
    assert re.search(r"Active <span[^>]*>1</span>", page)
    assert re.search(r"All <span[^>]*>4</span>", page)


def test_sort_by_column_and_reverse(roster, client):
    assert names(client.get("/chapters/40/roster?sort=email")) == ["Lovelace, Ada", "Turing, Alan", "Dijkstra, Edsger", "Hopper, Grace"]
    assert names(client.get("/chapters/40/roster?sort=name&dir=desc")) == ["Turing, Alan", "Lovelace, Ada", "Hopper, Grace", "Dijkstra, Edsger"]


def test_pages_are_cut_in_sql_and_keep_the_filters(roster, client, app):
    app.config["ROSTER_PAGE_SIZE"] = 2
    first = client.get("/chapters/40/roster?q=a")
    page = first.get_data(as_text=True)
    assert names(first) == ["Dijkstra, Edsger", "Hopper, Grace"]
    assert "Showing 1–2 of 4 members" in page
    assert 'href="/chapters/40/roster?q=a&amp;page=2"' in page
    assert names(client.get("/chapters/40/roster?q=a&page=2")) == ["Lovelace, Ada", "Turing, Alan"]
    # Past the end, or nonsense: the nearest real page.
    assert names(client.get("/chapters/40/roster?q=a&page=99")) == ["Lovelace, Ada", "Turing, Alan"]
    assert names(client.get("/chapters/40/roster?q=a&page=abc")) == ["Dijkstra, Edsger", "Hopper, Grace"]


def test_member_record_shows_terms_and_history(roster, client):
    page = client.get(f"/chapters/40/members/{roster['grace'].member_number}").get_data(as_text=True)
    assert "Hopper" in page and "In grace" in page and "Professional" in page and "Joined" in page


def test_the_whole_roster_and_one_status_take_their_totals_from_the_status_counts(roster, client, app):
    """Unfiltered or filtered by status only, the page's total is the status counts' (no second COUNT of the
    roster); any other filter counts what it finds in the page's own query (count(*) OVER ()), never in a second
    one. The totals and the pages must be the same either way."""
    from tests.querycount import statements

    app.config["ROSTER_PAGE_SIZE"] = 3
    cases = {
        "/chapters/40/roster": ("Showing 1–3 of 4 members", False),
        "/chapters/40/roster?page=2": ("Showing 4–4 of 4 members", False),
        "/chapters/40/roster?status=lapsed": ("Showing 1–1 of 1 member", False),
        "/chapters/40/roster?status=active&page=9": ("Showing 1–1 of 1 member", False),
        "/chapters/40/roster?q=a": ("Showing 1–3 of 4 members", True),
        "/chapters/40/roster?status=grace&q=hopper": ("Showing 1–1 of 1 member", True),
    }
    for url, (shown, counted) in cases.items():
        with statements() as sent:
            page = client.get(url).get_data(as_text=True)
        assert shown in page, url
        assert not [s for s in sent if re.match(r"\s*SELECT count\(\*\)", s)], url  # no second query counts
        counted_along = [s for s in sent if "count(*) OVER ()" in s]
        assert bool(counted_along) is counted, (url, counted_along)
    assert names(client.get("/chapters/40/roster?page=2")) == ["Turing, Alan"]
    assert names(client.get("/chapters/40/roster?status=pending")) == ["Dijkstra, Edsger"]
