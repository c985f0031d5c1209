"""Stripe webhooks: store each event by id (a repeat changes nothing), then apply it.

The event row is inserted with INSERT ... ON CONFLICT DO NOTHING inside the request's own transaction
(no savepoint: pysqlite commits a savepoint released outside a transaction, which used to commit the
row before the event was applied) and locked, so two deliveries of one event queue up and the second
finds it processed. An event stored but not processed (a delivery that died) is applied by the next.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.payments import gateway
from chapter.payments.attempts import _take_sqlite_write_lock, apply_intent_result, payment_by_intent
from chapter.payments.models import Dispute, Payment, StripeEvent

log = logging.getLogger(__name__)

INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
                 "payment_intent.requires_action", "payment_intent.canceled"}
DISPUTE_EVENTS = {"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
                  "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"}
PAYOUT_EVENTS = {"payout.paid", "payout.failed", "payout.updated", "payout.canceled", "payout.created"}
HANDLED_EVENTS = INTENT_EVENTS | DISPUTE_EVENTS | PAYOUT_EVENTS | {"charge.refunded", "charge.refund.updated"}


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    duplicate: bool
    outcome: str
    fulfilled_payment_id: int | None = None


def _store(event_id: str, event_type: str, payload: str) -> StripeEvent | None:
    """Insert the event row unless it exists, then read it under a lock (None: vanished)."""
    _take_sqlite_write_lock()
    dialect = db.session.connection().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StripeEvent).values(
        id=event_id, type=event_type, payload=payload, received_at=utcnow())
    db.session.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
    return db.session.execute(sa.select(StripeEvent).where(StripeEvent.id == event_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one_or_none()


def receive_webhook(event: dict) -> WebhookOutcome:
    """Store the event by id (a repeat changes nothing), then apply it to what it is about."""
    event_id, event_type = event.get("id"), event.get("type", "")
    if not event_id or not isinstance(event_id, str):
        raise DomainError("event without id")
    stored = _store(event_id, str(event_type)[:100], json.dumps(event, default=str))
    if stored is None or stored.processed_at is not None:
        return WebhookOutcome(event_id, True, "duplicate")
    data = (event.get("data") or {}).get("object") or {}
    fulfilled_id = None
    if event_type in INTENT_EVENTS:
        stored.outcome, fulfilled_id, stored.payment_id = _apply_intent_event(event_type, data)
    elif event_type in ("charge.refunded", "charge.refund.updated"):
        stored.outcome, stored.payment_id = _apply_refund_event(event_type, data)
    elif event_type in DISPUTE_EVENTS:
        stored.outcome, stored.payment_id = apply_dispute(data)
    elif event_type in PAYOUT_EVENTS:
        from chapter.treasury import sync  # payouts are the treasury's

        stored.outcome = sync.apply_payout(data)
    else:
        stored.outcome = "ignored"
    stored.outcome = (stored.outcome or "")[:300]
    stored.processed_at = utcnow()
    db.session.flush()
    return WebhookOutcome(event_id, False, stored.outcome, fulfilled_id)


def _payment_for_intent(intent: dict) -> Payment | None:
    payment = payment_by_intent(intent["id"]) if intent.get("id") else None
    if payment is None:
        # The webhook can beat our own write of the intent id: the metadata names the payment.
        payment_id = (intent.get("metadata") or {}).get("payment_id")
        if payment_id and str(payment_id).isdigit():
            payment = db.session.get(Payment, int(payment_id))
            if payment is not None and payment.stripe_payment_intent_id not in (None, intent.get("id")):
                return None
    return payment


def _apply_intent_event(event_type: str, intent: dict) -> tuple[str, int | None, int | None]:
    payment = _payment_for_intent(intent)
    if payment is None:
        return "unknown payment", None, None
    if intent.get("amount") not in (None, payment.amount_cents) or \
            (intent.get("currency") or payment.currency).upper() != payment.currency.upper():
        return (f"amount mismatch: event {intent.get('amount')} {intent.get('currency')}, "
                f"payment {payment.amount_cents} {payment.currency}"), None, payment.id
    result = gateway.payment_result_from_event(intent)
    if event_type == "payment_intent.payment_failed":
        result = gateway.IntentResult(id=result.id, status="failed", failure_code=result.failure_code,
                                      failure_message=result.failure_message, raw=result.raw)
    elif event_type == "payment_intent.canceled":
        result = gateway.IntentResult(id=result.id, status="canceled", failure_code="canceled",
                                      failure_message=result.failure_message, raw=result.raw)
    fulfilled = apply_intent_result(payment, result)
    return (f"payment {payment.id}: {payment.status.value}" + (", fulfilled" if fulfilled else ""),
            payment.id if fulfilled else None, payment.id)


def _payment_for_charge(charge_id: str | None, intent_id: str | None) -> Payment | None:
    payment = payment_by_intent(intent_id) if intent_id else None
    if payment is None and charge_id:
        payment = db.session.scalar(sa.select(Payment).where(Payment.stripe_charge_id == charge_id))
    return payment


def _id(value) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


def _apply_refund_event(event_type: str, data: dict) -> tuple[str, int | None]:
    """charge.refunded: each refund on the charge that we have not recorded gets the same effects as ours."""
    from chapter.payments import refunds

    if event_type == "charge.refund.updated":  # data is a refund
        charge_id, intent_id, items = _id(data.get("charge")), _id(data.get("payment_intent")), [data]
    else:
        charge_id, intent_id = data.get("id"), _id(data.get("payment_intent"))
        items = ((data.get("refunds") or {}).get("data") or []) if isinstance(data.get("refunds"), dict) else []
    payment = _payment_for_charge(charge_id, intent_id)
    if payment is None:
        return "unknown payment", None
    recorded = 0
    for item in items:
        if not isinstance(item, dict) or not item.get("id") or item.get("status") in ("failed", "canceled"):
            continue
        if refunds.record_stripe_refund(payment, stripe_refund_id=item["id"], amount_cents=int(item.get("amount") or 0),
                                        created=item.get("created"), metadata=item.get("metadata") or {}):
            recorded += 1
    return f"payment {payment.id}: {recorded} refund(s) recorded from Stripe", payment.id


def apply_dispute(data: dict) -> tuple[str, int | None]:
    """Record or update a dispute; book its balance transactions (withdrawal, fee, reversal) once each."""
    from chapter.treasury import sync

    dispute_id = data.get("id")
    if not dispute_id:
        return "dispute without id", None
    payment = _payment_for_charge(_id(data.get("charge")), _id(data.get("payment_intent")))
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        dispute = Dispute(id=dispute_id, amount_cents=int(data.get("amount") or 0),
                          currency=(data.get("currency") or (payment.currency if payment else "USD")).upper(),
                          status=data.get("status") or "needs_response",
                          created=sync.stripe_time(data.get("created")) or utcnow())
        db.session.add(dispute)
    dispute.payment_id = payment.id if payment else dispute.payment_id
    dispute.stripe_charge_id = _id(data.get("charge")) or dispute.stripe_charge_id
    dispute.status = data.get("status") or dispute.status
    dispute.reason = (data.get("reason") or dispute.reason or "")[:100] or None
    due = (data.get("evidence_details") or {}).get("due_by") if isinstance(data.get("evidence_details"), dict) else None
    dispute.evidence_due_by = sync.stripe_time(due) or dispute.evidence_due_by
    if not dispute.is_open and dispute.closed_at is None:
        dispute.closed_at = utcnow()
    dispute.raw = json.dumps(data, default=str)[:20000]
    db.session.flush()
    for transaction in data.get("balance_transactions") or []:
        if isinstance(transaction, dict):
            sync.book_dispute_transaction(transaction, dispute)
    return f"dispute {dispute_id}: {dispute.status}", payment.id if payment else None
