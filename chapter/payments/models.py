"""Orders, payments, refunds and the Stripe events we received: the money path's records."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import TimestampMixin, utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import Chapter
    from chapter.members.models import Member, MembershipTerm, MembershipType, Organization


def _enum(enum_class):
    return sa.Enum(enum_class, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class OrderPurpose(str, enum.Enum):
    """What an order buys; decides how it is fulfilled."""

    JOIN = "join"
    RENEWAL = "renewal"
    TYPE_CHANGE = "type_change"
    CORPORATE_SEATS = "corporate_seats"
    CORPORATE_ADD_SEATS = "corporate_add_seats"
    CORPORATE_RENEWAL = "corporate_renewal"
    EXAM = "exam"
    EVENT = "event"  # a chapter event's registration (chapter/events/fulfilment.py)

    @property
    def label(self) -> str:
        return {
            "join": "Membership (join)", "renewal": "Membership renewal", "type_change": "Membership type change",
            "corporate_seats": "Corporate membership", "corporate_add_seats": "Additional corporate seats",
            "corporate_renewal": "Corporate membership renewal", "exam": "Exam",
            "event": "Event registration",
        }[self.value]


class OrderStatus(str, enum.Enum):
    OPEN = "open"  # awaiting payment
    PAID = "paid"  # paid and fulfilled
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class PaymentStatus(str, enum.Enum):
    """Our view of one attempt to pay (a Stripe PaymentIntent); allowed moves are in PAYMENT_TRANSITIONS."""

    PENDING = "pending"  # created here; Stripe not called yet (or the process died during the call)
    UNKNOWN = "unknown"  # we called Stripe and got no answer (time-out, dropped connection): maybe charged
    REQUIRES_ACTION = "requires_action"  # 3-D Secure in the browser
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # Stripe said no (a decline, an invalid request), or Stripe never had the attempt
    CANCELED = "canceled"  # cancelled at Stripe (an abandoned 3-D Secure): it can never succeed
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"

    @property
    def label(self) -> str:
        return {"pending": "Pending", "unknown": "Awaiting the payment service's answer",
                "requires_action": "Waiting for authentication", "processing": "Processing",
                "succeeded": "Succeeded", "failed": "Failed", "canceled": "Cancelled", "refunded": "Refunded",
                "partially_refunded": "Partially refunded"}[self.value]


# Every allowed move of an attempt, in one place (tested in tests/payments/test_attempt_states.py).
# Only what Stripe says moves an attempt out of PENDING or UNKNOWN. A success is never ignored:
# Stripe's word that money was taken wins over a failure or a cancellation we had recorded
# (the order is then fulfilled, or the money given back if the order was paid meanwhile).
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.UNKNOWN, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING,
                                      PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED}),
    PaymentStatus.UNKNOWN: frozenset({PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED,
                                      PaymentStatus.FAILED, PaymentStatus.CANCELED}),
    PaymentStatus.REQUIRES_ACTION: frozenset({PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED, PaymentStatus.FAILED,
                                              PaymentStatus.CANCELED}),
    PaymentStatus.PROCESSING: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED}),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}),
    PaymentStatus.FAILED: frozenset({PaymentStatus.SUCCEEDED}),
    PaymentStatus.CANCELED: frozenset({PaymentStatus.SUCCEEDED}),
    PaymentStatus.REFUNDED: frozenset(),
}

# Not settled yet: the order is held for this attempt (at most one per order, by a unique index).
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.UNKNOWN, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING)
# Money was taken (some of it may have been given back since).
PAID_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
_IN_FLIGHT_SQL = "status IN ('pending', 'unknown', 'requires_action', 'processing')"


class IllegalTransition(Exception):
    """A move the transition table does not allow."""


def can_move(old: PaymentStatus, new: PaymentStatus) -> bool:
    """Whether an attempt may go from `old` to `new` (PAYMENT_TRANSITIONS)."""
    return new in PAYMENT_TRANSITIONS[old]


class PaymentMethod(str, enum.Enum):
    CARD = "card"  # through Stripe
    OFFLINE = "offline"  # a cheque or bank transfer recorded by staff


class Order(TimestampMixin, db.Model):
    """Something a member or a corporate contact buys: lines, a total, and its fulfilment."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[OrderPurpose] = mapped_column(_enum(OrderPurpose), nullable=False)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.OPEN, nullable=False)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    purchaser_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    membership_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("membership_types.id"))
    # The home chapter when the order was made: its share is fixed here, whatever moves later.
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    total_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    association_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    chapter_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    seats: Mapped[int | None] = mapped_column(sa.Integer)  # corporate orders
    # The period the order pays for (start decided at fulfilment for a join: the payment date).
    covers_from: Mapped[date | None] = mapped_column(sa.Date)
    covers_until: Mapped[date | None] = mapped_column(sa.Date)
    description: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    # Set once, by a conditional UPDATE, by whichever of the browser or the webhook sees success first.
    fulfilled_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # A type change: the term it upgraded and the type that term had, so that voiding the upgrade
    # gives back exactly the term under it.
    upgraded_term_id: Mapped[int | None] = mapped_column(sa.ForeignKey("membership_terms.id", use_alter=True))
    previous_membership_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("membership_types.id"))

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan")
    payments: Mapped[list[Payment]] = relationship(back_populates="order", order_by="Payment.id")
    member: Mapped[Member | None] = relationship()
    organization: Mapped[Organization | None] = relationship()
    purchaser: Mapped[User | None] = relationship()
    membership_type: Mapped[MembershipType | None] = relationship(foreign_keys=[membership_type_id])
    previous_membership_type: Mapped[MembershipType | None] = relationship(foreign_keys=[previous_membership_type_id])
    upgraded_term: Mapped[MembershipTerm | None] = relationship(foreign_keys=[upgraded_term_id])
    chapter: Mapped[Chapter | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("total_cents >= 0", name="total_not_negative"),
        sa.CheckConstraint("association_share_cents + chapter_share_cents = total_cents", name="shares_add_up"),
        # One open order per member and purpose: a double-clicked "Renew" reuses the order
        # instead of making a second one that could also be paid.
        sa.Index("uq_orders_one_open_per_member", "member_id", "purpose", unique=True,
                 sqlite_where=sa.text("status = 'open' AND member_id IS NOT NULL"),
                 postgresql_where=sa.text("status = 'open' AND member_id IS NOT NULL")),
    )

    @property
    def reference(self) -> str:
        """The order number people quote: ORD-000123."""
        return f"ORD-{self.id:06d}"

    @property
    def quote(self) -> str:
        """A fingerprint of what the member is shown (price, currency, lines, period): the pay request
        carries it, and a charge is refused when the order changed since (another tab, a new price)."""
        import hashlib

        parts = [str(self.total_cents), self.currency, str(self.membership_type_id), str(self.covers_from),
                 str(self.covers_until), self.description] + [f"{line.description}|{line.amount_cents}" for line in self.lines]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


class OrderLine(db.Model):
    """One priced line of an order (a membership, seats, a proration)."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    description: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)
    unit_price_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    amount_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    chapter_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)

    order: Mapped[Order] = relationship(back_populates="lines")


class Payment(TimestampMixin, db.Model):
    """One attempt to pay an order through Stripe (a PaymentIntent), with its outcome."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus), default=PaymentStatus.PENDING, nullable=False)
    amount_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    refunded_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    # The split is copied from the order when the payment succeeds and never changes after.
    association_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    chapter_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255))
    stripe_payment_method_id: Mapped[str | None] = mapped_column(sa.String(255))
    card_brand: Mapped[str | None] = mapped_column(sa.String(30))  # for receipts: brand and last 4 only
    card_last4: Mapped[str | None] = mapped_column(sa.String(4))
    off_session: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    failure_message: Mapped[str | None] = mapped_column(sa.String(500))
    succeeded_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # Stripe's date for the money (the charge's `created`): the ledger is dated on it.
    charged_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    raw: Mapped[str | None] = mapped_column(sa.Text)  # the last PaymentIntent as Stripe sent it (audit)
    # Random per attempt and stored with it: unique across installations (a restored copy of the
    # database or a demo reset against the same Stripe account never reuses one).
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True, default=lambda: f"chapter-pay-{uuid.uuid4().hex}")
    method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod), default=PaymentMethod.CARD, nullable=False)
    offline_reference: Mapped[str | None] = mapped_column(sa.String(100))  # cheque number, bank reference
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    order: Mapped[Order] = relationship(back_populates="payments")
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")
    disputes: Mapped[list[Dispute]] = relationship(back_populates="payment", order_by="Dispute.created")

    __table_args__ = (
        # At most one payment in flight per order: two submissions in parallel cannot both charge.
        sa.Index("uq_payments_one_in_flight_per_order", "order_id", unique=True,
                 sqlite_where=sa.text(_IN_FLIGHT_SQL), postgresql_where=sa.text(_IN_FLIGHT_SQL)),
    )

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refunded_cents if self.status in (
            PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED) else 0

    @property
    def net_cents(self) -> int:
        """What the payer has paid after refunds."""
        return self.amount_cents - self.refunded_cents if self.status in PAID_STATUSES else 0

    @property
    def open_dispute(self) -> Dispute | None:
        return next((d for d in self.disputes if d.is_open), None)

    @property
    def status_label(self) -> str:
        return "Disputed" if self.open_dispute is not None else self.status.label


class TermAction(str, enum.Enum):
    """What a dues refund does to the term it paid for."""

    KEEP = "keep"
    SHORTEN = "shorten"
    VOID = "void"


class Refund(db.Model):
    """Money given back on a payment, with the reason and what happened to the term."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    association_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    chapter_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    term_action: Mapped[TermAction] = mapped_column(_enum(TermAction), default=TermAction.KEEP, nullable=False)
    new_term_end: Mapped[date | None] = mapped_column(sa.Date)
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    # Stripe's date for the money (the refund's `created`): the ledger is dated on it.
    refunded_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # Made in Stripe's dashboard (found by the sync or charge.refunded), not here.
    from_dashboard: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    # A dashboard refund of dues: staff decide what happens to the term (keep, shorten, void).
    term_decision_needed: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    raw: Mapped[str | None] = mapped_column(sa.Text)

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    actor: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)


class Dispute(db.Model):
    """A chargeback: the card holder's bank took the money back until the dispute is decided."""

    __tablename__ = "disputes"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # dp_...
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    amount_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    reason: Mapped[str | None] = mapped_column(sa.String(100))
    # warning_needs_response, needs_response, under_review, won, lost, ...
    status: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    evidence_due_by: Mapped[datetime | None] = mapped_column(sa.DateTime)
    created: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    raw: Mapped[str | None] = mapped_column(sa.Text)

    payment: Mapped[Payment | None] = relationship(back_populates="disputes")

    CLOSED_STATUSES = ("won", "lost", "warning_closed", "charge_refunded")

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES


class StripeEvent(db.Model):
    """Every webhook event, stored by Stripe's id: a repeat finds its row and changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    processed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    outcome: Mapped[str | None] = mapped_column(sa.String(300))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    payload: Mapped[str] = mapped_column(sa.Text, nullable=False)


class RenewalAttempt(db.Model):
    """An off-session auto-renewal charge for the term ending on `term_ends_on`; at most 3 per term."""

    __tablename__ = "renewal_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    term_ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    attempt_number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))
    attempted_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    succeeded: Mapped[bool | None] = mapped_column(sa.Boolean)  # None: in flight
    failure_message: Mapped[str | None] = mapped_column(sa.String(500))

    __table_args__ = (sa.UniqueConstraint("member_id", "term_ends_on", "attempt_number", name="uq_renewal_attempts_once"),)


class RenewalReminder(db.Model):
    """A reminder e-mail sent for one term; the unique key makes a second run send nothing."""

    __tablename__ = "renewal_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    term_ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # 60_days, 30_days, 7_days, ended, grace_ended
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    __table_args__ = (sa.UniqueConstraint("member_id", "term_ends_on", "kind", name="uq_renewal_reminders_once"),)
