"""Membership years earn maintenance points (6 a year), and benefits last exactly as long as the membership:
shown on its last active day, gone once it has lapsed. Checked on the pages the member reads."""
from datetime import date, timedelta

import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.models import CertificationType
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from tests import factories

BENEFITS = ["APICS magazine subscription", "APICS Dictionary", "Operations Management Body of Knowledge (OMBOK) framework",
            "Learning center access", "Member exam prices", "Local chapter events"]  # the professional type's


def _member_with_terms(*spans: tuple[date, date]):
    member = factories.member(home=factories.chapter(40), status="pending", email="ada@example.org", with_user=True)
    for starts_on, ends_on in spans:
        member_services.grant_term(member, factories.membership_type(), starts_on=starts_on, ends_on=ends_on,
                                   source=TermSource.PAYMENT, actor=None)
    return member


def _cpim(member, earned_on: date):
    cpim = db.session.scalar(sa.select(CertificationType).where(CertificationType.code == "CPIM"))
    return services.grant_certification(member, cpim, earned_on, actor=None)


def test_two_membership_years_in_the_cycle_count_twelve_points_on_the_transcript(app, client, clock):
    clock("2026-03-01")
    member = _member_with_terms((date(2024, 2, 1), date(2025, 1, 31)), (date(2025, 2, 1), date(2026, 1, 31)))
    held = _cpim(member, date(2024, 1, 2))  # the cycle ends 31 Jan 2029; both membership years fall in it
    db.session.commit()
    assert services.cycle_starts_on(held) <= date(2024, 2, 1)
    assert services.membership_points(member, date(2024, 2, 1), date(2026, 3, 1)) == 12
    assert services.points_summary(held, date(2026, 3, 1)).membership == 12

    client.login("ada@example.org")
    page = client.get("/transcript").get_data(as_text=True)
    assert "points counted 12 of 75" in page and 'aria-label="12 points counted against 75 required"' in page


def test_membership_years_before_the_cycle_earn_nothing_for_it(app):
    member = _member_with_terms((date(2020, 1, 1), date(2020, 12, 31)), (date(2024, 2, 1), date(2025, 1, 31)))
    assert services.membership_points(member, date(2024, 2, 1), date(2029, 1, 31)) == 6
    assert services.membership_points(member, date(2019, 1, 1), date(2029, 1, 31)) == 12


def test_benefits_show_on_the_last_day_of_membership(app, client, clock):
    clock("2026-03-31")
    _member_with_terms((date(2025, 4, 1), date(2026, 3, 31)))
    db.session.commit()
    client.login("ada@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="benefits"' in page and all(name in page for name in BENEFITS)


def test_benefits_are_gone_once_the_membership_has_lapsed(app, client, clock):
    clock("2026-05-01")  # grace (30 days) ended on 30 Apr 2026
    member = _member_with_terms((date(2025, 4, 1), date(2026, 3, 31)))
    db.session.commit()
    assert member.grace_ends_on == date(2026, 4, 30)
    client.login("ada@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Benefits come with an active membership." in page
    assert 'data-testid="benefits"' not in page and not any(name in page for name in BENEFITS)
    assert services.benefits_on(member, date(2026, 5, 1)) == []
    assert [b.name for b in services.benefits_on(member, date(2026, 3, 31))] == BENEFITS
