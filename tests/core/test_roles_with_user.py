"""The session's user is loaded with today's roles in one query (chapter/__init__.py's load_user and
permissions.roles_with_user_columns): the roles read so are exactly roles_of's, and a page asks for them no more."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter import _session_user_statement
from chapter.auth.models import User
from chapter.core.models import today
from chapter.core.permissions import roles_from_columns, roles_of
from chapter.extensions import db
from tests import factories


def loaded_roles(user: User, day=None):
    statement = _session_user_statement(db.engine.dialect.name)
    _user, positions, districts = db.session.execute(statement, {"user_id": user.id, "day": day or today()}).one()
    return roles_from_columns(user, positions, districts)


@pytest.fixture
def people(app):
    home, other = factories.chapter(40), factories.chapter(31)
    two_hats = factories.officer(home, "president")
    factories.officer(home, "treasurer", holder=two_hats)
    factories.officer(other, "secretary", holder=two_hats)
    factories.officer(other, "vp_membership", holder=two_hats, ends_on=today() - timedelta(days=1))  # ended
    factories.officer(other, "vp_programs", holder=two_hats, starts_on=today() + timedelta(days=1))  # not yet
    manager = factories.district_manager(factories.district())
    staff = factories.user(is_staff=True)
    nobody = factories.user()
    db.session.commit()
    return {"two hats": two_hats, "manager": manager, "staff": staff, "nobody": nobody}


@pytest.mark.parametrize("who", ["two hats", "manager", "staff", "nobody"])
def test_the_roles_loaded_with_the_user_are_roles_of(people, who):
    user = people[who]
    ours, theirs = loaded_roles(user), roles_of(user)
    assert ours == theirs
    for chapter_id, positions in theirs.positions_by_chapter.items():  # the same rows, field by field
        assert [p._asdict() for p in ours.positions_by_chapter[chapter_id]] == [p._asdict() for p in positions]


def test_an_officers_two_chapters_and_rights_come_through_with_their_types(people):
    roles = loaded_roles(people["two hats"])
    codes = {chapter_id: sorted(p.code for p in positions) for chapter_id, positions in roles.positions_by_chapter.items()}
    assert sorted(codes.values()) == [["president", "treasurer"], ["secretary"]]
    rights = [p.can_view_roster for positions in roles.positions_by_chapter.values() for p in positions]
    assert all(isinstance(value, bool) for value in rights)  # SQLite's JSON has 0 and 1
    tomorrow = loaded_roles(people["two hats"], today() + timedelta(days=1))
    assert "vp_programs" in {p.code for positions in tomorrow.positions_by_chapter.values() for p in positions}


def test_a_logged_in_page_asks_for_the_user_and_roles_once(people, client):
    client.login(people["two hats"].email)
    db.session.remove()
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = client.get("/dashboard")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert page.status_code == 200
    assert 'href="/rosters"' in page.get_data(as_text=True)  # the menu knows the user is an officer
    assert len([s for s in statements if "officer_terms" in s]) == 1  # with the user, not again
    assert statements[0].lstrip().startswith("SELECT users.id")


def test_roles_loaded_on_another_day_are_not_used(people, client, app):
    from flask_login import login_user

    from chapter.core import permissions

    with app.test_request_context("/"):
        user = people["two hats"]
        login_user(user)
        from flask import request

        request.environ[permissions.LOADED_ROLES_KEY] = (user.id, today() - timedelta(days=1), "[]", "[]")
        assert permissions.current_roles().is_officer  # yesterday's (none) ignored: read again today
