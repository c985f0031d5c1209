"""The money path's public face: the names other features and the views use.

The work is split by sub-domain: dues (prices, shares, terms), attempts (claiming, charging,
settling, fulfilling), refunds, webhooks; the fulfilment registry (fulfilment.py) lets each
feature say what paying for its order purpose does. Services take explicit arguments and never
touch the request."""
from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload

from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import FOREVER, today
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member, MembershipStatus, MembershipTerm, MembershipType, TermSource
from chapter.payments import gateway  # noqa: F401  (tests and views reach the gateway through here)
from chapter.payments.attempts import (  # noqa: F401
    ABANDONED_AUTHENTICATION_AFTER, ASK_STRIPE_AFTER, PaymentInProgress, PriceChanged, apply_intent_result, attempt_in_flight,
    begin_card_setup, can_pay, charge_payment, fulfil_order, is_stale, lock_order, lock_payment, open_payment,
    payment_by_intent, payment_in_flight, record_no_answer, record_offline_payment, refresh_payment, refund_duplicate,
    settle_payment, settle_unsettled, setup_intent_card, stripe_customer_for,
)
from chapter.payments.attempts import move as _move  # noqa: F401
from chapter.payments.dues import (  # noqa: F401
    RENEWAL_OPENS_DAYS_BEFORE_END, RenewalOptions, TypeChangeQuote, chapter_share, current_term, purchasable_types,
    quote_type_change, renewable_types, renewal_options, start_join, start_renewal, start_type_change, term_being_upgraded,
    type_change_quote, type_share,
)
from chapter.payments.models import IN_FLIGHT, Order, Payment  # noqa: F401
from chapter.payments.refunds import can_refund, check_refund, decide_term, record_stripe_refund, refund_by_rule, refund_payment  # noqa: F401
from chapter.payments.webhooks import HANDLED_EVENTS, WebhookOutcome, receive_webhook  # noqa: F401

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.core.permissions import Roles

log = logging.getLogger(__name__)

# Kept for code written before the public name existed (certifications used the private one).
_payment_in_flight = payment_in_flight


# --- Reading --------------------------------------------------------------------------------

def can_see_payment(payment: Payment, user: User, roles: Roles) -> bool:
    """The payer, staff, or a treasurer of the payment's chapter."""
    return can_pay(payment.order, user) or can_refund(payment, roles) or (
        payment.order.organization is not None and payment.order.organization.contact_user_id == user.id)


def member_payments(member: Member) -> list[Payment]:
    """A member's payments, newest first, with their orders and disputes (2 queries however many; card: brand, last 4)."""
    return db.session.scalars(
        sa.select(Payment).join(Order).options(contains_eager(Payment.order), selectinload(Payment.disputes))
        .where(Order.member_id == member.id).order_by(Payment.id.desc())
    ).all()


def free_membership_grant(member: Member, membership_type: MembershipType, *, starts_on: date, actor: User) -> MembershipTerm:
    """Staff grant an honorary or lifetime membership: never invoiced."""
    if not actor.is_staff:
        raise NotAllowed("Only staff grant free memberships.")
    if membership_type.is_invoiced:
        raise DomainError("Only free (never invoiced) types are granted; the others are paid.", field="membership_type_id")
    return member_services.grant_term(member, membership_type, starts_on=starts_on, source=TermSource.STAFF_GRANT,
                                      actor=actor, note="Granted by staff")


UNEMPLOYED_EXTENSION_MONTHS = 6
UNEMPLOYED_EXTENSIONS_MAX = 3


def grant_unemployed_extension(member: Member, *, approved_by: User, actor: User, day: date | None = None) -> MembershipTerm:
    """Six free months for an unemployed member, at most three times, approved by the chapter president."""
    from chapter.core.permissions import roles_of

    day = day or today()
    if not actor.is_staff:
        raise NotAllowed("Only staff record extensions.")
    if member.home_chapter is None or not any(
            p.code == "president" for p in roles_of(approved_by, day).positions_in(member.home_chapter)):
        raise DomainError("The approval must come from the president of the member's home chapter.", field="approver_email")
    used = db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm).where(
        MembershipTerm.member_id == member.id, MembershipTerm.source == TermSource.EXTENSION,
        MembershipTerm.voided_at.is_(None)))
    if used >= UNEMPLOYED_EXTENSIONS_MAX:
        raise DomainError(f"This member has had the {UNEMPLOYED_EXTENSIONS_MAX} extensions allowed (18 months).")
    if member.paid_through is None or member.paid_through == FOREVER or member.status_on(day) is MembershipStatus.LAPSED:
        raise DomainError("Only a current member (active or in grace) can be extended.")
    starts = member.paid_through + timedelta(days=1)
    ends = member_services.add_months(starts, UNEMPLOYED_EXTENSION_MONTHS) - timedelta(days=1)
    return member_services.grant_term(member, member.current_type, starts_on=starts, ends_on=ends,
                                      source=TermSource.EXTENSION, actor=actor,
                                      note=f"Unemployed extension approved by {approved_by.name}")
