"""The roles a user holds on a day, and what each role may do, checked on the rule itself (no pages):
every right of every position, district managers and staff, and the first and last day of a term."""
from datetime import date, timedelta

import pytest

from chapter.core.permissions import ANONYMOUS_ROLES, Roles, roles_of
from chapter.extensions import db
from chapter.seed.reference import OFFICER_POSITIONS
from tests import factories

RIGHTS = ["can_view_roster", "can_export_roster", "can_manage_officers", "can_view_finances", "can_manage_members",
          "can_read_audit_log"]
# The reference data's flags per position, in RIGHTS' order; can_write_notes follows can_view_roster.
FLAGS = {row[0]: dict(zip(RIGHTS, row[3:])) for row in OFFICER_POSITIONS}
DAY = date(2026, 3, 31)


@pytest.fixture
def chapters(app):
    return {"home": factories.chapter(40, district_code="MA"), "same_district": factories.chapter(31, district_code="MA"),
            "elsewhere": factories.chapter(7, district_code="SE")}


def _rights(roles: Roles, chapter) -> dict[str, bool]:
    return {right: getattr(roles, right)(chapter) for right in [*RIGHTS, "can_write_notes"]}


@pytest.mark.parametrize("code", list(FLAGS))
def test_each_position_has_exactly_its_rights_in_its_own_chapter_only(chapters, code):
    holder = factories.officer(chapters["home"], code, starts_on=DAY - timedelta(days=30))
    roles = roles_of(holder, DAY)

    expected = dict(FLAGS[code], can_write_notes=FLAGS[code]["can_view_roster"])
    assert _rights(roles, chapters["home"]) == expected
    assert _rights(roles, chapters["same_district"]) == dict.fromkeys(expected, False)
    assert roles.is_officer and not roles.is_district_manager and not roles.is_staff
    assert [p.code for p in roles.positions_in(chapters["home"])] == [code]
    assert roles.positions_in(chapters["same_district"]) == ()


def test_a_district_manager_sees_rosters_of_the_district_and_has_no_other_right(chapters):
    manager = factories.district_manager(factories.district("MA"))
    roles = roles_of(manager)

    assert roles.is_district_manager and not roles.is_officer and not roles.is_staff
    for chapter in (chapters["home"], chapters["same_district"]):
        assert _rights(roles, chapter) == dict.fromkeys([*RIGHTS, "can_write_notes"], False) | {"can_view_roster": True}
    assert _rights(roles, chapters["elsewhere"]) == dict.fromkeys([*RIGHTS, "can_write_notes"], False)


def test_staff_have_every_right_everywhere(chapters):
    roles = roles_of(factories.staff())
    assert roles.is_staff and not roles.is_officer and not roles.is_district_manager
    for chapter in chapters.values():
        assert all(_rights(roles, chapter).values())


def test_a_member_and_the_anonymous_have_no_right(chapters):
    from flask_login import AnonymousUserMixin

    factories.district_manager(factories.district("MA"))  # someone else's rights are not the member's
    factories.officer(chapters["home"], "president")
    member = factories.member(home=chapters["home"], with_user=True).user
    for roles in (roles_of(member), roles_of(None), roles_of(AnonymousUserMixin()), ANONYMOUS_ROLES):
        assert not any(_rights(roles, chapters["home"]).values())
        assert not (roles.is_staff or roles.is_officer or roles.is_district_manager)
    assert roles_of(member).user_id == member.id and roles_of(None).user_id is None


@pytest.mark.parametrize("offset, holds", [(-1, False), (0, True), (10, True), (20, True), (21, False)])
def test_an_officers_rights_run_from_the_first_to_the_last_day_of_the_term(chapters, offset, holds):
    treasurer = factories.officer(chapters["home"], "treasurer", starts_on=DAY, ends_on=DAY + timedelta(days=20))
    roles = roles_of(treasurer, DAY + timedelta(days=offset))
    assert roles.can_view_finances(chapters["home"]) is holds
    assert roles.is_officer is holds


@pytest.mark.parametrize("offset, holds", [(-1, False), (0, True), (400, True)])
def test_an_open_ended_term_has_no_last_day(chapters, offset, holds):
    president = factories.officer(chapters["home"], "president", starts_on=DAY, ends_on=None)
    assert roles_of(president, DAY + timedelta(days=offset)).can_manage_officers(chapters["home"]) is holds


@pytest.mark.parametrize("offset, holds", [(-1, False), (0, True), (5, True), (6, False)])
def test_a_district_managers_rights_follow_the_term_dates(chapters, offset, holds):
    from chapter.chapters.models import DistrictManagerTerm

    manager = factories.user()
    db.session.add(DistrictManagerTerm(district=factories.district("MA"), user=manager, starts_on=DAY,
                                       ends_on=DAY + timedelta(days=5)))
    db.session.flush()
    roles = roles_of(manager, DAY + timedelta(days=offset))
    assert roles.can_view_roster(chapters["home"]) is holds and roles.is_district_manager is holds


def test_positions_in_two_chapters_are_kept_apart(chapters):
    holder = factories.officer(chapters["home"], "treasurer")
    factories.officer(chapters["elsewhere"], "webmaster", holder=holder)
    factories.officer(chapters["home"], "secretary", holder=holder)
    roles = roles_of(holder)
    assert sorted(p.code for p in roles.positions_in(chapters["home"])) == ["secretary", "treasurer"]
    assert [p.code for p in roles.positions_in(chapters["elsewhere"])] == ["webmaster"]
    assert roles.can_view_finances(chapters["home"]) and roles.can_export_roster(chapters["home"])
    assert not roles.can_view_roster(chapters["elsewhere"]) and not roles.can_view_finances(chapters["elsewhere"])


def test_staff_pages_send_the_anonymous_to_log_in_and_refuse_others(app, client):
    member = factories.member(email="ada@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    anonymous = client.get("/admin/chapters")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    client.login(member.email)
    assert client.get("/admin/chapters").status_code == 403
    client.logout()
    client.login(staff.email)
    assert client.get("/admin/chapters").status_code == 200


def test_the_roles_of_a_request_follow_who_is_logged_in(app, client):
    """Roles are cached per request and per user: after logging out and in as another, the new user's count."""
    home = factories.chapter(40)
    factories.officer(home, "president", holder=factories.user("pat@example.org"))
    factories.member(home=home, email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("pat@example.org")
    assert client.get("/chapters/40/roster").status_code == 200
    client.logout()
    client.login("ada@example.org")
    assert client.get("/chapters/40/roster").status_code == 403


def test_the_roles_of_a_request_are_loaded_once_and_follow_a_log_in_mid_request(app):
    from flask_login import login_user, logout_user

    from chapter.core.permissions import current_roles

    home = factories.chapter(40)
    president = factories.officer(home, "president")
    member = factories.member(home=home, with_user=True).user
    with app.test_request_context("/"):
        login_user(president)
        first = current_roles()
        assert first.can_manage_officers(home) and current_roles() is first  # loaded once per request
        login_user(member)
        assert current_roles().user_id == member.id and not current_roles().can_view_roster(home)
        logout_user()
        assert current_roles() is ANONYMOUS_ROLES
