"""A member who picks no home chapter is given the closest one when joining, and can change it at no cost."""
from datetime import date

import pytest

from chapter.members import services as member_services
from chapter.members.closest import assign_closest_chapter, closest_chapter
from chapter.payments import services as payment_services
from tests import factories


def _chapter(number, name, city, region, postal_code=None, country="US", **fields):
    made = factories.chapter(number, name=name, **fields)
    made.city, made.region, made.postal_code, made.country = city, region, postal_code, country
    return made


@pytest.fixture
def chapters(app):
    return {
        "reading": _chapter(40, "Schuylkill Valley", "Reading", "PA", "19601"),
        "pittsburgh": _chapter(31, "Pittsburgh", "Pittsburgh", "PA", "15222"),
        "harrisburg": _chapter(168, "Central Penn", "Harrisburg", "PA"),
        "toronto": _chapter(246, "Toronto", "Toronto", "ON", "M5V 2T6", country="CA"),
    }


def _member(**address):
    return factories.member(status="pending", **address)


def test_the_longest_postal_code_prefix_wins(chapters):
    assert closest_chapter(_member(postal_code="19610", city="Wyomissing", region="PA"))[0] == chapters["reading"]
    assert closest_chapter(_member(postal_code="15213"))[0] == chapters["pittsburgh"]
    assert closest_chapter(_member(postal_code="m5v 3l9", country="CA"))[0] == chapters["toronto"]


def test_city_and_state_when_no_postal_code_is_near(chapters):
    chosen, why = closest_chapter(_member(postal_code="17101", city="harrisburg", region="pa"))
    assert chosen == chapters["harrisburg"] and "city" in why


def test_state_then_the_countrys_first_chapter_as_the_documented_fallback(chapters):
    chosen, why = closest_chapter(_member(city="Scranton", region="PA"))
    assert chosen == chapters["pittsburgh"] and "state" in why  # the lowest-numbered chapter of the state
    chosen, why = closest_chapter(_member(city="Boise", region="ID"))
    assert chosen == chapters["pittsburgh"] and "first chapter of the country" in why


def test_student_and_inactive_chapters_are_never_assigned(chapters):
    _chapter(900, "Penn State Students", "Reading", "PA", "19601", parent_chapter_id=chapters["reading"].id)
    chapters["reading"].is_active = False
    chosen, _ = closest_chapter(_member(postal_code="19601"))
    assert chosen not in (chapters["reading"],) and chosen.number != 900


def test_joining_without_a_chapter_assigns_the_closest_and_the_payment_carries_its_share(chapters):
    member = _member(postal_code="19604", city="Reading", region="PA")
    assert member.home_chapter_id is None
    order = payment_services.start_join(member, factories.membership_type("professional"), actor=None,
                                        day=date(2026, 3, 1))
    assert member.home_chapter == chapters["reading"]
    assert order.chapter_id == chapters["reading"].id and order.chapter_share_cents == 3500
    [transfer] = member_services.chapter_history(member)
    assert transfer.reason == "Closest chapter by postal code 19604"


def test_the_member_changes_the_assigned_chapter_at_no_cost(chapters):
    member = _member(postal_code="19604")
    assign_closest_chapter(member, actor=None)
    member_services.change_home_chapter(member, chapters["pittsburgh"], actor=None, reason="Moved")
    assert member.home_chapter_id == chapters["pittsburgh"].id
    assert [t.to_chapter_id for t in member_services.chapter_history(member)][0] == chapters["pittsburgh"].id
