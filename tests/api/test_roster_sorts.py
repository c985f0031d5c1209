"""The roster through the API offers the roster page's sorts: walking its cursor pages gives the page's order
for the same members (NULLs where the database puts them), each member once; a cursor serves only its sort."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chapter.api.schemas import RosterMemberSchema, roster_line
from chapter.chapters.services import RosterSort
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member
from tests import factories
from tests.api.conftest import make_token

SORTS = [sort.value for sort in RosterSort]


@pytest.fixture
def roster(app):
    """19 members of chapter 40 with NULLs and ties in every sortable column (e-mail, employer, type, dates)."""
    home = factories.chapter(40)
    factories.member(home=factories.chapter(31), last_name="Elsewhere")
    statuses = ["active", "grace", "lapsed", "pending", "active", "active", "grace", "lapsed", "pending", "active"]
    for i in range(19):
        member = factories.member(home=home, status=statuses[i % 10], last_name=["Lovelace", "Hopper", "Turing", "Knuth"][i % 4],
                                  first_name=f"Ada{i:02}", employer=[None, "Babbage", "acme", "Zeta"][i % 3 + (i % 2)],
                                  type_code="student" if i % 5 == 0 else "professional")
        if i % 3 == 0:
            member.email = None
        if i % 7 == 0 and member.joined_on:
            member.joined_on -= timedelta(days=i)
    president = factories.officer(home, "president")
    db.session.commit()
    return home, president


def page_order(client, args: str) -> list[str]:
    """The names on the roster page, in its order (all 19 fit one page)."""
    html = client.get(f"/chapters/40/roster?{args}").get_data(as_text=True)
    return re.findall(r'/members/\d+">([^<]+)</a>', html)


def api_order(api, token, args: str, limit: int = 4) -> list[str]:
    """The names the API gives walking every cursor page of `limit`, in order."""
    names, cursor = [], None
    while True:
        response = api.get(f"/chapters/40/roster?{args}&limit={limit}" + (f"&cursor={cursor}" if cursor else ""), token)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        names += [f"{m['last_name']}, {m['first_name']}" for m in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return names


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_pages_in_the_roster_pages_order_each_member_once(roster, client, api, sort, direction):
    home, president = roster
    token = make_token(president, ["roster:read"], [home])
    client.login(president.email)
    args = f"sort={sort}&dir={direction}"
    expected = page_order(client, args)
    assert len(expected) == len(set(expected)) == 19
    assert api_order(api, token, args) == expected
    assert api_order(api, token, args, limit=1) == expected  # a cursor after every member, NULL keys included


@pytest.mark.parametrize("args", ["q=lovelace", "q=ada0", "view=expiring-90", "view=new-this-month",
                                  "status=grace&sort=employer&dir=desc", "q=hopper&sort=email"])
def test_a_search_or_a_view_pages_in_the_pages_order_too(roster, client, api, args):
    home, president = roster
    client.login(president.email)
    assert api_order(api, make_token(president, ["roster:read"], [home]), args, limit=2) == page_order(client, args)


def test_a_cursor_of_another_sort_or_direction_is_a_422_naming_the_cursor(roster, api):
    home, president = roster
    token = make_token(president, ["roster:read"], [home])
    cursor = api.get("/chapters/40/roster?sort=email&limit=2", token).get_json()["next_cursor"]
    assert api.get(f"/chapters/40/roster?sort=email&limit=2&cursor={cursor}", token).status_code == 200
    for args in ("", "sort=employer", "sort=email&dir=desc"):
        response = api.get(f"/chapters/40/roster?{args}&limit=2&cursor={cursor}", token)
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert [e["field"] for e in problem["errors"]] == ["cursor"]
        assert "'email,asc'" in problem["detail"] and "same sort and dir" in problem["detail"]
    searched = api.get("/chapters/40/roster?q=lovelace&limit=2", token).get_json()["next_cursor"]
    refused = api.get(f"/chapters/40/roster?limit=2&cursor={searched}", token)  # ranked by the search: not this list
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "cursor"
    assert api.get("/chapters/40/roster?sort=colour", token).get_json()["errors"][0]["field"] == "sort"


def test_a_roster_line_made_by_hand_is_what_the_documented_schema_dumps(roster):
    home, _ = roster
    members = db.session.scalars(db.select(Member).where(Member.home_chapter_id == home.id)).all()
    assert {m.email is None for m in members} == {True, False} and {m.paid_through is None for m in members} == {True, False}
    for member in members:
        assert roster_line(member, today()) == RosterMemberSchema().dump(member)
