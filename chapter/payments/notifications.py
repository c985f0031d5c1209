"""E-mails about money: receipts and failed auto-renewals. Sent after the transaction commits."""
from __future__ import annotations



from chapter.core.mail import send_mail
from chapter.core.links import public_url
from chapter.payments.models import Payment


def payer_email(payment: Payment) -> str | None:
    """Where the receipt goes: the member, else the organization's billing address or contact."""
    order = payment.order
    if order.member is not None and order.member.email:
        return order.member.email
    if order.organization is not None:
        return order.organization.billing_email or (order.organization.contact_user.email if order.organization.contact_user else None)
    return order.purchaser.email if order.purchaser else None


def send_receipt(payment: Payment) -> None:
    """The receipt e-mail for a successful payment, with a link to the printable receipt."""
    to = payer_email(payment)
    if to:
        send_mail(to, f"Receipt for {payment.order.reference}", "receipt", payment=payment, order=payment.order,
                  link=public_url("payments.receipt", payment_id=payment.id))
