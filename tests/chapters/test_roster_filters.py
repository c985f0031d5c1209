"""Roster search and filters beyond the basics: employer, type, date ranges, ready-made lists, bookmarkable URLs."""
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.chapters import services
from chapter.core.models import today
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from tests import factories


def member_until(home, first, last, ends_on: date, *, starts_on: date | None = None, type_code="professional", **profile):
    """A member whose only term ends on `ends_on`."""
    made = factories.member(home=home, status="pending", first_name=first, last_name=last, **profile)
    member_services.grant_term(made, factories.membership_type(type_code),
                               starts_on=starts_on or ends_on - timedelta(days=364), ends_on=ends_on,
                               source=TermSource.PAYMENT, actor=None)
    return made


@pytest.fixture
def roster(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    other = factories.chapter(31)
    day = today()
    people = {
        "soon": member_until(home, "Ada", "Lovelace", day + timedelta(days=10), employer="Babbage Engines"),
        "later": member_until(home, "Grace", "Hopper", day + timedelta(days=45), type_code="student"),
        "much_later": member_until(home, "Alan", "Turing", day + timedelta(days=80)),
        "next_year": member_until(home, "Edsger", "Dijkstra", day + timedelta(days=200)),
        "lapsed_recently": member_until(home, "Barbara", "Liskov", day - timedelta(days=100)),
        "lapsed_long_ago": member_until(home, "John", "Backus", day - timedelta(days=800)),
        "in_grace": member_until(home, "Frances", "Allen", day - timedelta(days=5)),
        "new": member_until(home, "Tim", "Berners-Lee", day + timedelta(days=364), starts_on=day),
        "elsewhere": member_until(other, "Ada", "Yonath", day + timedelta(days=10)),
    }
    president = factories.officer(home, "president")
    db.session.commit()
    client.login(president.email)
    return people


def names(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'/members/\d+">([^<]+)</a>', response.get_data(as_text=True))


def test_search_finds_members_by_employer(roster, client):
    assert names(client.get("/chapters/40/roster?q=babbage")) == ["Lovelace, Ada"]


def test_filter_by_membership_type(roster, client):
    assert names(client.get("/chapters/40/roster?type=student")) == ["Hopper, Grace"]
    assert "Berners-Lee, Tim" in names(client.get("/chapters/40/roster?type=professional"))


@pytest.mark.parametrize("view, expected", [
    ("expiring-30", ["Lovelace, Ada"]),
    ("expiring-60", ["Lovelace, Ada", "Hopper, Grace"]),
    ("expiring-90", ["Lovelace, Ada", "Hopper, Grace", "Turing, Alan"]),
    ("lapsed-12-months", ["Liskov, Barbara"]),
])
def test_ready_made_lists(roster, client, view, expected):
    assert names(client.get(f"/chapters/40/roster?view={view}")) == expected


def test_new_this_month_lists_members_who_joined_since_the_first(roster, client):
    listed = names(client.get("/chapters/40/roster?view=new-this-month"))
    assert "Berners-Lee, Tim" in listed and "Lovelace, Ada" not in listed


def test_end_date_and_join_date_ranges(roster, client):
    day = today()
    url = f"/chapters/40/roster?ends_from={day + timedelta(days=40)}&ends_to={day + timedelta(days=100)}&sort=paid_through"
    assert names(client.get(url)) == ["Hopper, Grace", "Turing, Alan"]
    joined = names(client.get(f"/chapters/40/roster?joined_from={day}"))
    assert joined == ["Berners-Lee, Tim"]


def test_filters_combine_and_nonsense_is_ignored(roster, client):
    assert names(client.get("/chapters/40/roster?view=expiring-90&type=student&q=hop")) == ["Hopper, Grace"]
    everyone = names(client.get("/chapters/40/roster"))
    assert names(client.get("/chapters/40/roster?view=bogus&ends_from=yesterday&type=")) == everyone


def test_sort_by_type_and_by_end_date_descending(roster, client):
    by_type = names(client.get("/chapters/40/roster?sort=type"))
    assert by_type[-1] == "Hopper, Grace"  # students sort after professionals
    by_end = names(client.get("/chapters/40/roster?sort=paid_through&dir=desc"))
    assert by_end[0] == "Berners-Lee, Tim" and by_end[-1] == "Backus, John"


def test_the_page_carries_the_filters_for_bookmarks_pages_and_export(roster, client, app):
    app.config["ROSTER_PAGE_SIZE"] = 1
    page = client.get("/chapters/40/roster?view=expiring-90&type=professional").get_data(as_text=True)
    assert 'href="/chapters/40/roster?view=expiring-90&amp;type=professional&amp;page=2"' in page
    export = re.search(r'action="(/chapters/40/roster\.csv[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "view=expiring-90" in export and "type=professional" in export and "sort=paid_through" in export
    assert '<option value="expiring-90" selected>' in page and '<option value="professional" selected>' in page


def test_a_ready_made_list_sorts_by_end_date_unless_told_otherwise(roster, client):
    assert names(client.get("/chapters/40/roster?view=expiring-90")) == ["Lovelace, Ada", "Hopper, Grace", "Turing, Alan"]
    assert names(client.get("/chapters/40/roster?view=expiring-90&sort=name")) == ["Hopper, Grace", "Lovelace, Ada", "Turing, Alan"]


def test_roster_query_round_trips_through_its_arguments():
    query = services.RosterQuery(search="smith", status=None, membership_type="student",
                                 ends_from=date(2026, 1, 1), view=services.RosterView.EXPIRING_30,
                                 sort=services.RosterSort.PAID_THROUGH, descending=True)
    assert query.as_args() == {"q": "smith", "type": "student", "view": "expiring-30", "ends_from": "2026-01-01",
                               "sort": "paid_through", "dir": "desc"}


def test_the_number_of_queries_does_not_grow_with_the_page_size(roster, client, app):
    statements = []

    def count(*args):
        statements.append(args[2])

    url = "/chapters/40/roster?q=a&type=professional&view=expiring-90"
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        counts = {}
        for size in (1, 50):
            app.config["ROSTER_PAGE_SIZE"] = size
            client.get(url)
            statements.clear()
            assert client.get(url).status_code == 200
            counts[size] = len(statements)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert counts[1] == counts[50]
