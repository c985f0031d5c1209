"""Chapter events: the event, its sessions, prices and refund tiers, and the registrations.

Times are stored as naive UTC datetimes (as everywhere in the project, see chapter/core/models.py utcnow);
`Event.timezone` (IANA name) is the zone the event happens in: forms and pages show local times
(chapter/events/times.py converts).
"""
from __future__ import annotations

import enum
import secrets
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import TimestampMixin, utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.certifications.models import PointCategory
    from chapter.chapters.models import Chapter
    from chapter.members.models import Member
    from chapter.payments.models import Order


def _enum(enum_class):
    return sa.Enum(enum_class, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class EventKind(str, enum.Enum):
    MEETING = "meeting"
    PLANT_TOUR = "plant_tour"
    WEBINAR = "webinar"
    REVIEW_COURSE = "review_course"

    @property
    def label(self) -> str:
        return {"meeting": "Meeting", "plant_tour": "Plant tour", "webinar": "Webinar",
                "review_course": "Review course"}[self.value]


class EventStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # attendance final

    @property
    def label(self) -> str:
        return self.value.capitalize()


class PriceCategory(str, enum.Enum):
    MEMBER = "member"
    NON_MEMBER = "non_member"
    STUDENT = "student"
    CORPORATE = "corporate"  # a corporate seat holder
    GUEST = "guest"  # a member's guest

    @property
    def label(self) -> str:
        return {"member": "Member", "non_member": "Non-member", "student": "Student",
                "corporate": "Corporate seat holder", "guest": "Guest"}[self.value]


class RegistrationStatus(str, enum.Enum):
    PENDING = "pending"  # awaiting payment; holds a seat until hold_expires_at
    PAID = "paid"  # paid, or confirmed when free
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed seat offered until offer_expires_at
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # an unpaid hold or an offer that ran out

    @property
    def label(self) -> str:
        return {"pending": "Awaiting payment", "paid": "Confirmed", "waitlisted": "On the waitlist",
                "offered": "Seat offered", "cancelled": "Cancelled", "expired": "Expired"}[self.value]


# Statuses that may hold a seat (pending and offered only while their hold/offer has not run out).
SEAT_STATUSES = (RegistrationStatus.PAID, RegistrationStatus.PENDING, RegistrationStatus.OFFERED)
LIVE_STATUSES = (*SEAT_STATUSES, RegistrationStatus.WAITLISTED)


class Event(TimestampMixin, db.Model):
    """Something a chapter runs: a meeting, a plant tour, a webinar, a review course (several sessions)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind), default=EventKind.MEETING, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    slug: Mapped[str | None] = mapped_column(sa.String(120))
    description_md: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    timezone: Mapped[str] = mapped_column(sa.String(50), default="America/New_York", nullable=False)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)  # UTC
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)  # UTC
    venue: Mapped[str | None] = mapped_column(sa.String(500))
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    capacity: Mapped[int | None] = mapped_column(sa.Integer)  # None: unlimited
    registration_opens_at: Mapped[datetime | None] = mapped_column(sa.DateTime)  # None: when published
    registration_closes_at: Mapped[datetime | None] = mapped_column(sa.DateTime)  # None: when it starts
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD", nullable=False)
    chapter_share_percent: Mapped[int] = mapped_column(sa.Integer, default=100, server_default="100", nullable=False)
    materials_fee_cents: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0", nullable=False)
    # Counts as a professional-development event (activity "pd_event" for health and standards).
    professional_development: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true(),
                                                           nullable=False)
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.DRAFT, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    attendance_final_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    points_category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("point_categories.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    chapter: Mapped[Chapter] = relationship()
    created_by: Mapped[User | None] = relationship()
    points_category: Mapped[PointCategory | None] = relationship()
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", order_by="EventSession.position", cascade="all, delete-orphan")
    prices: Mapped[list[EventPrice]] = relationship(
        back_populates="event", order_by="EventPrice.id", cascade="all, delete-orphan")
    refund_tiers: Mapped[list[RefundTier]] = relationship(
        back_populates="event", order_by="RefundTier.days_before.desc()", cascade="all, delete-orphan")
    registrations: Mapped[list[Registration]] = relationship(back_populates="event", lazy="raise_on_sql")

    __table_args__ = (
        sa.CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("chapter_share_percent BETWEEN 0 AND 100", name="share_is_percent"),
        sa.CheckConstraint("materials_fee_cents >= 0", name="materials_fee_not_negative"),
        sa.Index("ix_events_status_starts_at", "status", "starts_at"),
        sa.Index("ix_events_chapter_starts_at", "chapter_id", "starts_at"),
    )

    @property
    def instructional_hours(self) -> Decimal:
        return sum((s.instructional_hours or Decimal(0) for s in self.sessions), Decimal(0))

    def price_for(self, category: PriceCategory) -> int | None:
        """The price in cents of `category`, None when that category is not offered."""
        for price in self.prices:
            if price.category == category:
                return price.amount_cents
        return None

    @property
    def is_free(self) -> bool:
        return all(p.amount_cents == 0 for p in self.prices)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


class EventSession(db.Model):
    """One sitting of an event (a review course has several); its instructional hours are the points it is worth."""

    __tablename__ = "event_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)
    title: Mapped[str | None] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)  # UTC
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)  # UTC
    instructional_hours: Mapped[Decimal] = mapped_column(sa.Numeric(4, 1), default=Decimal(0), nullable=False)

    event: Mapped[Event] = relationship(back_populates="sessions")

    __table_args__ = (
        sa.CheckConstraint("ends_at >= starts_at", name="session_ends_after_start"),
        sa.CheckConstraint("instructional_hours >= 0", name="hours_not_negative"),
    )


class EventPrice(db.Model):
    """The price of one category of registrant; no row = the category is not offered."""

    __tablename__ = "event_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    category: Mapped[PriceCategory] = mapped_column(_enum(PriceCategory), nullable=False)
    amount_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    event: Mapped[Event] = relationship(back_populates="prices")

    __table_args__ = (
        sa.UniqueConstraint("event_id", "category", name="uq_event_prices_event_category"),
        sa.CheckConstraint("amount_cents >= 0", name="price_not_negative"),
    )


class RefundTier(db.Model):
    """Cancelling at least `days_before` days before the start refunds `percent` (of the price less the
    materials fee). Full until 14 days, 50% until 7, none after: (14,100), (7,50), (0,0)."""

    __tablename__ = "event_refund_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    days_before: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    percent: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    event: Mapped[Event] = relationship(back_populates="refund_tiers")

    __table_args__ = (
        sa.UniqueConstraint("event_id", "days_before", name="uq_event_refund_tiers_event_days"),
        sa.CheckConstraint("days_before >= 0", name="days_not_negative"),
        sa.CheckConstraint("percent BETWEEN 0 AND 100", name="tier_is_percent"),
    )


def new_ticket_code() -> str:
    return secrets.token_urlsafe(12)


class Registration(db.Model):
    """One person's place (or place in the queue) at an event: a member, a visitor, a guest, a walk-in."""

    __tablename__ = "event_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    guest_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event_registrations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    category: Mapped[PriceCategory] = mapped_column(_enum(PriceCategory), nullable=False)
    price_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    status: Mapped[RegistrationStatus] = mapped_column(_enum(RegistrationStatus), nullable=False)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    ticket_code: Mapped[str] = mapped_column(sa.String(40), unique=True, default=new_ticket_code, nullable=False)
    waitlist_position: Mapped[int | None] = mapped_column(sa.Integer)
    hold_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)  # pending: the payment window
    offer_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)  # offered: the offer's end
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    refund_cents: Mapped[int | None] = mapped_column(sa.Integer)
    checked_in_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    paid_at_door: Mapped[str | None] = mapped_column(sa.String(10))  # "cash" or "card" (walk-ins)
    points_credited_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    event: Mapped[Event] = relationship(back_populates="registrations")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    member: Mapped[Member | None] = relationship()
    guest_of: Mapped[Registration | None] = relationship(remote_side=[id], back_populates="guests")
    guests: Mapped[list[Registration]] = relationship(back_populates="guest_of")
    order: Mapped[Order | None] = relationship()
    checked_in_by: Mapped[User | None] = relationship(foreign_keys=[checked_in_by_id])

    __table_args__ = (
        sa.Index("ix_event_registrations_event_status", "event_id", "status"),
        # One live registration of a person for an event (their guests are registrations of their own).
        sa.Index("uq_event_registrations_one_live_per_user", "event_id", "user_id", unique=True,
                 sqlite_where=sa.text("user_id IS NOT NULL AND guest_of_id IS NULL "
                                      "AND status IN ('pending', 'paid', 'waitlisted', 'offered')"),
                 postgresql_where=sa.text("user_id IS NOT NULL AND guest_of_id IS NULL "
                                          "AND status IN ('pending', 'paid', 'waitlisted', 'offered')")),
        sa.CheckConstraint("price_cents >= 0", name="registration_price_not_negative"),
    )

    @property
    def is_guest(self) -> bool:
        return self.guest_of_id is not None

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status.value} event={self.event_id}>"
