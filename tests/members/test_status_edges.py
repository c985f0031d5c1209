"""The SQL status filter and the Python status agree for the same members on the days where status changes:
the last day of a term, the first day of grace, the last day of grace, the first day lapsed, also for a
member whose next term starts only later (a gap in the history)."""
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member, MembershipStatus, TermSource
from tests import factories

DAY = date(2026, 3, 31)  # the day the statuses are computed for
GRACE_DAYS = 30  # the professional type's grace period (reference data)


def _member_whose_term_ends(ends_on: date | None, last_name: str, home) -> Member:
    member = factories.member(home=home, status="pending", last_name=last_name)
    if ends_on is not None:
        member_services.grant_term(member, factories.membership_type(), starts_on=ends_on - timedelta(days=364),
                                   ends_on=ends_on, source=TermSource.PAYMENT, actor=None)
    return member


def _with_next_term_after_day(member: Member) -> Member:
    member_services.grant_term(member, factories.membership_type(), starts_on=DAY + timedelta(days=10),
                               source=TermSource.PAYMENT, actor=None)
    return member


@pytest.fixture
def edges(app):
    """One member on each side of every status change on DAY."""
    home = factories.chapter(40)
    made = {
        "LastDayActive": _member_whose_term_ends(DAY, "LastDayActive", home),
        "FirstDayOfGrace": _member_whose_term_ends(DAY - timedelta(days=1), "FirstDayOfGrace", home),
        "LastDayOfGrace": _member_whose_term_ends(DAY - timedelta(days=GRACE_DAYS), "LastDayOfGrace", home),
        "FirstDayLapsed": _member_whose_term_ends(DAY - timedelta(days=GRACE_DAYS + 1), "FirstDayLapsed", home),
        "NeverPaid": _member_whose_term_ends(None, "NeverPaid", home),
        # Renewed after a gap: a term that ended long before, the next one starting after DAY.
        "GapGraceLastDay": _with_next_term_after_day(
            _member_whose_term_ends(DAY - timedelta(days=GRACE_DAYS), "GapGraceLastDay", home)),
        "GapLapsedFirstDay": _with_next_term_after_day(
            _member_whose_term_ends(DAY - timedelta(days=GRACE_DAYS + 1), "GapLapsedFirstDay", home)),
    }
    db.session.commit()
    return made


EXPECTED = {
    MembershipStatus.ACTIVE: {"LastDayActive"},
    MembershipStatus.GRACE: {"FirstDayOfGrace", "LastDayOfGrace", "GapGraceLastDay"},
    MembershipStatus.LAPSED: {"FirstDayLapsed", "GapLapsedFirstDay"},
    MembershipStatus.PENDING: {"NeverPaid"},
}


def test_python_status_on_the_days_status_changes(edges):
    assert edges["LastDayOfGrace"].grace_ends_on == DAY
    seen = {status: {name for name, m in edges.items() if m.status_on(DAY) is status} for status in EXPECTED}
    assert seen == EXPECTED


@pytest.mark.parametrize("status", list(EXPECTED), ids=lambda s: s.value)
def test_sql_status_filter_finds_the_same_members_as_python_on_the_edges(edges, status):
    in_sql = set(db.session.scalars(sa.select(Member.last_name).where(Member.status_clause(status, DAY))))
    in_python = {m.last_name for m in edges.values() if m.status_on(DAY) is status}
    assert in_sql == in_python == EXPECTED[status]


@pytest.mark.parametrize("status", ["grace", "lapsed"])
def test_the_roster_status_filter_agrees_on_the_last_day_of_grace(edges, client, clock, status):
    clock(DAY.isoformat())
    president = factories.officer(edges["NeverPaid"].home_chapter, "president")
    db.session.commit()
    client.login(president.email)
    page = client.get(f"/chapters/40/roster?status={status}").get_data(as_text=True)
    listed = {name for name in edges if name in page}
    assert listed == EXPECTED[MembershipStatus(status)]


def test_status_labels_are_the_words_on_the_pages():
    assert {s.value: s.label for s in MembershipStatus} == {
        "pending": "Pending", "active": "Active", "grace": "In grace", "lapsed": "Lapsed"}


def test_a_terms_grace_ends_its_types_grace_days_after_it_and_a_lifetime_term_never_ends(app):
    from chapter.core.models import FOREVER

    member = _member_whose_term_ends(DAY, "Grace", factories.chapter(41))
    term = member.terms[0]
    assert term.grace_ends_on() == DAY + timedelta(days=GRACE_DAYS) == member.grace_ends_on
    assert not term.is_lifetime and not member.is_lifetime
    lifetime = member_services.grant_term(member, factories.membership_type("lifetime"), starts_on=DAY + timedelta(days=1),
                                          source=TermSource.STAFF_GRANT, actor=None)
    assert lifetime.is_lifetime and lifetime.grace_ends_on() == FOREVER
    assert member.is_lifetime and member.status_on(date(2999, 1, 1)) is MembershipStatus.ACTIVE
    assert member.full_name == "Alex Grace"


@pytest.mark.parametrize("page_url", ["/admin/members", "/chapters/40/roster"])
def test_the_lists_show_each_members_status_on_the_edges_also_where_only_the_terms_can_tell(edges, client, clock, page_url):
    """The staff list and the roster read rows, not members: their status must still be status_on's, including the
    members in a gap before their next term (whose status comes from their terms)."""
    clock(DAY.isoformat())
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    page = client.get(page_url).get_data(as_text=True)
    shown = {}
    for row in re.findall(r"<tr>\s*<td><a [^>]*>(.*?)</a>(.*?)</tr>", page, re.S):
        badge = re.search(r'badge-status-(\w+)">([^<]+)<', row[1])
        shown[row[0].split(",")[0]] = (MembershipStatus(badge.group(1)), badge.group(2))
    expected = {name: status for status, names in EXPECTED.items() for name in names}
    assert {name: status for name, (status, _) in shown.items()} == expected
    assert all(label == status.label for status, label in shown.values())


def test_the_rosters_status_counts_agree_with_python_on_the_edges(edges, clock):
    from chapter.chapters import services as chapter_services

    clock(DAY.isoformat())
    counts = chapter_services.roster_counts(edges["NeverPaid"].home_chapter, DAY)
    assert counts == {status: len(names) for status, names in EXPECTED.items()}
