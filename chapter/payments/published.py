"""What payments publish as domain events (payment.succeeded, payment.refunded): ids and plain values,
never card data (no brand, no last four digits, no Stripe objects). Documented in docs/webhooks.md."""
from __future__ import annotations

from chapter.chapters.models import Chapter
from chapter.core import domain_events
from chapter.extensions import db
from chapter.payments.models import Payment, Refund


def _order_fields(payment: Payment) -> dict:
    order = payment.order
    chapter = db.session.get(Chapter, payment.chapter_id) if payment.chapter_id else None
    member = order.member
    return {"payment_id": payment.id, "order_id": order.id, "order_reference": order.reference,
            "purpose": order.purpose.value, "member_id": order.member_id,
            "member_number": member.member_number if member is not None else None,
            "organization_id": order.organization_id, "chapter_id": payment.chapter_id,
            "chapter_number": chapter.number if chapter is not None else None, "currency": payment.currency}


def publish_payment_succeeded(payment: Payment) -> None:
    """Once per fulfilled payment (attempts.fulfil_order is the exactly-once point)."""
    domain_events.publish("payment.succeeded", {
        **_order_fields(payment), "amount_cents": payment.amount_cents, "method": payment.method.value,
        "succeeded_at": payment.succeeded_at.isoformat(timespec="seconds") + "Z"})


def publish_payment_refunded(refund: Refund) -> None:
    """Once per refund recorded (here or found at Stripe)."""
    payment = refund.payment
    domain_events.publish("payment.refunded", {
        **_order_fields(payment), "refund_id": refund.id, "amount_cents": refund.amount_cents,
        "fully_refunded": payment.refunded_cents >= payment.amount_cents,
        "refunded_at": refund.refunded_at.isoformat(timespec="seconds") + "Z"})
