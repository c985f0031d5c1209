"""The ledger: entries written when money moves, closed months, corrections, chapter remittances.
Services flush; the caller commits."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from chapter.core import audit
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import today
from chapter.extensions import db
from chapter.treasury.models import ClosedPeriod, LedgerEntry, LedgerKind

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import Chapter
    from chapter.payments.models import Payment, Refund


class PeriodClosed(DomainError):
    """The month an entry is dated in is closed."""


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def is_closed(day: date) -> bool:
    return db.session.get(ClosedPeriod, month_of(day)) is not None


def first_open_day(day: date) -> date:
    """`day` if its month is open, else the first day of the first open month after it."""
    closed = set(db.session.scalars(sa.select(ClosedPeriod.month).where(ClosedPeriod.month >= month_of(day))))
    if month_of(day) not in closed:
        return day
    month = next_month(month_of(day))
    while month in closed:
        month = next_month(month)
    return month


def add_entry(kind: LedgerKind, *, amount_cents: int, currency: str, booked_on: date, description: str,
              actor: User | None = None, **links) -> LedgerEntry:
    """Add one entry; refused when its month is closed."""
    if is_closed(booked_on):
        raise PeriodClosed(f"{booked_on:%B %Y} is closed: no entry can be added to it.", field="booked_on")
    entry = LedgerEntry(kind=kind, amount_cents=amount_cents, currency=currency.upper(), booked_on=booked_on,
                        description=description[:300], actor_id=actor.id if actor else None, **links)
    db.session.add(entry)
    db.session.flush()
    return entry


def _add_late_safe(kind: LedgerKind, *, booked_on: date, **fields) -> LedgerEntry:
    """For movements that already happened (a payment, a refund): dated on Stripe's day for the money;
    a closed month moves them to the first open one, pointing back at the day they happened."""
    booked = first_open_day(booked_on)
    if booked != booked_on:
        fields["description"] = f"{fields['description']} (of {booked_on:%d %b %Y}, a closed month)"
    return add_entry(kind, booked_on=booked, occurred_on=booked_on, **fields)


def record_payment(payment: Payment) -> None:
    """A fulfilled payment: the charge (or the offline payment), and the share owed to its chapter."""
    moment = payment.charged_at or payment.succeeded_at
    day = moment.date() if moment else today()
    reference = payment.order.reference
    offline = payment.method.value == "offline"
    _add_late_safe(LedgerKind.OFFLINE_PAYMENT if offline else LedgerKind.CHARGE, booked_on=day,
                   amount_cents=payment.amount_cents, currency=payment.currency, chapter_id=payment.chapter_id,
                   payment_id=payment.id, reference=payment.offline_reference,
                   description=f"{'Offline payment' if offline else 'Payment'} of {reference}")
    if payment.chapter_share_cents and payment.chapter_id:
        _add_late_safe(LedgerKind.CHAPTER_SHARE, booked_on=day, amount_cents=payment.chapter_share_cents,
                       currency=payment.currency, chapter_id=payment.chapter_id, payment_id=payment.id,
                       description=f"Chapter share of {reference}")


def record_refund(refund: Refund, *, day: date | None = None) -> None:
    """A refund: money out, and the chapter's part of it no longer owed (dated on Stripe's refund date)."""
    payment = refund.payment
    moment = refund.refunded_at or refund.created_at
    day = day or (moment.date() if moment else today())
    reference = payment.order.reference
    _add_late_safe(LedgerKind.REFUND, booked_on=day, amount_cents=-refund.amount_cents, currency=payment.currency,
                   chapter_id=payment.chapter_id, payment_id=payment.id, refund_id=refund.id,
                   description=f"Refund on {reference}")
    if refund.chapter_share_cents and payment.chapter_id:
        _add_late_safe(LedgerKind.CHAPTER_SHARE, booked_on=day, amount_cents=-refund.chapter_share_cents,
                       currency=payment.currency, chapter_id=payment.chapter_id, payment_id=payment.id,
                       refund_id=refund.id, description=f"Chapter share refunded on {reference}")


def seat_share_cents(full_share_cents: int, corporate, starts_on: date) -> tuple[int, int, int]:
    """(share, days held, days in the term): a seat named mid-term owes the chapter share for the days it
    is held, prorated by day like the added seats' price (rounded down: seats × share never exceeds it)."""
    days_in_term = (corporate.ends_on - corporate.starts_on).days + 1
    days_held = max(0, (corporate.ends_on - max(starts_on, corporate.starts_on)).days + 1)
    return full_share_cents * days_held // days_in_term, days_held, days_in_term


def record_seat_share(corporate, member, *, day: date, starts_on: date | None = None) -> LedgerEntry | None:
    """A corporate seat owes the employee's home chapter the seat type's chapter share for the corporate
    term (once per corporate membership and person), prorated by day for a seat held from `starts_on`
    (default `day`) into the term; shown in that chapter's remittances."""
    from chapter.payments.models import PAID_STATUSES, Payment

    chapter = member.home_chapter
    seat_type = corporate.membership_type
    full_share = seat_type.chapter_share_cents if seat_type.chapter_share_cents is not None else (
        chapter.dues_share_cents if chapter else 0)
    if chapter is None or not full_share:
        return None
    share, days_held, days_in_term = seat_share_cents(full_share, corporate, starts_on or day)
    if share <= 0:
        return None
    key = f"seat:{corporate.id}:{member.id}"
    if db.session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.kind == LedgerKind.CHAPTER_SHARE,
                                                         LedgerEntry.reference == key)) is not None:
        return None
    payment_id = db.session.scalar(sa.select(Payment.id).where(
        Payment.order_id == corporate.order_id, Payment.status.in_(PAID_STATUSES)).order_by(Payment.id)) \
        if corporate.order_id else None
    prorated = f" ({days_held} of {days_in_term} days)" if days_held < days_in_term else ""
    return _add_late_safe(LedgerKind.CHAPTER_SHARE, booked_on=day, amount_cents=share, currency=seat_type.currency,
                          chapter_id=chapter.id, payment_id=payment_id, reference=key,
                          description=f"Chapter share of a corporate seat{prorated}: {member.full_name}, "
                                      f"{corporate.organization.name}"[:300])


def correct_entry(entry: LedgerEntry, *, amount_cents: int, reason: str, actor: User, day: date | None = None) -> LedgerEntry:
    """A correction of `entry` by `amount_cents` (signed): a new entry in the first open month, pointing at it."""
    if not actor.is_staff:
        raise NotAllowed("Only staff correct the ledger.")
    if not amount_cents:
        raise DomainError("A correction needs an amount.", field="amount_cents")
    if not reason.strip():
        raise DomainError("Say why the entry is corrected.", field="reason")
    booked_on = first_open_day(max(day or today(), entry.booked_on))
    return add_entry(entry.kind, amount_cents=amount_cents, currency=entry.currency, booked_on=booked_on,
                     description=f"Correction of entry {entry.id}: {reason.strip()}", actor=actor,
                     chapter_id=entry.chapter_id, payment_id=entry.payment_id, refund_id=entry.refund_id,
                     stripe_payout_id=entry.stripe_payout_id,
                     stripe_balance_transaction_id=entry.stripe_balance_transaction_id, corrects_id=entry.id)


def record_offline_payment(*, amount_cents: int, currency: str, booked_on: date, reference: str, description: str,
                           actor: User, chapter: Chapter | None = None) -> LedgerEntry:
    """A check or bank transfer received, recorded by a treasurer with its reference."""
    if not actor.is_staff:
        raise NotAllowed("Only staff record offline payments.")
    if amount_cents <= 0:
        raise DomainError("Enter an amount above zero.", field="amount_cents")
    if not reference.strip():
        raise DomainError("Give the check number or bank reference.", field="reference")
    return add_entry(LedgerKind.OFFLINE_PAYMENT, amount_cents=amount_cents, currency=currency, booked_on=booked_on,
                     reference=reference.strip()[:100], description=description or "Offline payment", actor=actor,
                     chapter_id=chapter.id if chapter else None)


def record_remittance(chapter: Chapter, *, amount_cents: int, booked_on: date, reference: str, actor: User) -> LedgerEntry:
    """The national treasurer pays a chapter its share."""
    if not actor.is_staff:
        raise NotAllowed("Only the national treasurer records remittances.")
    if amount_cents <= 0:
        raise DomainError("Enter an amount above zero.", field="amount_cents")
    entry = add_entry(LedgerKind.REMITTANCE, amount_cents=amount_cents, currency=chapter.currency, booked_on=booked_on,
                      reference=reference.strip()[:100] or None, chapter_id=chapter.id, actor=actor,
                      description=f"Remittance to chapter #{chapter.number}")
    audit.record("treasury.remittance", actor=actor, chapter_id=chapter.id,
                 summary=f"Remitted {amount_cents / 100:.2f} {chapter.currency} to chapter #{chapter.number}",
                 after={"amount_cents": amount_cents, "booked_on": booked_on, "reference": reference})
    return entry


def close_month(month: date, *, actor: User) -> ClosedPeriod:
    """Close a month: entries dated in it can no longer be added."""
    if not actor.is_staff:
        raise NotAllowed("Only staff close a month.")
    month = month_of(month)
    if db.session.get(ClosedPeriod, month) is not None:
        raise DomainError(f"{month:%B %Y} is already closed.", field="month")
    closed = ClosedPeriod(month=month, closed_by_id=actor.id)
    db.session.add(closed)
    audit.record("treasury.month_closed", actor=actor, summary=f"Closed {month:%B %Y}", after={"month": month})
    db.session.flush()
    return closed


def reopen_month(month: date, *, actor: User) -> None:
    """Reopen a closed month (staff only, logged)."""
    if not actor.is_staff:
        raise NotAllowed("Only staff reopen a month.")
    closed = db.session.get(ClosedPeriod, month_of(month))
    if closed is None:
        raise DomainError(f"{month:%B %Y} is not closed.", field="month")
    db.session.delete(closed)
    audit.record("treasury.month_reopened", actor=actor, summary=f"Reopened {month:%B %Y}",
                 before={"month": month_of(month)})
    db.session.flush()


def closed_months() -> list[ClosedPeriod]:
    return list(db.session.scalars(sa.select(ClosedPeriod).order_by(ClosedPeriod.month.desc())))
