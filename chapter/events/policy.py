"""What a registration costs and what cancelling it gives back: the price category on a day, the refund tier.

Price category on the day of payment: among the categories the person qualifies for that day (an active
member; a student member; a corporate seat holder; anyone as a non-member) the cheapest one the event
offers. A member's guests pay the guest price.

Refund tiers: cancelling `d` whole days before the event's first day (both dates in the event's time zone)
refunds the percent of the tier with the largest `days_before` not above `d` (none: nothing). With tiers
(14, 100), (7, 50), (0, 0): 14 days or more before, everything; 7 to 13 days, half; 0 to 6 days, nothing.
The materials fee is never refunded: the percent applies to the price less the materials fee.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from chapter.core.errors import DomainError
from chapter.events.models import Event, PriceCategory, Registration
from chapter.events.times import local_date
from chapter.extensions import db
from chapter.members.models import CorporateMembership, CorporateSeat, Member, MembershipKind, MembershipStatus


def qualifying_categories(member: Member | None, day: date) -> list[PriceCategory]:
    """The categories a person qualifies for on `day` (non-member always)."""
    categories = [PriceCategory.NON_MEMBER]
    if member is None or member.status_on(day) is not MembershipStatus.ACTIVE:
        return categories
    categories.append(PriceCategory.MEMBER)
    if member.current_type is not None and member.current_type.kind is MembershipKind.STUDENT:
        categories.append(PriceCategory.STUDENT)
    holds_seat = db.session.scalar(sa.select(CorporateSeat.id).join(CorporateMembership).where(
        CorporateSeat.member_id == member.id, CorporateSeat.released_on.is_(None),
        CorporateMembership.starts_on <= day, CorporateMembership.ends_on >= day).limit(1))
    if holds_seat is not None:
        categories.append(PriceCategory.CORPORATE)
    return categories


@dataclass(frozen=True)
class Price:
    category: PriceCategory
    cents: int


def price_for(event: Event, member: Member | None, day: date) -> Price:
    """The cheapest offered category the person qualifies for on `day`; DomainError when none is offered."""
    offered = [(event.price_for(category), category) for category in qualifying_categories(member, day)]
    offered = [(cents, category) for cents, category in offered if cents is not None]
    if not offered:
        raise DomainError("This event is not open to you (it is for members only).")
    cents, category = min(offered, key=lambda pair: (pair[0], list(PriceCategory).index(pair[1])))
    return Price(category, cents)


def guest_price(event: Event) -> int:
    cents = event.price_for(PriceCategory.GUEST)
    if cents is None:
        raise DomainError("This event does not take guests.", field="guests")
    return cents


def days_before(event: Event, moment: datetime) -> int:
    """Whole days from `moment`'s date to the event's first day, both in the event's time zone."""
    return (local_date(event.starts_at, event.timezone) - local_date(moment, event.timezone)).days


def refund_percent(event: Event, moment: datetime) -> int:
    """The percent of the refundable part given back when cancelling at `moment` (0 once the event began)."""
    if moment >= event.starts_at:
        return 0
    left = days_before(event, moment)
    tiers = sorted(event.refund_tiers, key=lambda tier: tier.days_before, reverse=True)
    return next((tier.percent for tier in tiers if left >= tier.days_before), 0)


def refund_for(registration: Registration, moment: datetime) -> int:
    """What cancelling this paid registration at `moment` gives back, in cents (materials fee kept)."""
    event = registration.event
    refundable = max(0, registration.price_cents - event.materials_fee_cents) if registration.price_cents else 0
    return refundable * refund_percent(event, moment) // 100
