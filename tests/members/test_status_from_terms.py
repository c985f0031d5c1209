"""Membership status from both ends of the terms: Member.status_on and the SQL status_clause agree."""
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.certifications import services as certification_services
from chapter.extensions import db
from chapter.members import services
from chapter.members.models import Member, MembershipStatus, TermSource
from tests import factories


def _status_in_sql(member: Member, day: date) -> MembershipStatus:
    found = [status for status in MembershipStatus if db.session.scalar(
        sa.select(Member.id).where(Member.id == member.id, Member.status_clause(status, day))) is not None]
    assert len(found) == 1, f"{member} has {found} in SQL on {day}"
    return found[0]


def _assert_status(member: Member, day: date, expected: MembershipStatus) -> None:
    db.session.flush()
    db.session.expire(member)
    assert member.status_on(day) is expected, f"Python on {day}"
    assert _status_in_sql(member, day) is expected, f"SQL on {day}"


def _grant(member, code, starts_on, ends_on=None, source=TermSource.PAYMENT):
    return services.grant_term(member, factories.membership_type(code), starts_on=starts_on, ends_on=ends_on,
                               source=source, actor=None)


def test_lifetime_granted_from_next_month_is_pending_until_it_starts_and_pays_the_non_member_price(app):
    member = factories.member(status="pending")
    _grant(member, "lifetime", date(2026, 2, 1), source=TermSource.STAFF_GRANT)
    _assert_status(member, date(2026, 1, 15), MembershipStatus.PENDING)
    _assert_status(member, date(2026, 1, 31), MembershipStatus.PENDING)
    _assert_status(member, date(2026, 2, 1), MembershipStatus.ACTIVE)
    exam = certification_services.exam_by_code("CPIM-P1")
    assert certification_services.quote(member, exam, date(2026, 1, 15)).price_cents == exam.non_member_fee_cents
    assert certification_services.quote(member, exam, date(2026, 2, 1)).price_cents == exam.member_fee_cents


def test_a_member_who_lapsed_and_rejoined_was_lapsed_in_the_gap(app):
    member = factories.member(status="pending")
    professional = factories.membership_type("professional")
    professional.grace_days = 30
    # Term ended 2026-03-31, grace to 2026-04-30, lapsed from 2026-05-01, rejoined 2026-05-03.
    _grant(member, "professional", date(2025, 4, 1))
    _grant(member, "professional", date(2026, 5, 3))
    assert member.continuous_since == date(2026, 5, 3) and member.joined_on == date(2025, 4, 1)
    _assert_status(member, date(2025, 3, 31), MembershipStatus.PENDING)
    _assert_status(member, date(2026, 3, 31), MembershipStatus.ACTIVE)
    _assert_status(member, date(2026, 4, 1), MembershipStatus.GRACE)
    _assert_status(member, date(2026, 4, 30), MembershipStatus.GRACE)  # the last day of grace
    _assert_status(member, date(2026, 5, 1), MembershipStatus.LAPSED)
    _assert_status(member, date(2026, 5, 2), MembershipStatus.LAPSED)
    _assert_status(member, date(2026, 5, 3), MembershipStatus.ACTIVE)


def test_the_last_day_of_grace_after_the_latest_term(app):
    member = factories.member(status="pending")
    _grant(member, "professional", date(2026, 1, 1))
    _assert_status(member, date(2026, 12, 31), MembershipStatus.ACTIVE)
    _assert_status(member, date(2027, 1, 30), MembershipStatus.GRACE)
    _assert_status(member, date(2027, 1, 31), MembershipStatus.LAPSED)


def test_a_term_dated_ahead_after_a_gap_leaves_the_gap_lapsed(app):
    member = factories.member(status="pending")
    _grant(member, "professional", date(2024, 1, 1))          # to 2024-12-31, grace to 2025-01-30
    _grant(member, "professional", date(2026, 7, 1))          # dated ahead: the gap is lapsed, not active
    _assert_status(member, date(2025, 1, 30), MembershipStatus.GRACE)
    _assert_status(member, date(2025, 1, 31), MembershipStatus.LAPSED)
    _assert_status(member, date(2026, 6, 30), MembershipStatus.LAPSED)
    _assert_status(member, date(2026, 7, 1), MembershipStatus.ACTIVE)


def test_back_to_back_terms_of_three_types_are_one_run(app):
    member = factories.member(status="pending")
    _grant(member, "student", date(2026, 1, 1), date(2026, 3, 31))
    _grant(member, "retired", date(2026, 4, 1), date(2026, 6, 30))
    _grant(member, "professional", date(2026, 7, 1), date(2026, 12, 31))
    assert member.continuous_since == date(2026, 1, 1)
    for day in (date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 12, 31)):
        _assert_status(member, day, MembershipStatus.ACTIVE)


def test_a_voided_term_does_not_count_in_sql_or_python(app):
    from chapter.core.models import utcnow

    member = factories.member(status="pending")
    _grant(member, "professional", date(2024, 1, 1))
    middle = _grant(member, "professional", date(2025, 1, 1))
    _grant(member, "professional", date(2026, 1, 1))
    middle.voided_at = utcnow()
    services.refresh_membership_dates(member)
    _assert_status(member, date(2025, 1, 30), MembershipStatus.GRACE)
    _assert_status(member, date(2025, 6, 1), MembershipStatus.LAPSED)
    _assert_status(member, date(2026, 1, 1), MembershipStatus.ACTIVE)


def test_the_first_and_last_days_of_terms_before_a_gap_are_active(app):
    """Days before the current run are read from the terms themselves: each term's own first and last days
    are active there too, and the day after its end is grace, in Python and in SQL."""
    member = factories.member(status="pending")
    professional = factories.membership_type("professional")
    professional.grace_days = 30
    _grant(member, "professional", date(2023, 1, 1), date(2023, 12, 31))
    _grant(member, "professional", date(2025, 1, 1), date(2025, 12, 31))
    _grant(member, "professional", date(2026, 6, 1))
    assert member.joined_on == date(2023, 1, 1) and member.continuous_since == date(2026, 6, 1)
    for day, expected in [(date(2023, 1, 1), MembershipStatus.ACTIVE), (date(2023, 12, 31), MembershipStatus.ACTIVE),
                          (date(2024, 1, 1), MembershipStatus.GRACE), (date(2024, 1, 30), MembershipStatus.GRACE),
                          (date(2024, 1, 31), MembershipStatus.LAPSED), (date(2024, 12, 31), MembershipStatus.LAPSED),
                          (date(2025, 1, 1), MembershipStatus.ACTIVE), (date(2025, 12, 31), MembershipStatus.ACTIVE),
                          (date(2026, 1, 1), MembershipStatus.GRACE), (date(2026, 1, 31), MembershipStatus.LAPSED),
                          (date(2026, 5, 31), MembershipStatus.LAPSED), (date(2026, 6, 1), MembershipStatus.ACTIVE)]:
        _assert_status(member, day, expected)


def test_before_the_current_run_grace_is_the_ended_terms_own_and_a_voided_term_gives_none(app):
    """The grace of an earlier term is its own type's (not the longest of any type), and a voided term's
    grace does not count: in Python and in SQL, for days before the current run of terms."""
    from chapter.core.models import utcnow

    member = factories.member(status="pending")
    factories.membership_type("professional").grace_days = 30
    factories.membership_type("student").grace_days = 90  # another type's longer grace must not apply
    _grant(member, "professional", date(2023, 1, 1), date(2023, 12, 31))
    voided = _grant(member, "professional", date(2025, 1, 1), date(2025, 12, 31))
    _grant(member, "professional", date(2026, 6, 1))
    voided.voided_at = utcnow()
    services.refresh_membership_dates(member)
    assert member.joined_on == date(2023, 1, 1) and member.continuous_since == date(2026, 6, 1)
    for day, expected in [(date(2024, 1, 30), MembershipStatus.GRACE), (date(2024, 2, 14), MembershipStatus.LAPSED),
                          (date(2025, 6, 1), MembershipStatus.LAPSED), (date(2026, 1, 15), MembershipStatus.LAPSED),
                          (date(2026, 6, 1), MembershipStatus.ACTIVE)]:
        _assert_status(member, day, expected)


def test_after_the_latest_term_only_its_grace_counts_and_before_the_run_a_covered_day_is_active(app):
    """A student term (90 days' grace) followed by a professional one (30 days): after the latest term
    only its own grace counts, not the longer grace of the student term before it. Before the current
    run, a day inside a term is active even while an earlier term's grace would also cover it."""
    factories.membership_type("professional").grace_days = 30
    factories.membership_type("student").grace_days = 90
    changed_type = factories.member(status="pending")
    _grant(changed_type, "student", date(2026, 1, 1), date(2026, 3, 31))
    _grant(changed_type, "professional", date(2026, 4, 1), date(2026, 4, 30))
    for day, expected in [(date(2026, 5, 30), MembershipStatus.GRACE), (date(2026, 5, 31), MembershipStatus.LAPSED),
                          (date(2026, 6, 15), MembershipStatus.LAPSED)]:
        _assert_status(changed_type, day, expected)
    back_within_grace = factories.member(status="pending")
    _grant(back_within_grace, "student", date(2025, 1, 1), date(2025, 3, 31))
    _grant(back_within_grace, "professional", date(2025, 4, 10), date(2025, 4, 30))
    _grant(back_within_grace, "professional", date(2026, 6, 1))
    assert back_within_grace.continuous_since == date(2026, 6, 1)
    for day, expected in [(date(2025, 4, 5), MembershipStatus.GRACE), (date(2025, 4, 10), MembershipStatus.ACTIVE),
                          (date(2025, 4, 15), MembershipStatus.ACTIVE), (date(2025, 6, 15), MembershipStatus.GRACE),
                          (date(2025, 6, 30), MembershipStatus.LAPSED)]:
        _assert_status(back_within_grace, day, expected)


@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 5, 2), date(2026, 4, 30), date(2027, 1, 31)])
def test_counts_by_status_in_sql_match_python_for_a_mixed_set(app, day):
    members = []
    for starts, ends in [(date(2026, 2, 1), None), (date(2025, 4, 1), date(2026, 3, 31)),
                         (date(2026, 1, 1), date(2026, 12, 31)), (date(2020, 1, 1), date(2020, 12, 31))]:
        member = factories.member(status="pending")
        _grant(member, "lifetime" if ends is None else "professional", starts, ends)
        members.append(member)
    _grant(members[1], "professional", date(2026, 5, 3))
    db.session.flush()
    for status in MembershipStatus:
        in_sql = set(db.session.scalars(sa.select(Member.id).where(Member.status_clause(status, day))))
        in_python = {m.id for m in members if m.status_on(day) is status}
        assert in_sql == in_python, (status, day)
    # The CSV export reads the status as one SQL value: the same answer.
    as_values = dict(db.session.execute(sa.select(Member.id, Member.status_expression(day))).all())
    assert as_values == {m.id: m.status_on(day).value for m in members}
