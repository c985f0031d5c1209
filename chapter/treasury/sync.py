"""The Stripe sync: pull balance transactions, payouts and events since the last cursor, match each
balance transaction to our payment or refund, and list what does not match. Idempotent: every object
is stored by its Stripe id, so a second run adds nothing."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import sqlalchemy as sa

from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.payments import gateway
from chapter.payments.models import Order, Payment, PaymentStatus, Refund, TermAction
from chapter.treasury import services as ledger
from chapter.treasury.models import (
    ClosedPeriod, LedgerEntry, LedgerKind, MatchStatus, StripeBalanceTransaction, StripePayout, SyncCursor,
)

CHUNK = 2000
PAID_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


@dataclass
class SyncReport:
    balance_transactions: int = 0
    payouts: int = 0
    events: int = 0
    exceptions: int = 0
    notes: list[str] = field(default_factory=list)


def _when(timestamp) -> datetime:
    return datetime.fromtimestamp(int(timestamp or 0), tz=timezone.utc).replace(tzinfo=None)


def _cursor(stream: str) -> SyncCursor:
    cursor = db.session.get(SyncCursor, stream)
    if cursor is None:
        cursor = SyncCursor(stream=stream)
        db.session.add(cursor)
    return cursor


def _pull(stream: str, lister: Callable) -> list[dict]:
    """New objects of one stream, oldest first; the cursor moves to the newest."""
    cursor = _cursor(stream)
    items = list(lister(cursor.last_id))
    if items:
        cursor.last_id = items[0]["id"]
    cursor.synced_at = utcnow()
    return items[::-1]


def sync_stripe(*, progress: Callable[[int], None] | None = None, on_count: Callable[[int], None] | None = None) -> SyncReport:
    """Pull and match everything new at Stripe. `on_count` hears how many balance transactions will be matched."""
    report = SyncReport()
    transactions = _pull("balance_transactions", gateway.list_balance_transactions)
    payouts = _pull("payouts", gateway.list_payouts)
    events = _pull("events", gateway.list_events)
    if on_count:
        on_count(len(transactions))
    added, exceptions = ingest_balance_transactions(transactions, progress=progress)
    report.balance_transactions, report.exceptions = added, exceptions
    report.payouts = ingest_payouts(payouts, transactions_of=gateway.list_payout_balance_transaction_ids)
    report.events = len(events)  # lost webhooks show up as unknown charges among the balance transactions
    db.session.flush()
    return report


class _BookingDays:
    """first_open_day for many entries with one query for the closed months."""

    def __init__(self):
        self.closed = set(db.session.scalars(sa.select(ClosedPeriod.month)))

    def __call__(self, day: date) -> date:
        month = ledger.month_of(day)
        if month not in self.closed:
            return day
        while month in self.closed:
            month = ledger.next_month(month)
        return month


def ingest_balance_transactions(items: Iterable[dict], *, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Store and match balance transactions (Stripe's dicts); those already stored are skipped. (added, exceptions)"""
    items = list(items)
    booking_day = _BookingDays()
    added = exceptions = 0
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK]
        ids = [item["id"] for item in chunk]
        known = set(db.session.scalars(sa.select(StripeBalanceTransaction.id).where(StripeBalanceTransaction.id.in_(ids))))
        fresh = [item for item in chunk if item["id"] not in known]
        charge_ids = [_source(item) for item in fresh if item.get("type") in ("charge", "payment")]
        refund_ids = [_source(item) for item in fresh if item.get("type") == "refund"]
        payments = {p.stripe_charge_id: p for p in db.session.execute(
            sa.select(Payment.id, Payment.stripe_charge_id, Payment.amount_cents, Payment.currency)
            .where(Payment.stripe_charge_id.in_(charge_ids)))} if charge_ids else {}
        refunds = {r.stripe_refund_id: r for r in db.session.execute(
            sa.select(Refund.id, Refund.stripe_refund_id, Refund.amount_cents, Refund.payment_id, Payment.currency)
            .join(Payment).where(Refund.stripe_refund_id.in_(refund_ids)))} if refund_ids else {}
        rows, fees = [], []
        for item in fresh:
            row = _match(item, payments, refunds)
            rows.append(row)
            exceptions += row["status"].is_exception
            if row["fee_cents"]:
                fees.append(dict(kind=LedgerKind.STRIPE_FEE, booked_on=booking_day(row["created"].date()),
                                 amount_cents=-row["fee_cents"], currency=row["currency"],
                                 payment_id=row["payment_id"], refund_id=row["refund_id"],
                                 stripe_balance_transaction_id=row["id"],
                                 description=f"Stripe fee on {row['source_id'] or row['id']}", created_at=utcnow()))
        if rows:
            db.session.execute(sa.insert(StripeBalanceTransaction), rows)
        if fees:
            db.session.execute(sa.insert(LedgerEntry), fees)
        added += len(rows)
        if progress:
            progress(len(chunk))
    db.session.flush()
    return added, exceptions


def _source(item: dict) -> str | None:
    source = item.get("source")
    return source.get("id") if isinstance(source, dict) else source


def _match(item: dict, payments: dict, refunds: dict) -> dict:
    """One balance transaction as a row, matched to our payment or refund (asking Stripe only when we do not know it)."""
    source, kind = _source(item), item.get("type", "")
    amount, fee = int(item.get("amount") or 0), int(item.get("fee") or 0)
    currency = (item.get("currency") or "").upper()
    row = dict(id=item["id"], type=kind, source_id=source, payment_intent_id=None, amount_cents=amount, fee_cents=fee,
               net_cents=int(item.get("net", amount - fee)), currency=currency, created=_when(item.get("created")),
               payout_id=None, payment_id=None, refund_id=None, status=MatchStatus.OTHER, note=None, synced_at=utcnow())
    if kind in ("charge", "payment"):
        payment = payments.get(source)
        if payment is None:
            return _match_unknown_charge(row)
        row["payment_id"] = payment.id
        if payment.amount_cents != amount or payment.currency.upper() != currency:
            row.update(status=MatchStatus.MISMATCH,
                       note=f"Stripe charged {amount / 100:.2f} {currency}; our payment is {payment.amount_cents / 100:.2f} {payment.currency}")
        else:
            row["status"] = MatchStatus.MATCHED
    elif kind == "refund":
        refund = refunds.get(source)
        if refund is None:
            return _match_unknown_refund(row)
        row.update(refund_id=refund.id, payment_id=refund.payment_id)
        if refund.amount_cents != -amount or refund.currency.upper() != currency:
            row.update(status=MatchStatus.MISMATCH,
                       note=f"Stripe refunded {-amount / 100:.2f} {currency}; our refund is {refund.amount_cents / 100:.2f} {refund.currency}")
        else:
            row["status"] = MatchStatus.MATCHED
    return row


def _match_unknown_charge(row: dict) -> dict:
    """A charge we have not recorded: known by its PaymentIntent (charge id not yet stored), or lost."""
    info = gateway.retrieve_charge(row["source_id"])
    row["payment_intent_id"] = info.payment_intent_id
    payment = db.session.scalar(sa.select(Payment).where(Payment.stripe_payment_intent_id == info.payment_intent_id)) \
        if info.payment_intent_id else None
    if payment is not None and payment.status in PAID_STATUSES:
        payment.stripe_charge_id = payment.stripe_charge_id or info.id
        row["payment_id"] = payment.id
        if payment.amount_cents != row["amount_cents"] or payment.currency.upper() != row["currency"]:
            row.update(status=MatchStatus.MISMATCH, note="Amount or currency differs from our payment")
        else:
            row["status"] = MatchStatus.MATCHED
        return row
    row.update(status=MatchStatus.UNKNOWN_CHARGE, payment_id=payment.id if payment else None,
               note=f"No paid payment here (order {info.metadata.get('order_id') or '?'}, "
                    f"payment {info.metadata.get('payment_id') or '?'})")
    return row


def _match_unknown_refund(row: dict) -> dict:
    """A refund made in Stripe's dashboard: record it here and flag the term it affects for staff."""
    info = gateway.retrieve_refund(row["source_id"])
    row["payment_intent_id"] = info.payment_intent_id
    payment = None
    if info.payment_intent_id:
        payment = db.session.scalar(sa.select(Payment).where(Payment.stripe_payment_intent_id == info.payment_intent_id))
    if payment is None and info.charge_id:
        payment = db.session.scalar(sa.select(Payment).where(Payment.stripe_charge_id == info.charge_id))
    if payment is None or payment.status not in PAID_STATUSES:
        row.update(status=MatchStatus.MISMATCH, note="A refund at Stripe of a charge with no paid payment here")
        return row
    amount = min(info.amount_cents, payment.amount_cents - payment.refunded_cents)
    chapter_part = payment.chapter_share_cents * amount // payment.amount_cents if payment.amount_cents else 0
    refund = Refund(payment=payment, amount_cents=max(amount, 1), chapter_share_cents=chapter_part,
                    association_share_cents=amount - chapter_part, reason="Refunded in Stripe's dashboard",
                    term_action=TermAction.KEEP, stripe_refund_id=info.id, raw=json.dumps(info.metadata))
    db.session.add(refund)
    payment.refunded_cents += amount
    payment.status = PaymentStatus.REFUNDED if payment.refunded_cents >= payment.amount_cents else PaymentStatus.PARTIALLY_REFUNDED
    db.session.flush()
    ledger.record_refund(refund)
    row.update(status=MatchStatus.DASHBOARD_REFUND, payment_id=payment.id, refund_id=refund.id,
               note=f"Refunded in Stripe's dashboard: check the term paid by {payment.order.reference}")
    return row


def ingest_payouts(items: Iterable[dict], *, transactions_of: Callable[[str], list[str]]) -> int:
    """Store new payouts, book them in the ledger, and link the balance transactions each one paid out."""
    added = 0
    for item in items:
        if db.session.get(StripePayout, item["id"]) is not None:
            continue
        created = _when(item.get("created"))
        payout = StripePayout(id=item["id"], amount_cents=int(item["amount"]), currency=item["currency"].upper(),
                              status=item.get("status") or "pending",
                              arrival_date=_when(item.get("arrival_date") or item.get("created")).date(), created=created)
        db.session.add(payout)
        ledger.add_entry(LedgerKind.PAYOUT, amount_cents=-payout.amount_cents, currency=payout.currency,
                         booked_on=ledger.first_open_day(created.date()), stripe_payout_id=payout.id,
                         stripe_balance_transaction_id=item.get("balance_transaction") if isinstance(item.get("balance_transaction"), str) else None,
                         description=f"Payout {payout.id} to the bank")
        ids = [i for i in transactions_of(payout.id) if i != item.get("balance_transaction")]
        if ids:
            db.session.execute(sa.update(StripeBalanceTransaction).where(StripeBalanceTransaction.id.in_(ids))
                               .values(payout_id=payout.id).execution_options(synchronize_session=False))
        added += 1
    db.session.flush()
    return added


# --- Recovering a lost webhook ----------------------------------------------------------------

def recover_charge(transaction_id: str, *, actor) -> Payment:
    """A Stripe charge with no paid payment here: create or find the payment and fulfil its order, exactly once."""
    from chapter.payments import services as payments

    if not actor.is_staff:
        from chapter.core.errors import NotAllowed

        raise NotAllowed("Only staff recover payments.")
    claimed = db.session.execute(
        sa.update(StripeBalanceTransaction)
        .where(StripeBalanceTransaction.id == transaction_id, StripeBalanceTransaction.status == MatchStatus.UNKNOWN_CHARGE)
        .values(status=MatchStatus.RECOVERED).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise DomainError("This charge has already been recovered, or needs no recovery.")
    row = db.session.get(StripeBalanceTransaction, transaction_id)
    db.session.refresh(row)
    info = gateway.retrieve_charge(row.source_id)
    payment = None
    payment_id = info.metadata.get("payment_id")
    if payment_id and str(payment_id).isdigit():
        payment = db.session.get(Payment, int(payment_id))
        if payment is not None and payment.stripe_payment_intent_id not in (None, info.payment_intent_id):
            payment = None
    if payment is None:
        order_id = info.metadata.get("order_id")
        order = db.session.get(Order, int(order_id)) if order_id and str(order_id).isdigit() else None
        if order is None:
            raise DomainError("Stripe does not say which order this charge paid: recover it by hand.")
        payment = Payment(order=order, amount_cents=info.amount_cents, currency=info.currency, chapter_id=order.chapter_id)
        db.session.add(payment)
        db.session.flush()
    payments.apply_intent_result(payment, gateway.retrieve_payment_intent(info.payment_intent_id))
    payment.stripe_charge_id = payment.stripe_charge_id or info.id
    row.payment_id = payment.id
    row.note = f"Recovered: payment {payment.id} of {payment.order.reference}"
    if payment.amount_cents != row.amount_cents or payment.currency.upper() != row.currency:
        row.status = MatchStatus.MISMATCH
    db.session.flush()
    return payment
