"""Exam orders in the payments fulfilment registry: paying issues the Authorization to Test (ATT),
a full refund cancels it, the member price holds only while the membership is active on the day
of the charge, and the receipt names the exam, its price basis and the ATT."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from chapter.certifications.models import ExamRegistration
from chapter.certifications.services import fulfil_exam_order, quote, start_exam_purchase
from chapter.core import audit
from chapter.extensions import db
from chapter.payments import fulfilment
from chapter.payments.models import Order, OrderPurpose, Refund

# Where a member schedules the exam with the ATT (the testing provider); shown on the receipt and mail.
SCHEDULING_HELP = ("Schedule your exam with the testing provider within the validity dates, quoting the "
                   "authorization code; see Exams in your account for the provider's link.")


def registration_of(order: Order) -> ExamRegistration | None:
    return db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.order_id == order.id))


def exam_price_on(order: Order, day: date) -> int | None:
    """The fee if charged on `day`: the member price needs an active membership that day."""
    registration = registration_of(order)
    if registration is None or order.member is None:
        return None
    return quote(order.member, registration.exam, day).price_cents


def reprice_exam(order: Order, day: date) -> None:
    registration = registration_of(order)
    if registration is not None and order.member is not None:
        start_exam_purchase(order.member, registration.exam, actor=order.purchaser, day=day)


def exam_refunded(order: Order, refund: Refund, fully: bool) -> None:
    """A full refund cancels the ATT (ExamRegistration.is_refunded reads the order); logged."""
    registration = registration_of(order)
    if fully and registration is not None and registration.att_code:
        audit.record("exam.att_cancelled", actor=None, member_id=order.member_id,
                     summary=f"ATT {registration.att_code} cancelled: the fee of {order.reference} was refunded")


def exam_receipt_details(order: Order) -> list[tuple[str, str]]:
    registration = registration_of(order)
    if registration is None:
        return []
    details = [("Exam", registration.exam.name),
               ("Price", "Member price" if registration.member_price else "Non-member price")]
    if registration.att_code:
        details += [("Authorization to test", registration.att_code),
                    ("Valid", f"{registration.issued_on:%d %b %Y} to {registration.expires_on:%d %b %Y}"),
                    ("How to schedule", SCHEDULING_HELP)]
    return details


fulfilment.register(OrderPurpose.EXAM, fulfilment.PurposeHandlers(
    fulfil=fulfil_exam_order, refunded=exam_refunded, price_on=exam_price_on, reprice=reprice_exam,
    receipt_details=exam_receipt_details, is_membership=False))
