"""The ledger (immutable entries in cents), what the Stripe sync brings back, closed months."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from chapter.core.models import utcnow
from chapter.extensions import db


def _enum(enum_class, length: int = 30):
    return sa.Enum(enum_class, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class LedgerKind(str, enum.Enum):
    """What a ledger entry records. Amounts are signed from the association's point of view."""

    CHARGE = "charge"  # + money in through Stripe
    REFUND = "refund"  # - money given back
    STRIPE_FEE = "stripe_fee"  # - Stripe's fee on a balance transaction
    PAYOUT = "payout"  # - money moved from Stripe to the bank
    CHAPTER_SHARE = "chapter_share"  # + owed to a chapter (negative when a refund takes it back)
    REMITTANCE = "remittance"  # + paid to a chapter (settles CHAPTER_SHARE)
    OFFLINE_PAYMENT = "offline_payment"  # + a check or bank transfer recorded by a treasurer
    DISPUTE = "dispute"  # - withdrawn by a chargeback (+ when a won dispute reverses it)

    @property
    def label(self) -> str:
        return {"charge": "Charge", "refund": "Refund", "stripe_fee": "Stripe fee", "payout": "Payout",
                "chapter_share": "Chapter share owed", "remittance": "Remittance to chapter",
                "offline_payment": "Offline payment", "dispute": "Dispute"}[self.value]


class LedgerEntry(db.Model):
    """One money movement. Never updated or deleted: a correction is a new entry pointing at this one."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[LedgerKind] = mapped_column(_enum(LedgerKind), nullable=False)
    booked_on: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    # Stripe's date for the money (a balance transaction's `created`); differs from booked_on when
    # that month was closed and the entry landed in the first open month.
    occurred_on: Mapped[date | None] = mapped_column(sa.Date)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id"), index=True)
    stripe_payout_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    stripe_balance_transaction_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_entries.id"))
    reference: Mapped[str | None] = mapped_column(sa.String(100))  # a check number, a bank reference
    description: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    __table_args__ = (sa.Index("ix_ledger_entries_kind_booked_on", "kind", "booked_on"),)


class MatchStatus(str, enum.Enum):
    """How a Stripe balance transaction compares with our records."""

    MATCHED = "matched"
    UNKNOWN_CHARGE = "unknown_charge"  # a charge at Stripe with no payment here (a lost webhook)
    MISMATCH = "mismatch"  # amount or currency differs from our payment or refund
    DASHBOARD_REFUND = "dashboard_refund"  # a refund made in Stripe's dashboard, now recorded here
    RECOVERED = "recovered"  # an unknown charge whose payment was recovered here
    DISPUTE = "dispute"  # money withdrawn (or reinstated) by a chargeback
    PAYOUT_FAILURE = "payout_failure"  # a payout the bank returned
    OTHER = "other"  # payouts, adjustments: nothing of ours to match

    @property
    def is_exception(self) -> bool:
        return self in (MatchStatus.UNKNOWN_CHARGE, MatchStatus.MISMATCH, MatchStatus.DASHBOARD_REFUND,
                        MatchStatus.DISPUTE, MatchStatus.PAYOUT_FAILURE)


class StripeBalanceTransaction(db.Model):
    """A balance transaction as the sync found it, with what it was matched to."""

    __tablename__ = "stripe_balance_transactions"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # txn_...
    type: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    source_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)  # ch_..., re_..., po_...
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    fee_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0, nullable=False)
    net_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    created: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    payout_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id"), index=True)
    status: Mapped[MatchStatus] = mapped_column(_enum(MatchStatus), nullable=False, index=True)
    note: Mapped[str | None] = mapped_column(sa.String(300))
    synced_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)


class StripePayout(db.Model):
    """A payout from Stripe to the bank, re-read until it is final (paid, failed or canceled)."""

    FINAL_STATUSES = ("paid", "failed", "canceled")

    __tablename__ = "stripe_payouts"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # po_...
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(30), nullable=False)  # pending, in_transit, paid, failed, canceled
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    failure_message: Mapped[str | None] = mapped_column(sa.String(300))
    arrival_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    created: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    synced_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)


class SyncCursor(db.Model):
    """Where the last Stripe sync stopped, per stream (balance_transactions, payouts, events)."""

    __tablename__ = "stripe_sync_cursors"

    stream: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    last_id: Mapped[str | None] = mapped_column(sa.String(255))
    synced_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)


class ClosedPeriod(db.Model):
    """A closed month (its first day): no ledger entry dated in it can be added."""

    __tablename__ = "closed_periods"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
