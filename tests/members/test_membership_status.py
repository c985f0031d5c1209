"""Membership status is computed from the dates of the terms, in Python and in SQL alike."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import FOREVER, today
from chapter.extensions import db
from chapter.members import services
from chapter.members.models import Member, MembershipStatus, TermSource
from tests import factories


def test_term_end_is_anniversary_billing():
    professional = type("T", (), {"term_months": 12})()
    assert services.term_end(date(2026, 3, 15), professional) == date(2027, 3, 14)
    assert services.term_end(date(2024, 2, 29), professional) == date(2025, 2, 27)
    assert services.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_status_moves_from_pending_to_active_to_grace_to_lapsed(app):
    member = factories.member(status="pending")
    assert member.status_on(date(2026, 1, 1)) is MembershipStatus.PENDING
    services.grant_term(member, factories.membership_type("professional"), starts_on=date(2026, 1, 1),
                        source=TermSource.PAYMENT, actor=None)
    assert member.paid_through == date(2026, 12, 31)
    assert member.grace_ends_on == date(2027, 1, 30)
    assert member.status_on(date(2026, 12, 31)) is MembershipStatus.ACTIVE
    assert member.status_on(date(2027, 1, 1)) is MembershipStatus.GRACE
    assert member.status_on(date(2027, 1, 30)) is MembershipStatus.GRACE
    assert member.status_on(date(2027, 1, 31)) is MembershipStatus.LAPSED


def test_grace_period_is_data_per_membership_type(app):
    student = factories.membership_type("student")
    student.grace_days = 0
    member = factories.member(status="pending")
    services.grant_term(member, student, starts_on=date(2026, 1, 1), source=TermSource.PAYMENT, actor=None)
    assert member.status_on(date(2027, 1, 1)) is MembershipStatus.LAPSED


def test_renewal_adds_a_term_and_keeps_history(app):
    member = factories.member(status="pending")
    professional = factories.membership_type("professional")
    services.grant_term(member, professional, starts_on=date(2025, 1, 1), source=TermSource.PAYMENT, actor=None)
    services.grant_term(member, professional, starts_on=date(2026, 1, 1), source=TermSource.PAYMENT, actor=None)
    db.session.refresh(member)
    assert [(t.starts_on, t.ends_on) for t in member.terms] == [
        (date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 12, 31))]
    assert member.joined_on == date(2025, 1, 1) and member.paid_through == date(2026, 12, 31)


def test_lifetime_membership_never_lapses(app):
    member = factories.member(status="pending")
    services.grant_term(member, factories.membership_type("lifetime"), starts_on=date(2020, 5, 1),
                        source=TermSource.STAFF_GRANT, actor=None)
    assert member.paid_through == FOREVER
    assert member.status_on(date(2090, 1, 1)) is MembershipStatus.ACTIVE


@pytest.mark.parametrize("status", ["active", "grace", "lapsed", "pending"])
def test_sql_status_filter_agrees_with_python(app, status):
    home = factories.chapter()
    for each in ("active", "grace", "lapsed", "pending"):
        factories.member(home=home, status=each)
    day = today()
    found = db.session.scalars(sa.select(Member).where(Member.status_clause(MembershipStatus(status), day))).all()
    assert len(found) == 1
    assert found[0].status_on(day) is MembershipStatus(status)
