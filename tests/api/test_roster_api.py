"""The roster through the API: the page's filters, keyset pages that cover every member once."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from tests import factories
from tests.api.conftest import make_token


@pytest.fixture
def chapter_with_roster(app):
    home = factories.chapter(40)
    other = factories.chapter(31)
    for i, (status, last) in enumerate([("active", "Lovelace"), ("grace", "Hopper"), ("lapsed", "Turing"),
                                        ("pending", "Dijkstra"), ("active", "Knuth"), ("active", "Liskov"),
                                        ("grace", "Lamport"), ("active", "Lovelace")]):
        factories.member(home=home, status=status, last_name=last, first_name=f"N{i}", employer="Babbage" if i % 2 else None,
                         type_code="student" if i == 5 else "professional")
    factories.member(home=other, last_name="Lovelace")
    president = factories.officer(home, "president")
    db.session.commit()
    return home, president


def page_names(client, args: str) -> set[str]:
    html = client.get(f"/chapters/40/roster?{args}").get_data(as_text=True)
    return set(re.findall(r'/members/\d+">([^<]+)</a>', html))


def api_names(api, token, args: str) -> set[str]:
    response = api.get(f"/chapters/40/roster?{args}&limit=100", token)
    assert response.status_code == 200, response.get_json()
    return {f"{m['last_name']}, {m['first_name']}" for m in response.get_json()["items"]}


@pytest.mark.parametrize("args", [
    "", "q=lovelace", "status=grace", "status=pending", "type=student", "view=lapsed-12-months",
    "view=expiring-90", "q=N1", f"joined_from={(today() - timedelta(days=200)).isoformat()}",
    f"ends_to={today().isoformat()}",
])
def test_the_apis_roster_filters_find_what_the_roster_page_finds(chapter_with_roster, client, api, args):
    _, president = chapter_with_roster
    token = make_token(president, ["roster:read"], [chapter_with_roster[0]])
    client.login(president.email)
    assert api_names(api, token, args) == page_names(client, args)


def test_cursor_pages_cover_every_member_once_with_the_same_number_of_queries(chapter_with_roster, api, app):
    home, president = chapter_with_roster
    for i in range(15):
        factories.member(home=home, last_name="Lovelace" if i % 3 == 0 else f"Zed{i:02}", first_name="Ada")
    db.session.commit()
    token = make_token(president, ["roster:read"], [home])
    counts, seen, cursor = [], [], None
    statements = []

    def count(*_):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        while True:
            statements.clear()
            response = api.get("/chapters/40/roster?limit=4" + (f"&cursor={cursor}" if cursor else ""), token)
            counts.append(len(statements))
            body = response.get_json()
            seen += [m["member_number"] for m in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    total = db.session.scalar(sa.text("SELECT COUNT(*) FROM members WHERE home_chapter_id = :c"), {"c": home.id})
    assert len(seen) == len(set(seen)) == total == 23
    assert len(set(counts[1:-1])) == 1, counts  # every full page after the first costs the same


def test_a_cursor_not_made_by_the_api_is_a_422_naming_the_field(chapter_with_roster, api):
    home, president = chapter_with_roster
    token = make_token(president, ["roster:read"], [home])
    for cursor in ("nonsense", "WzEsMl0", "%00"):
        response = api.get(f"/chapters/40/roster?cursor={cursor}", token)
        assert response.status_code in (400, 422)
        assert response.mimetype == "application/problem+json"
    body = api.get("/chapters/40/roster?cursor=WzEsMl0", token).get_json()
    assert body["errors"][0]["field"] == "cursor"
