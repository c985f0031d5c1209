"""What membership entitles a member to, and the magazine mailing list."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from chapter.extensions import db
from chapter.certifications.models import Benefit, membership_type_benefits
from chapter.members.models import Member, MembershipStatus


def benefits_on(member: Member, day: date) -> list[Benefit]:
    """What the member's membership type entitles them to today; nothing once the membership lapses."""
    if member.status_on(day) is not MembershipStatus.ACTIVE or member.current_type_id is None:
        return []
    return list(db.session.scalars(sa.select(Benefit).join(
        membership_type_benefits, membership_type_benefits.c.benefit_id == Benefit.id)
        .where(membership_type_benefits.c.membership_type_id == member.current_type_id).order_by(Benefit.sort_order)))


def magazine_subscribers(day: date):
    """Active members whose type includes the magazine and who have a postal address (a streaming query)."""
    return (sa.select(Member.member_number, Member.first_name, Member.last_name, Member.address_line1,
                      Member.address_line2, Member.city, Member.region, Member.postal_code, Member.country)
            .join(membership_type_benefits, membership_type_benefits.c.membership_type_id == Member.current_type_id)
            .join(Benefit, Benefit.id == membership_type_benefits.c.benefit_id)
            .where(Benefit.code == "magazine", Member.status_clause(MembershipStatus.ACTIVE, day),
                   Member.address_line1.is_not(None), Member.address_line1 != "", Member.postal_code.is_not(None))
            .order_by(Member.member_number))
