"""E-mails about money: receipts, refunds, a duplicate payment given back.

Sent through chapter.core.mail.send_mail, which writes an outbox row in the current transaction: the
worker delivers it and retries a failed delivery, so a mail never undoes a money movement made at Stripe."""
from __future__ import annotations

from chapter.core.links import public_url
from chapter.core.mail import send_mail
from chapter.payments import fulfilment
from chapter.payments.models import Payment, Refund


def payer_email(payment: Payment) -> str | None:
    """Where the receipt goes: the member, else the organization's billing address or contact."""
    order = payment.order
    if order.member is not None and order.member.email:
        return order.member.email
    if order.organization is not None:
        return order.organization.billing_email or (order.organization.contact_user.email if order.organization.contact_user else None)
    return order.purchaser.email if order.purchaser else None


def receipt_link(payment: Payment) -> str:
    """The printable receipt's address, always on PUBLIC_BASE_URL (never the request's Host header)."""
    return public_url("payments.receipt", payment_id=payment.id)


def _send(to: str | None, subject: str, template: str, **context) -> None:
    if not to:
        return
    send_mail(to, subject, template, **context)  # an outbox row of the caller's transaction: the worker delivers it


def send_receipt(payment: Payment) -> None:
    """The receipt e-mail for a successful payment, with a link to the printable receipt."""
    order = payment.order
    _send(payer_email(payment), f"Receipt for {order.reference}", "receipt", payment=payment, order=order,
          details=fulfilment.receipt_details(order), is_membership=fulfilment.is_membership(order),
          link=receipt_link(payment))


def send_refund_notice(refund: Refund) -> None:
    """Tell the payer money was given back: how much, why, and what they have paid net."""
    payment = refund.payment
    _send(payer_email(payment), f"Refund on {payment.order.reference}", "refund", payment=payment, order=payment.order,
          refund=refund, link=receipt_link(payment))


def send_duplicate_refunded(payment: Payment, refund: Refund) -> None:
    """A second charge for an order already paid was refunded at once: say so, so nobody pays a third time."""
    _send(payer_email(payment), f"Second payment for {payment.order.reference} refunded", "refund", payment=payment,
          order=payment.order, refund=refund, duplicate=True, link=receipt_link(payment))
