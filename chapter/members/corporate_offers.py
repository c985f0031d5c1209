"""Consent to a corporate seat: a contact who names an existing member (by member number) makes an offer;
the member accepts or declines it from their dashboard or the e-mailed link. Until they accept, the
contact sees only the member number they typed: no name, no e-mail, no membership.

A pending offer reserves a seat, so a contact cannot offer more seats than the organization has.
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import today, utcnow
from chapter.extensions import db
from chapter.members import corporate
from chapter.members import services as member_services
from chapter.members.models import CorporateMembership, Member

if TYPE_CHECKING:
    from chapter.auth.models import User


class SeatOfferStatus(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class SeatOffer(db.Model):
    """A seat offered to an existing member, waiting for (or holding) their answer."""

    __tablename__ = "corporate_seat_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    corporate_membership_id: Mapped[int] = mapped_column(sa.ForeignKey("corporate_memberships.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    # What the contact typed: the only thing about the member they see before the answer.
    member_number: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    offered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    offered_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    status: Mapped[SeatOfferStatus] = mapped_column(
        sa.Enum(SeatOfferStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=SeatOfferStatus.PENDING, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    corporate_membership: Mapped[CorporateMembership] = relationship()
    member: Mapped[Member] = relationship()


def pending_offer_count(corporate_membership: CorporateMembership) -> int:
    """Seats reserved by offers waiting for an answer."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(SeatOffer).where(
        SeatOffer.corporate_membership_id == corporate_membership.id,
        SeatOffer.status == SeatOfferStatus.PENDING)) or 0


def offer_seat(corporate_membership: CorporateMembership, *, member_number: str, actor: User,
               day: date | None = None, override_reason: str | None = None) -> SeatOffer:
    """Offer a seat to the member with this number; nothing is given, and nothing about them shown, until they accept."""
    day = day or today()
    organization = corporate_membership.organization
    corporate._require_manager(organization, actor)
    if corporate_membership.ends_on < day:
        raise DomainError("This corporate membership has ended; renew it to name employees.")
    number = (member_number or "").strip()
    member = member_services.get_member_by_number(number) if number else None
    if member is None:
        raise DomainError("No member has this number.", field="member_number")
    corporate._lock(corporate_membership)
    from chapter.members.corporate_renewals import check_seat_free

    check_seat_free(corporate_membership, actor=actor, day=day, override_reason=override_reason)  # not transferable
    if corporate.seats_used(corporate_membership) + pending_offer_count(corporate_membership) >= corporate_membership.seats:
        raise DomainError(f"All {corporate_membership.seats} seats are taken or offered. Add seats, or free one first.")
    waiting = db.session.scalar(sa.select(SeatOffer.id).where(
        SeatOffer.corporate_membership_id == corporate_membership.id, SeatOffer.member_id == member.id,
        SeatOffer.status == SeatOfferStatus.PENDING))
    if waiting is not None:
        raise DomainError(f"An offer to member number {number} is already waiting for an answer.", field="member_number")
    offer = SeatOffer(token=secrets.token_urlsafe(32), corporate_membership_id=corporate_membership.id,
                      member_id=member.id, member_number=number, offered_by_id=actor.id, offered_at=utcnow())
    db.session.add(offer)
    db.session.flush()
    audit.record(AuditAction.SEAT_OFFERED, actor=actor, chapter_id=member.home_chapter_id, member_id=member.id,
                 summary=f"{organization.name} offered {member.full_name} ({member.member_number}) a corporate seat",
                 after={"organization": organization.name, "until": corporate_membership.ends_on})
    return offer


def offers_of(corporate_membership: CorporateMembership) -> list[SeatOffer]:
    """The offers of a corporate membership not accepted (pending, declined), newest first, for its contact."""
    return db.session.scalars(sa.select(SeatOffer).where(
        SeatOffer.corporate_membership_id == corporate_membership.id,
        SeatOffer.status.in_([SeatOfferStatus.PENDING, SeatOfferStatus.DECLINED]))
        .order_by(SeatOffer.offered_at.desc(), SeatOffer.id.desc()).limit(200)).all()


def offered_to(member_id) -> sa.ColumnElement[bool]:
    """SQL: a seat offered to this member and waiting for their answer (`member_id`: a value or a bind parameter)."""
    return sa.and_(SeatOffer.member_id == member_id, SeatOffer.status == SeatOfferStatus.PENDING)


def pending_offers_for_member(member: Member) -> list[SeatOffer]:
    """Seats offered to the member and waiting for their answer (the dashboard)."""
    return db.session.scalars(sa.select(SeatOffer).options(
        joinedload(SeatOffer.corporate_membership).joinedload(CorporateMembership.organization)).where(
        offered_to(member.id)).order_by(SeatOffer.offered_at)).all()


def get_offer_by_token(token: str) -> SeatOffer | None:
    return db.session.scalar(sa.select(SeatOffer).where(SeatOffer.token == (token or "")[:64]))


def _pending_offer_of(offer: SeatOffer, actor: User) -> Member:
    member = offer.member
    if actor is None or member.user_id is None or member.user_id != actor.id:
        raise NotAllowed("Only the member the seat is offered to can answer.")
    if offer.status is not SeatOfferStatus.PENDING:
        raise DomainError("This offer has already been answered or withdrawn.")
    return member


def accept_seat_offer(offer: SeatOffer, *, actor: User, day: date | None = None) -> corporate.SeatAssignment:
    """The member accepts: they hold the seat from today (and in already renewed terms with a free seat)."""
    day = day or today()
    member = _pending_offer_of(offer, actor)
    corporate_membership = offer.corporate_membership
    if corporate_membership.ends_on < day:
        raise DomainError("This corporate membership has ended; the seat can no longer be taken.")
    corporate._lock(corporate_membership)
    held = corporate._held_seat(member, day)
    if held is not None:
        raise DomainError(f"You already hold a corporate seat ({held.corporate_membership.organization.name}); "
                          "ask that organization to free it first.")
    if corporate.seats_used(corporate_membership) >= corporate_membership.seats:
        raise DomainError("All seats of this corporate membership are taken now; ask the contact to add one.")
    seat = corporate._seat(corporate_membership, member, starts_on=max(day, corporate_membership.starts_on),
                           assigned_on=day, actor=actor)
    not_carried = []
    for later in corporate.later_corporate_memberships(corporate_membership):
        corporate._lock(later)
        if corporate.seats_used(later) < later.seats:
            corporate._seat(later, member, starts_on=later.starts_on, assigned_on=day, actor=actor)
        else:
            not_carried.append(later)
    offer.status = SeatOfferStatus.ACCEPTED
    offer.decided_at = utcnow()
    organization = corporate_membership.organization
    audit.record(AuditAction.SEAT_ASSIGNED, actor=actor, chapter_id=member.home_chapter_id, member_id=member.id,
                 summary=f"{member.full_name} ({member.member_number}) accepted a corporate seat of {organization.name}",
                 after={"organization": organization.name, "until": corporate_membership.ends_on})
    db.session.flush()
    return corporate.SeatAssignment(seat, member, False, False, not_carried)


def decline_seat_offer(offer: SeatOffer, *, actor: User) -> SeatOffer:
    """The member says no: nothing changes, and the contact sees only that the number declined."""
    member = _pending_offer_of(offer, actor)
    offer.status = SeatOfferStatus.DECLINED
    offer.decided_at = utcnow()
    db.session.flush()
    audit.record(AuditAction.SEAT_DECLINED, actor=actor, chapter_id=member.home_chapter_id, member_id=member.id,
                 summary=f"{member.full_name} declined a corporate seat of {offer.corporate_membership.organization.name}")
    return offer


def cancel_seat_offer(offer: SeatOffer, *, actor: User) -> SeatOffer:
    """The contact withdraws an offer not yet answered."""
    corporate._require_manager(offer.corporate_membership.organization, actor)
    if offer.status is not SeatOfferStatus.PENDING:
        raise DomainError("This offer has already been answered.")
    offer.status = SeatOfferStatus.CANCELLED
    offer.decided_at = utcnow()
    db.session.flush()
    return offer
