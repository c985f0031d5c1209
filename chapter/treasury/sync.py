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
from chapter.core.money import format_money
from chapter.extensions import db
from chapter.payments import gateway
from chapter.payments.models import PAID_STATUSES, Dispute, Order, Payment, PaymentStatus, Refund
from chapter.treasury import services as ledger
from chapter.treasury.models import (
    ClosedPeriod, LedgerEntry, LedgerKind, MatchStatus, StripeBalanceTransaction, StripePayout, SyncCursor,
)

CHUNK = 2000


@dataclass
class SyncReport:
    balance_transactions: int = 0
    payouts: int = 0
    events: int = 0
    exceptions: int = 0
    payouts_updated: int = 0
    notes: list[str] = field(default_factory=list)


def _when(timestamp) -> datetime:
    return datetime.fromtimestamp(int(timestamp or 0), tz=timezone.utc).replace(tzinfo=None)


def stripe_time(timestamp) -> datetime | None:
    """A Stripe Unix time as naive UTC; None when absent."""
    try:
        return _when(timestamp) if timestamp else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


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
    from chapter.payments import attempts

    attempts.settle_unsettled()  # attempts whose answer was lost: before matching, so their charges match
    added, exceptions = ingest_balance_transactions(transactions, progress=progress)
    report.balance_transactions, report.exceptions = added, exceptions
    report.payouts = ingest_payouts(payouts, transactions_of=gateway.list_payout_balance_transaction_ids)
    report.payouts_updated = refresh_open_payouts()
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
            sa.select(Payment.id, Payment.stripe_charge_id, Payment.amount_cents, Payment.currency, Payment.status)
            .where(Payment.stripe_charge_id.in_(charge_ids)))} if charge_ids else {}
        refunds = {r.stripe_refund_id: r for r in db.session.execute(
            sa.select(Refund.id, Refund.stripe_refund_id, Refund.amount_cents, Refund.payment_id, Payment.currency)
            .join(Payment).where(Refund.stripe_refund_id.in_(refund_ids)))} if refund_ids else {}
        rows, fees = [], []
        for item in fresh:
            row = _match(item, payments, refunds)
            rows.append(row)
            exceptions += row["status"].is_exception
            if row.pop("_booked", False):
                continue  # a dispute's movement: booked with its fee by book_dispute_transaction
            if row["fee_cents"]:
                fees.append(dict(kind=LedgerKind.STRIPE_FEE, booked_on=booking_day(row["created"].date()),
                                 occurred_on=row["created"].date(),
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
        if payment.status not in PAID_STATUSES:
            # Stripe took the money but our attempt is not paid: "matched" only when it is.
            row.update(status=MatchStatus.UNKNOWN_CHARGE,
                       note=f"Stripe charged {format_money(amount, currency)}; our payment {payment.id} is {payment.status.value}")
        elif payment.amount_cents != amount or payment.currency.upper() != currency:
            row.update(status=MatchStatus.MISMATCH,
                       note=f"Stripe charged {format_money(amount, currency)}; our payment is {format_money(payment.amount_cents, payment.currency)}")
        else:
            row["status"] = MatchStatus.MATCHED
    elif kind == "refund":
        refund = refunds.get(source)
        if refund is None:
            return _match_unknown_refund(row)
        row.update(refund_id=refund.id, payment_id=refund.payment_id)
        if refund.amount_cents != -amount or refund.currency.upper() != currency:
            row.update(status=MatchStatus.MISMATCH,
                       note=f"Stripe refunded {format_money(-amount, currency)}; our refund is {format_money(refund.amount_cents, refund.currency)}")
        else:
            row["status"] = MatchStatus.MATCHED
    elif kind == "adjustment" and str(source or "").startswith("dp_") or kind in ("dispute", "dispute_reversal"):
        dispute = db.session.get(Dispute, source) if source else None
        row.update(status=MatchStatus.DISPUTE, payment_id=dispute.payment_id if dispute else None,
                   note=f"Dispute {source}: {format_money(amount, currency)}" + ("" if dispute else " (no dispute recorded yet)"))
        book_dispute_transaction(item, dispute)
        row["_booked"] = True
    elif kind == "payout_failure":
        row.update(status=MatchStatus.PAYOUT_FAILURE, note=f"Payout {source} returned by the bank")
    return row


def _match_unknown_charge(row: dict) -> dict:
    """A charge we have not recorded: known by its PaymentIntent (charge id not yet stored), or lost."""
    info = gateway.retrieve_charge(row["source_id"])
    row["payment_intent_id"] = info.payment_intent_id
    payment = db.session.scalar(sa.select(Payment).where(Payment.stripe_payment_intent_id == info.payment_intent_id)) \
        if info.payment_intent_id else None
    if payment is not None and payment.status in PAID_STATUSES and payment.amount_cents == row["amount_cents"] \
            and payment.currency.upper() == row["currency"]:
        payment.stripe_charge_id = payment.stripe_charge_id or info.id
        row.update(payment_id=payment.id, status=MatchStatus.MATCHED)
        return row
    if payment is not None and payment.status in PAID_STATUSES:
        row.update(status=MatchStatus.MISMATCH, payment_id=payment.id, note="Amount or currency differs from our payment")
        return row
    row.update(status=MatchStatus.UNKNOWN_CHARGE, payment_id=payment.id if payment else None,
               note=f"No paid payment here (order {info.metadata.get('order_id') or '?'}, "
                    f"payment {info.metadata.get('payment_id') or '?'})")
    return row


def _match_unknown_refund(row: dict) -> dict:
    """A refund made in Stripe's dashboard: the same effects as one made here; dues terms flagged for staff."""
    from chapter.payments import refunds

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
    refund = refunds.record_stripe_refund(payment, stripe_refund_id=info.id, amount_cents=info.amount_cents,
                                          created=info.created or int(row["created"].timestamp()), metadata=info.metadata)
    if refund is None:  # recorded meanwhile (the charge.refunded webhook)
        refund_id = db.session.scalar(sa.select(Refund.id).where(Refund.stripe_refund_id == info.id))
        row.update(status=MatchStatus.MATCHED if refund_id else MatchStatus.MISMATCH, payment_id=payment.id, refund_id=refund_id)
        return row
    row.update(status=MatchStatus.DASHBOARD_REFUND if refund.from_dashboard else MatchStatus.MATCHED,
               payment_id=payment.id, refund_id=refund.id,
               note=f"Refunded in Stripe's dashboard: decide what happens to the term paid by {payment.order.reference}"
               if refund.term_decision_needed else f"Refunded in Stripe's dashboard ({payment.order.reference})")
    return row


def book_dispute_transaction(item: dict, dispute: Dispute | None) -> None:
    """A dispute's balance transaction (money withdrawn, or reinstated if won) and its fee, booked once
    each on Stripe's date; a closed month moves them to the first open one."""
    transaction_id = item.get("id")
    if not transaction_id or db.session.scalar(sa.select(LedgerEntry.id).where(
            LedgerEntry.stripe_balance_transaction_id == transaction_id)) is not None:
        return
    currency = (item.get("currency") or (dispute.currency if dispute else "USD")).upper()
    day = _when(item.get("created")).date() if item.get("created") else utcnow().date()
    payment_id = dispute.payment_id if dispute else None
    chapter_id = db.session.scalar(sa.select(Payment.chapter_id).where(Payment.id == payment_id)) if payment_id else None
    amount, fee = int(item.get("amount") or 0), int(item.get("fee") or 0)
    label = dispute.id if dispute else (item.get("source") or transaction_id)
    if amount:
        ledger._add_late_safe(LedgerKind.DISPUTE, booked_on=day, amount_cents=amount, currency=currency,
                              payment_id=payment_id, chapter_id=chapter_id, stripe_balance_transaction_id=transaction_id,
                              description=f"{'Dispute reversed (won)' if amount > 0 else 'Dispute: money withdrawn'} {label}")
    if fee:
        ledger._add_late_safe(LedgerKind.STRIPE_FEE, booked_on=day, amount_cents=-fee, currency=currency,
                              payment_id=payment_id, stripe_balance_transaction_id=transaction_id,
                              description=f"Dispute fee {'returned ' if fee < 0 else ''}{label}")


def apply_payout(item: dict) -> str:
    """Create or update a payout from Stripe's object; a failed payout reverses its ledger entry (once)."""
    payout_id = item.get("id")
    if not payout_id or item.get("amount") is None:
        return "payout without id or amount"
    payout = db.session.get(StripePayout, payout_id)
    created = _when(item.get("created"))
    if payout is None:
        payout = StripePayout(id=payout_id, amount_cents=int(item["amount"]), currency=(item.get("currency") or "usd").upper(),
                              status=item.get("status") or "pending",
                              arrival_date=_when(item.get("arrival_date") or item.get("created")).date(), created=created)
        db.session.add(payout)
        ledger._add_late_safe(LedgerKind.PAYOUT, amount_cents=-payout.amount_cents, currency=payout.currency,
                              booked_on=created.date(), stripe_payout_id=payout.id,
                              stripe_balance_transaction_id=item.get("balance_transaction") if isinstance(item.get("balance_transaction"), str) else None,
                              description=f"Payout {payout.id} to the bank")
    previous = payout.status
    payout.status = item.get("status") or payout.status
    payout.failure_code = item.get("failure_code") or payout.failure_code
    payout.failure_message = (item.get("failure_message") or payout.failure_message or "")[:300] or None
    if item.get("arrival_date"):
        payout.arrival_date = _when(item["arrival_date"]).date()
    payout.synced_at = utcnow()
    if payout.status in ("failed", "canceled") and previous not in ("failed", "canceled"):
        original = db.session.scalar(sa.select(LedgerEntry).where(
            LedgerEntry.stripe_payout_id == payout.id, LedgerEntry.kind == LedgerKind.PAYOUT, LedgerEntry.corrects_id.is_(None)))
        failed_on = _when(item.get("failure_balance_transaction_created") or item.get("arrival_date") or item.get("created")).date()
        ledger._add_late_safe(LedgerKind.PAYOUT, amount_cents=payout.amount_cents, currency=payout.currency,
                              booked_on=max(failed_on, created.date()), stripe_payout_id=payout.id,
                              corrects_id=original.id if original else None,
                              stripe_balance_transaction_id=item.get("failure_balance_transaction") if isinstance(item.get("failure_balance_transaction"), str) else None,
                              description=f"Payout {payout.id} {payout.status}: the money is back in the Stripe balance"
                                          + (f" ({payout.failure_message})" if payout.failure_message else ""))
    db.session.flush()
    return f"payout {payout.id}: {payout.status}"


def refresh_open_payouts() -> int:
    """Re-read at Stripe every payout that is not final yet (pending, in transit); the number that changed."""
    changed = 0
    for payout_id, status in db.session.execute(sa.select(StripePayout.id, StripePayout.status).where(
            StripePayout.status.not_in(StripePayout.FINAL_STATUSES))).all():
        item = gateway.retrieve_payout(payout_id)
        if (item.get("status") or status) != status:
            apply_payout(item)
            changed += 1
    return changed


def ingest_payouts(items: Iterable[dict], *, transactions_of: Callable[[str], list[str]]) -> int:
    """Store new payouts (and new states of known ones), book them, and link the balance transactions each paid out."""
    added = 0
    for item in items:
        known = db.session.get(StripePayout, item["id"]) is not None
        apply_payout(item)
        if known:
            continue
        ids = [i for i in transactions_of(item["id"]) if i != item.get("balance_transaction")]
        if ids:
            db.session.execute(sa.update(StripeBalanceTransaction).where(StripeBalanceTransaction.id.in_(ids))
                               .values(payout_id=item["id"]).execution_options(synchronize_session=False))
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
        from sqlalchemy.exc import IntegrityError

        try:
            with db.session.begin_nested():
                payment = Payment(order=order, amount_cents=info.amount_cents, currency=info.currency,
                                  chapter_id=order.chapter_id, stripe_payment_intent_id=info.payment_intent_id)
                db.session.add(payment)
        except IntegrityError:
            _back_to_exceptions(row, f"{order.reference} has another payment in progress: settle it first")
            return None
    result = gateway.retrieve_payment_intent(info.payment_intent_id)
    if result.status != "succeeded":
        _back_to_exceptions(row, f"Stripe says this payment is {result.status}: nothing to recover")
        return payment
    payments.apply_intent_result(payment, result)  # Stripe's success wins over what we had recorded
    payment.stripe_charge_id = payment.stripe_charge_id or info.id
    row.payment_id = payment.id
    db.session.refresh(payment.order)
    if payment.status not in PAID_STATUSES:
        _back_to_exceptions(row, f"Payment {payment.id} is {payment.status.value} after recovery: check it by hand")
    elif payment.amount_cents != row.amount_cents or payment.currency.upper() != row.currency:
        row.status = MatchStatus.MISMATCH
        row.note = f"Recovered payment {payment.id}, but Stripe's amount differs"
    elif payment.status is PaymentStatus.REFUNDED and payment.order.fulfilled_at is not None \
            and any(r.reason.startswith("Duplicate payment") for r in payment.refunds):
        row.note = f"Recovered: payment {payment.id} duplicated a paid order and was refunded at once"
    else:
        row.note = f"Recovered: payment {payment.id} of {payment.order.reference}"
    db.session.flush()
    return payment


def _back_to_exceptions(row: StripeBalanceTransaction, reason: str) -> None:
    """A recovery that did not recover: the charge stays on the exceptions list, with the reason."""
    row.status = MatchStatus.UNKNOWN_CHARGE
    row.note = reason[:300]
    db.session.flush()
