"""The exam catalogue and buying an exam: prices, retake waits, eligibility, Authorizations to Test."""
from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.extensions import db
from chapter.certifications.models import Exam, ExamEligibility, ExamProgram, ExamRegistration, ExamResult
from chapter.members.models import Member, MembershipStatus
from chapter.members.services import add_months

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.payments.models import Order


class PurchaseRefused(DomainError):
    """The exam cannot be bought now (retired, retake wait, eligibility, an unused ATT)."""


class AttExpired(DomainError):
    """The Authorization to Test has expired and cannot be used."""


# --- Catalogue --------------------------------------------------------------------------------

def exams_on_sale(day: date) -> list[Exam]:
    """Exams that can be bought on `day`, in catalogue order."""
    exams = db.session.scalars(sa.select(Exam).join(Exam.program).options(joinedload(Exam.program))
                               .order_by(ExamProgram.sort_order, Exam.sort_order)).all()
    return [exam for exam in exams if exam.is_available_on(day)]


def exams_on_sale_for(member_id: int, day: date) -> tuple[list[Exam], set[int]]:
    """The exams on sale on `day` and which of them the member was approved for (eligibility), in one query."""
    rows = db.session.execute(_catalogue_with_eligibility(), {"member_id": member_id}).all()
    on_sale = [(exam, approved) for exam, approved in rows if exam.is_available_on(day)]
    return [exam for exam, _ in on_sale], {exam.id for exam, approved in on_sale if approved}


@functools.cache
def _catalogue_with_eligibility() -> sa.Select:
    """Every exam in catalogue order with whether the member has an approved eligibility: built once per process."""
    approved = sa.exists().where(ExamEligibility.member_id == sa.bindparam("member_id", type_=sa.Integer),
                                 ExamEligibility.exam_id == Exam.id)
    return (sa.select(Exam, approved.label("approved")).join(Exam.program).options(joinedload(Exam.program))
            .order_by(ExamProgram.sort_order, Exam.sort_order))


def all_exams() -> list[Exam]:
    """The whole catalogue, retired exams included."""
    return list(db.session.scalars(sa.select(Exam).join(Exam.program).options(joinedload(Exam.program))
                                   .order_by(ExamProgram.sort_order, Exam.sort_order)))


def exam_by_code(code: str) -> Exam | None:
    return db.session.scalar(sa.select(Exam).where(Exam.code == code))


# --- Buying -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quote:
    """What an exam costs a member on a day, and what membership would save."""

    exam: Exam
    price_cents: int
    member_price: bool

    @property
    def saving_cents(self) -> int:
        return self.exam.non_member_fee_cents - self.exam.member_fee_cents


def quote(member: Member, exam: Exam, day: date) -> Quote:
    """The member price only while the membership is active on `day`; otherwise the non-member price."""
    active = member.status_on(day) is MembershipStatus.ACTIVE
    return Quote(exam, exam.member_fee_cents if active else exam.non_member_fee_cents, active)


def retake_allowed_from(member: Member, exam: Exam) -> date | None:
    """The first day a retake can be bought after the latest failed attempt, if that attempt failed."""
    latest = db.session.scalar(sa.select(ExamResult).where(
        ExamResult.member_id == member.id, ExamResult.exam_id == exam.id).order_by(ExamResult.taken_on.desc()))
    if latest is None or latest.passed:
        return None
    return latest.taken_on + timedelta(days=exam.retake_wait_days)


def check_can_buy(member: Member, exam: Exam, day: date) -> None:
    """Raise PurchaseRefused when the exam cannot be bought on `day`."""
    if not exam.is_available_on(day):
        raise PurchaseRefused(f"{exam.name} is not on sale.")
    if exam.requires_eligibility and db.session.scalar(sa.select(ExamEligibility.id).where(
            ExamEligibility.member_id == member.id, ExamEligibility.exam_id == exam.id)) is None:
        raise PurchaseRefused(f"{exam.name} needs an approved eligibility application first.")
    allowed_from = retake_allowed_from(member, exam)
    if allowed_from is not None and day < allowed_from:
        raise PurchaseRefused(f"A retake of {exam.name} can be bought from {allowed_from:%d %B %Y}.")
    unused = db.session.scalars(sa.select(ExamRegistration).where(
        ExamRegistration.member_id == member.id, ExamRegistration.exam_id == exam.id,
        ExamRegistration.used_on.is_(None), ExamRegistration.expires_on >= day)).all()
    if any(not registration.is_refunded for registration in unused):
        raise PurchaseRefused(f"You already have a valid authorization to test for {exam.name}.")


def start_exam_purchase(member: Member, exam: Exam, *, actor: User | None, day: date | None = None) -> Order:
    """Open (or reuse and reprice) the member's exam order, priced by membership status on `day`."""
    from sqlalchemy.exc import IntegrityError

    from chapter.payments.models import Order, OrderLine, OrderPurpose, OrderStatus
    from chapter.payments.services import PaymentInProgress, payment_in_flight

    day = day or today()
    check_can_buy(member, exam, day)
    price = quote(member, exam, day)
    order = db.session.scalar(sa.select(Order).where(
        Order.member_id == member.id, Order.purpose == OrderPurpose.EXAM, Order.status == OrderStatus.OPEN))
    if order is not None and payment_in_flight(order) is not None:
        raise PaymentInProgress("A payment for an exam is already in progress. Wait a moment and reload the page.")
    if order is None:
        try:
            with db.session.begin_nested():
                order = Order(member_id=member.id, purpose=OrderPurpose.EXAM, currency=exam.currency,
                              total_cents=0, description="")
                db.session.add(order)
        except IntegrityError:
            raise PaymentInProgress("A payment for an exam is already in progress. Wait a moment and reload the page.")
    description = f"{exam.name} exam ({'member' if price.member_price else 'non-member'} price)"
    order.purchaser_id = actor.id if actor else None
    order.membership_type_id = None
    order.chapter_id = None
    order.currency = exam.currency
    order.total_cents = price.price_cents
    order.chapter_share_cents = 0
    order.association_share_cents = price.price_cents
    order.description = description
    order.lines.clear()
    order.lines.append(OrderLine(description=description, quantity=1, unit_price_cents=price.price_cents,
                                 amount_cents=price.price_cents, chapter_share_cents=0))
    db.session.flush()
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.order_id == order.id))
    if registration is None:
        registration = ExamRegistration(member_id=member.id, order_id=order.id)
        db.session.add(registration)
    registration.exam_id = exam.id
    registration.price_cents = price.price_cents
    registration.currency = exam.currency
    registration.member_price = price.member_price
    db.session.flush()
    return order


def _new_att_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "ATT-" + "".join(secrets.choice(alphabet) for _ in range(10))


def issue_att(registration: ExamRegistration, day: date) -> ExamRegistration:
    """Give a paid registration its ATT code, valid for the exam's months from `day`."""
    registration.att_code = _new_att_code()
    registration.issued_on = day
    registration.expires_on = add_months(day, registration.exam.att_valid_months)
    db.session.flush()
    return registration


def fulfil_exam_order(order: Order, day: date) -> ExamRegistration:
    """Called once by payments when an exam order is paid: issue the Authorization to Test."""
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.order_id == order.id))
    issue_att(registration, day)
    audit.record("exam.att_issued", actor=None, member_id=order.member_id,
                 summary=f"ATT {registration.att_code} for {registration.exam.name} ({order.reference})",
                 after={"att_code": registration.att_code, "expires_on": registration.expires_on})
    return registration


def att_for_scheduling(code: str, day: date) -> ExamRegistration:
    """The ATT with `code` if it can be used on `day`; says why not otherwise."""
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.att_code == code.strip().upper()))
    if registration is None:
        raise DomainError("No authorization to test has that code.", field="att_code")
    if registration.used_on is not None:
        raise DomainError(f"This authorization to test was used on {registration.used_on:%d %B %Y}.", field="att_code")
    if registration.is_refunded:
        raise DomainError("This authorization to test was cancelled: its fee was refunded.", field="att_code")
    if day > registration.expires_on:
        raise AttExpired(f"This authorization to test expired on {registration.expires_on:%d %B %Y} "
                         "and cannot be used; buy the exam again.", field="att_code")
    return registration


def registrations_of(member: Member) -> list[ExamRegistration]:
    """The member's bought exams, newest first."""
    return list(db.session.scalars(sa.select(ExamRegistration).where(
        ExamRegistration.member_id == member.id, ExamRegistration.issued_on.is_not(None))
        .options(joinedload(ExamRegistration.exam), joinedload(ExamRegistration.order))
        .order_by(ExamRegistration.issued_on.desc(), ExamRegistration.id.desc())))
