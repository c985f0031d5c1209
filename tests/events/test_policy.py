"""The refund tiers at their date edges (in the event's time zone), the materials fee never refunded, and the
price category decided on the day of payment."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import utcnow
from chapter.events import policy, registration as registrations
from chapter.events.models import PriceCategory, RegistrationStatus
from chapter.extensions import db
from chapter.payments import fulfilment
from chapter.payments.models import Order
from tests import factories
from tests.events import factories as events

# 20 March 2027, 18:00 in New York (EDT, UTC-4) is 22:00 UTC.
STARTS_UTC = datetime(2027, 3, 20, 22, 0)


def _utc(local: str) -> datetime:
    from chapter.events.times import to_utc

    return to_utc(datetime.fromisoformat(local), "America/New_York")


@pytest.mark.parametrize("local_moment, percent", [
    ("2027-03-06T23:59", 100),  # 14 days before: full refund
    ("2027-03-07T00:00", 50),   # 13 days before
    ("2027-03-13T23:59", 50),   # 7 days before
    ("2027-03-14T00:00", 0),    # 6 days before: nothing
    ("2027-03-20T17:59", 0),    # the day itself
    ("2027-03-20T18:00", 0),    # started
])
def test_each_refund_tier_holds_until_the_end_of_its_day_in_the_events_zone(app, local_moment, percent):
    meeting = events.event(factories.chapter(timezone="America/New_York"), starts_at=STARTS_UTC,
                           materials_fee_cents=500, timezone="America/New_York")
    registration = events.registration(meeting, user=factories.user())
    moment = _utc(local_moment)
    assert policy.refund_percent(meeting, moment) == percent
    assert policy.refund_for(registration, moment) == (2500 - 500) * percent // 100  # the materials fee stays


def test_the_refund_shown_before_cancelling_follows_the_clock(app, clock):
    meeting = events.event(factories.chapter(), starts_at=STARTS_UTC, timezone="America/New_York")
    registration = events.registration(meeting, user=factories.user())
    clock("2027-03-07T04:59:00", tick=False)  # 23:59 on 6 March in New York
    assert registrations.cancellation_quote(registration, utcnow()).refund_cents == 2500
    clock("2027-03-07T05:00:00", tick=False)  # midnight in New York: 13 days before
    assert registrations.cancellation_quote(registration, utcnow()).refund_cents == 1250


def test_the_price_category_is_the_one_of_the_day_of_payment(app, clock):
    chapter = factories.chapter()
    member = factories.member(home=chapter, with_user=True)
    meeting = events.event(chapter, starts_at=utcnow() + timedelta(days=600), capacity=10)
    registration = registrations.register(meeting, user=member.user)
    order = db.session.get(Order, registration.order_id)
    assert (registration.category, order.total_cents) == (PriceCategory.MEMBER, 2500)
    lapsed_day = clock((member.grace_ends_on + timedelta(days=1)).isoformat())
    assert fulfilment.price_on(order, lapsed_day) == fulfilment.STALE  # the hold ran out meanwhile, too
    fulfilment.reprice(order, lapsed_day)
    assert (registration.category, registration.status, order.total_cents) == (
        PriceCategory.NON_MEMBER, RegistrationStatus.PENDING, 4000)
    assert fulfilment.price_on(order, lapsed_day) == 4000


def test_a_student_member_pays_the_student_price_and_a_visitor_the_non_member_price(app):
    chapter = factories.chapter()
    meeting = events.event(chapter)
    student = factories.member(home=chapter, with_user=True, type_code="student")
    visitor = factories.member(home=chapter, with_user=True, status="pending")
    today = utcnow().date()
    assert policy.price_for(meeting, student, today) == policy.Price(PriceCategory.STUDENT, 1000)
    assert policy.price_for(meeting, visitor, today) == policy.Price(PriceCategory.NON_MEMBER, 4000)
    assert policy.price_for(meeting, None, today) == policy.Price(PriceCategory.NON_MEMBER, 4000)


def test_a_corporate_seat_holder_pays_the_corporate_price_while_the_seat_is_current(app):
    from chapter.members.models import CorporateMembership, CorporateSeat, Organization

    chapter = factories.chapter()
    meeting = events.event(chapter, prices={PriceCategory.MEMBER: 2500, PriceCategory.NON_MEMBER: 4000,
                                            PriceCategory.CORPORATE: 1800})
    employee = factories.member(home=chapter, with_user=True, type_code="corporate_seat")
    today = utcnow().date()
    company = Organization(name="Acme Logistics")
    db.session.add(company)
    db.session.flush()
    corporate = CorporateMembership(organization_id=company.id, membership_type_id=factories.membership_type(
        "corporate_seat").id, seats=5, starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=30))
    db.session.add(corporate)
    db.session.flush()
    db.session.add(CorporateSeat(corporate_membership_id=corporate.id, member_id=employee.id,
                                 assigned_on=today - timedelta(days=30)))
    db.session.flush()
    assert policy.price_for(meeting, employee, today) == policy.Price(PriceCategory.CORPORATE, 1800)
    assert policy.price_for(meeting, employee, today + timedelta(days=31)).category is not PriceCategory.CORPORATE
