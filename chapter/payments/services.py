"""The money path: orders for dues, paying them through the gateway, fulfilling exactly once,
webhooks, refunds. Services take explicit arguments and never touch the request."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from chapter.chapters.models import Chapter
from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import FOREVER, today, utcnow
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member, MembershipStatus, MembershipTerm, MembershipType, TermSource
from chapter.payments import gateway
from chapter.payments.models import (
    PAYMENT_TRANSITIONS, Order, OrderLine, OrderPurpose, OrderStatus, Payment, PaymentStatus, Refund,
    StripeEvent, TermAction,
)

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.core.permissions import Roles

log = logging.getLogger(__name__)

RENEWAL_OPENS_DAYS_BEFORE_END = 90
STALE_PENDING_AFTER = timedelta(minutes=15)
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING)


class PaymentInProgress(DomainError):
    """Another payment for this order is being processed."""


# --- Prices and shares ----------------------------------------------------------------------

def chapter_share(membership_type: MembershipType, chapter: Chapter | None, amount_cents: int, full_price_cents: int) -> int:
    """The home chapter's part of `amount_cents`: the type's (or chapter's) share, prorated to the amount."""
    if chapter is None or full_price_cents <= 0:
        return 0
    share = membership_type.chapter_share_cents
    if share is None:
        share = chapter.dues_share_cents
    share = min(share, full_price_cents)
    # Integer arithmetic, rounding half down, so the association keeps the odd cent.
    return share * amount_cents // full_price_cents


def _new_order(member: Member, purpose: OrderPurpose, membership_type: MembershipType, amount_cents: int,
               full_price_cents: int, description: str, actor: User | None, covers_from: date | None = None,
               covers_until: date | None = None) -> Order:
    """Create (or reuse and reprice) the member's open order for `purpose`."""
    if member.home_chapter_id is None:  # every dues payment carries a chapter share: assign the closest
        from chapter.members.closest import assign_closest_chapter

        assign_closest_chapter(member, actor=actor)
    chapter = member.home_chapter
    share = chapter_share(membership_type, chapter, amount_cents, full_price_cents)
    order = db.session.scalar(sa.select(Order).where(
        Order.member_id == member.id, Order.purpose == purpose, Order.status == OrderStatus.OPEN))
    if order is not None and _payment_in_flight(order) is not None:
        raise PaymentInProgress("A payment for this is already in progress. Wait a moment and reload the page.")
    if order is None:
        try:
            with db.session.begin_nested():
                order = Order(member_id=member.id, purpose=purpose, currency=membership_type.currency,
                              total_cents=0, description="")
                db.session.add(order)
        except IntegrityError:
            # A parallel request created the open order first: use (and reprice) that one.
            order = db.session.scalar(sa.select(Order).where(
                Order.member_id == member.id, Order.purpose == purpose, Order.status == OrderStatus.OPEN))
            if order is None or _payment_in_flight(order) is not None:
                raise PaymentInProgress("A payment for this is already in progress. Wait a moment and reload the page.")
    order.purchaser_id = actor.id if actor else None
    order.membership_type = membership_type
    order.chapter_id = chapter.id if chapter else None
    order.currency = membership_type.currency
    order.total_cents = amount_cents
    order.chapter_share_cents = share
    order.association_share_cents = amount_cents - share
    order.description = description
    order.covers_from, order.covers_until = covers_from, covers_until
    order.lines.clear()
    order.lines.append(OrderLine(description=description, quantity=1, unit_price_cents=amount_cents,
                                 amount_cents=amount_cents, chapter_share_cents=share))
    db.session.flush()
    return order


def purchasable_types(for_corporate: bool = False) -> list[MembershipType]:
    """Types a member can buy online: public, available, invoiced, not corporate seats."""
    return [t for t in member_services.membership_types()
            if t.is_available and t.is_invoiced and (t.kind.value == "corporate_seat") == for_corporate]


def renewable_types(member: Member) -> list[MembershipType]:
    """Types a member can renew to online: the public ones, and their own invoiced type even when staff-only
    (an Honorary Chapter member renews at the association's portion, the chapter's share being 0)."""
    types = purchasable_types()
    own = member.current_type
    if own is not None and own not in types and own.is_invoiced and own.is_available and own.kind.value != "corporate_seat":
        types.append(own)
    return types


@dataclass(frozen=True)
class RenewalOptions:
    """What a member may do about their membership today."""

    can_join: bool
    can_renew: bool
    renew_from: date | None
    message: str


def renewal_options(member: Member, day: date) -> RenewalOptions:
    """Join, renew, or nothing yet: from the member's dates and the renewal window."""
    status = member.status_on(day)
    if member.is_lifetime:
        return RenewalOptions(False, False, None, "Your membership never ends.")
    if member.current_type is not None and not member.current_type.is_invoiced \
            and status in (MembershipStatus.ACTIVE, MembershipStatus.GRACE):
        return RenewalOptions(False, False, None, f"Your {member.current_type.name} membership is never invoiced.")
    if status in (MembershipStatus.PENDING, MembershipStatus.LAPSED):
        return RenewalOptions(True, False, None, "Join to start your membership." if status is MembershipStatus.PENDING
                              else "Your membership has lapsed: rejoin to start a new term today.")
    if member.current_type is not None and member.current_type.kind.value == "corporate_seat" \
            and member.organization_id is not None:  # still holds a seat (freeing one clears organization_id)
        return RenewalOptions(False, False, None, "Your seat is paid by your employer's corporate membership "
                                                  "and renews with it.")
    opens = member.paid_through - timedelta(days=RENEWAL_OPENS_DAYS_BEFORE_END)
    if day < opens:
        return RenewalOptions(False, False, None, f"Renewal opens on {opens:%d %b %Y}.")
    return RenewalOptions(False, True, member.paid_through + timedelta(days=1),
                          f"Renewing now continues your membership from {member.paid_through + timedelta(days=1):%d %b %Y}; you lose no days.")


def start_join(member: Member, membership_type: MembershipType, *, actor: User | None, day: date | None = None) -> Order:
    """An order to join (or rejoin after lapsing): the term will start on the payment date."""
    day = day or today()
    if membership_type not in purchasable_types():
        raise DomainError("This membership type cannot be bought online.", field="membership_type_id")
    if not renewal_options(member, day).can_join:
        raise DomainError("Your membership is current: renew instead of joining.")
    return _new_order(member, OrderPurpose.JOIN, membership_type, membership_type.join_price_cents,
                      membership_type.join_price_cents, f"{membership_type.name} membership, {membership_type.term_months} months",
                      actor)


def start_renewal(member: Member, membership_type: MembershipType, *, actor: User | None, day: date | None = None) -> Order:
    """An order for the next term, which starts the day after the current one ends."""
    day = day or today()
    if membership_type not in renewable_types(member):
        raise DomainError("This membership type cannot be bought online.", field="membership_type_id")
    options = renewal_options(member, day)
    if not options.can_renew:
        raise DomainError(options.message)
    starts = options.renew_from
    return _new_order(member, OrderPurpose.RENEWAL, membership_type, membership_type.renewal_price_cents,
                      membership_type.renewal_price_cents, f"{membership_type.name} membership renewal from {starts:%d %b %Y}",
                      actor, covers_from=starts, covers_until=member_services.term_end(starts, membership_type))


def type_change_quote(member: Member, new_type: MembershipType, day: date) -> tuple[int, int, int]:
    """(price difference for the rest of the term in cents, days left, days in the term)."""
    term = current_term(member, day)
    if term is None:
        raise DomainError("You need a current membership to change its type.")
    if new_type.id == term.membership_type_id:
        raise DomainError("That is already your membership type.", field="membership_type_id")
    days_in_term = (term.ends_on - term.starts_on).days + 1
    days_left = (term.ends_on - day).days + 1
    difference = new_type.renewal_price_cents - term.membership_type.renewal_price_cents
    return difference * days_left // days_in_term, days_left, days_in_term


def start_type_change(member: Member, new_type: MembershipType, *, actor: User | None, day: date | None = None) -> Order:
    """An upgrade for the rest of the term, the price difference prorated by day."""
    day = day or today()
    if new_type not in purchasable_types():
        raise DomainError("This membership type cannot be bought online.", field="membership_type_id")
    amount, days_left, _ = type_change_quote(member, new_type, day)
    if amount <= 0:
        raise DomainError(f"{new_type.name} costs no more than your current type: a change to it takes effect "
                          "when you renew. Choose it on the renewal page.", field="membership_type_id")
    return _new_order(member, OrderPurpose.TYPE_CHANGE, new_type, amount, new_type.renewal_price_cents,
                      f"Change to {new_type.name} for the remaining {days_left} days", actor,
                      covers_from=day, covers_until=member.paid_through)


def current_term(member: Member, day: date) -> MembershipTerm | None:
    """The term that covers `day`, if any."""
    return db.session.scalar(sa.select(MembershipTerm).where(
        MembershipTerm.member_id == member.id, MembershipTerm.voided_at.is_(None),
        MembershipTerm.starts_on <= day, MembershipTerm.ends_on >= day,
    ).order_by(MembershipTerm.ends_on.desc()))


# --- Paying ---------------------------------------------------------------------------------

def can_pay(order: Order, user: User) -> bool:
    """The member the order is for, the organization's contact person, or the one who placed it."""
    return order.purchaser_id == user.id or (order.member is not None and order.member.user_id == user.id) or (
        order.organization is not None and order.organization.contact_user_id == user.id)


def _payment_in_flight(order: Order) -> Payment | None:
    """The order's payment still waiting for Stripe, if any; an abandoned one is released first."""
    payment = db.session.scalar(sa.select(Payment).where(Payment.order_id == order.id, Payment.status.in_(IN_FLIGHT)))
    if payment is not None and payment.status is PaymentStatus.PENDING and not payment.stripe_payment_intent_id \
            and payment.created_at < utcnow() - STALE_PENDING_AFTER:
        # The attempt never got an answer from Stripe (a crash or a time-out before it replied):
        # let the member try again. Had Stripe charged it, its webhook names this payment in the
        # metadata, and a success on an order paid meanwhile is refunded (refund_duplicate).
        payment.status = PaymentStatus.FAILED
        payment.failure_code, payment.failure_message = "abandoned", "No answer from the payment service."
        db.session.flush()
        return None
    return payment


def stripe_customer_for(order: Order) -> str:
    """The Stripe customer paying this order, created on first use and kept on the member or organization."""
    payer = order.member or order.organization
    if payer.stripe_customer_id:
        return payer.stripe_customer_id
    if order.member is not None:
        customer = gateway.ensure_customer(None, email=order.member.email, name=order.member.full_name,
                                           metadata={"member_number": order.member.member_number})
    else:
        customer = gateway.ensure_customer(None, email=order.organization.billing_email, name=order.organization.name,
                                           metadata={"organization_id": str(order.organization.id)})
    payer.stripe_customer_id = customer
    db.session.flush()
    return customer


def begin_card_setup(order: Order) -> gateway.IntentResult:
    """A SetupIntent for the card field on the payment page."""
    if order.status is not OrderStatus.OPEN:
        raise DomainError("This order is not awaiting payment.")
    customer = stripe_customer_for(order)
    return gateway.create_setup_intent(customer, {"order_id": str(order.id)})


def lock_order(order_id: int) -> Order:
    """Re-read an order under a row lock (FOR UPDATE on PostgreSQL; SQLite serialises writers)."""
    return db.session.execute(sa.select(Order).where(Order.id == order_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def open_payment(order: Order, *, off_session: bool = False) -> Payment:
    """Claim the order for one payment attempt; a second one in parallel is refused by the database."""
    # Re-read the order under a row lock: a request that loaded it before another one paid it
    # must see it paid now, not charge a second time (FOR UPDATE waits on PostgreSQL; SQLite
    # serialises writers anyway).
    lock_order(order.id)
    if order.status is not OrderStatus.OPEN:
        raise DomainError("This order is already paid or cancelled.")
    if order.total_cents <= 0:
        raise DomainError("Nothing to pay on this order.")
    _payment_in_flight(order)  # releases an abandoned attempt, if any
    payment = Payment(order_id=order.id, amount_cents=order.total_cents, currency=order.currency,
                      chapter_id=order.chapter_id, off_session=off_session)
    try:
        with db.session.begin_nested():
            db.session.add(payment)
    except IntegrityError:
        raise PaymentInProgress("A payment for this order is already in progress. Wait a moment and reload the page.")
    return payment


def charge_payment(payment: Payment, *, payment_method_id: str) -> gateway.IntentResult:
    """Send the charge to Stripe. The caller has committed the payment row first, so a crash mid-call
    leaves a pending payment that the webhook (or the treasury sync) settles, never a silent double charge."""
    order = payment.order
    customer = order.member.stripe_customer_id if order.member else order.organization.stripe_customer_id
    payment.stripe_customer_id = customer
    payment.stripe_payment_method_id = payment_method_id
    return gateway.charge(
        customer_id=customer, payment_method_id=payment_method_id, amount_cents=payment.amount_cents,
        currency=payment.currency, off_session=payment.off_session,
        metadata={"order_id": str(order.id), "payment_id": str(payment.id), "purpose": order.purpose.value,
                  "description": order.description[:450]},
        idempotency_key=f"chapter-payment-{payment.id}",
    )


def setup_intent_card(order: Order, setup_intent_id: str) -> gateway.IntentResult:
    """The card the browser saved for this order's customer; refuses a SetupIntent that is not theirs or not done."""
    result = gateway.retrieve_setup_intent(setup_intent_id)
    if result.status != "succeeded" or not result.payment_method_id:
        raise DomainError("Your card was not saved. Please enter it again.")
    return result


_STATUS_FROM_STRIPE = {
    "succeeded": PaymentStatus.SUCCEEDED, "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING, "failed": PaymentStatus.FAILED,
    "requires_payment_method": PaymentStatus.FAILED, "canceled": PaymentStatus.FAILED,
}


def _move(payment: Payment, new: PaymentStatus) -> bool:
    """Apply a status change if the transition table allows it; False for a stale or repeated one."""
    if new == payment.status:
        return False
    if new not in PAYMENT_TRANSITIONS[payment.status]:
        log.info("payment %s: ignoring %s -> %s", payment.id, payment.status.value, new.value)
        return False
    payment.status = new
    return True


def apply_intent_result(payment: Payment, result: gateway.IntentResult, *, day: date | None = None) -> bool:
    """Record what Stripe said about the payment; fulfil the order on success. True if this call fulfilled it."""
    # Lock the order row before touching the payment: every writer takes the order first
    # (open_payment does too), so two tabs or a tab and the webhook queue up instead of
    # deadlocking, and a second charge cannot slip in between.
    lock_order(payment.order_id)
    if result.id and not payment.stripe_payment_intent_id:
        payment.stripe_payment_intent_id = result.id
    payment.raw = result.raw or payment.raw
    payment.stripe_charge_id = result.charge_id or payment.stripe_charge_id
    payment.card_brand = result.card_brand or payment.card_brand
    payment.card_last4 = result.card_last4 or payment.card_last4
    new = _STATUS_FROM_STRIPE.get(result.status, PaymentStatus.PROCESSING)
    if payment.off_session and new is PaymentStatus.REQUIRES_ACTION:
        # Nobody is there to authenticate an off-session charge: it has failed.
        new = PaymentStatus.FAILED
        result = gateway.IntentResult(id=result.id, status="failed", failure_code="authentication_required",
                                      failure_message="Your bank asked for authentication, which needs you present.")
    moved = _move(payment, new)
    if moved and new is PaymentStatus.FAILED:
        payment.failure_code = result.failure_code or "card_declined"
        payment.failure_message = result.failure_message or "The payment was declined."
    db.session.flush()
    if payment.status is PaymentStatus.SUCCEEDED:
        fulfilled = fulfil_order(payment, day=day)
        if not fulfilled and _paid_by_another_payment(payment):
            refund_duplicate(payment)
        return fulfilled
    return False


def _paid_by_another_payment(payment: Payment) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Payment).where(
        Payment.order_id == payment.order_id, Payment.id != payment.id,
        Payment.status.in_([PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED]),
    )) > 0


def refund_duplicate(payment: Payment) -> Refund | None:
    """A second successful payment for an order already paid: give the money back at once, and say so."""
    if payment.refundable_cents <= 0 or not payment.stripe_payment_intent_id:
        return None
    log.error("payment %s duplicates an already paid order %s: refunding it", payment.id, payment.order_id)
    result = gateway.refund(payment_intent_id=payment.stripe_payment_intent_id, amount_cents=payment.refundable_cents,
                            metadata={"payment_id": str(payment.id), "reason": "duplicate payment"},
                            idempotency_key=f"chapter-duplicate-refund-{payment.id}")
    payment.association_share_cents = payment.order.association_share_cents
    payment.chapter_share_cents = chapter_part = payment.order.chapter_share_cents
    payment.succeeded_at = payment.succeeded_at or utcnow()
    refund = Refund(payment=payment, amount_cents=payment.refundable_cents, chapter_share_cents=chapter_part,
                    association_share_cents=payment.refundable_cents - chapter_part,
                    reason=f"Duplicate payment: {payment.order.reference} was already paid", term_action=TermAction.KEEP,
                    stripe_refund_id=result.id, raw=result.raw)
    db.session.add(refund)
    payment.refunded_cents = payment.amount_cents
    _move(payment, PaymentStatus.REFUNDED)
    db.session.flush()
    from chapter.treasury import services as ledger  # a duplicate was never fulfilled: its charge is booked here

    ledger.record_payment(payment)
    ledger.record_refund(refund)
    return refund


def fulfil_order(payment: Payment, *, day: date | None = None) -> bool:
    """Give the member what they paid for, exactly once: the first caller to flip fulfilled_at wins."""
    order = payment.order
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Order).where(Order.id == order.id, Order.fulfilled_at.is_(None))
        .values(fulfilled_at=now, status=OrderStatus.PAID).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.refresh(order)
        return False
    db.session.refresh(order)
    payment.succeeded_at = payment.succeeded_at or now
    payment.association_share_cents = order.association_share_cents
    payment.chapter_share_cents = order.chapter_share_cents
    day = day or payment.succeeded_at.date()
    if order.purpose in (OrderPurpose.JOIN, OrderPurpose.RENEWAL, OrderPurpose.TYPE_CHANGE):
        _fulfil_dues(order, day)
    elif order.purpose is OrderPurpose.EXAM:
        from chapter.certifications.services import fulfil_exam_order

        fulfil_exam_order(order, day)
    else:
        from chapter.members import corporate

        corporate.fulfil_corporate_order(order, day)
    from chapter.treasury import services as ledger  # the ledger hears of every fulfilled payment

    ledger.record_payment(payment)
    db.session.flush()
    return True


def _fulfil_dues(order: Order, day: date) -> None:
    member = order.member
    membership_type = order.membership_type
    if order.purpose is OrderPurpose.TYPE_CHANGE:
        term = current_term(member, day)
        if term is not None and term.starts_on < day:
            term.original_ends_on = term.original_ends_on or term.ends_on
            old_end, term.ends_on = term.ends_on, day - timedelta(days=1)
            member_services.grant_term(member, membership_type, starts_on=day, ends_on=old_end,
                                       source=TermSource.PAYMENT, actor=None, note=order.reference)
            _link_latest_term(member, order)
        elif term is not None:
            term.membership_type = membership_type
            term.order_id = order.id
            member_services.refresh_membership_dates(member)
        return
    starts = day
    if order.purpose is OrderPurpose.RENEWAL and member.grace_ends_on is not None and member.grace_ends_on >= day \
            and member.paid_through is not None:
        # Renewing early or in grace continues the membership: no day is lost or paid twice.
        starts = member.paid_through + timedelta(days=1)
    member_services.grant_term(member, membership_type, starts_on=starts, source=TermSource.PAYMENT,
                               actor=None, note=order.reference)
    _link_latest_term(member, order)


def _link_latest_term(member: Member, order: Order) -> None:
    term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id)
                             .order_by(MembershipTerm.id.desc()))
    term.order_id = order.id


def payment_by_intent(payment_intent_id: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.stripe_payment_intent_id == payment_intent_id))


def refresh_payment(payment: Payment) -> bool:
    """Re-read the PaymentIntent (after 3-D Secure in the browser) and apply it."""
    if not payment.stripe_payment_intent_id:
        raise DomainError("This payment has not reached the payment service.")
    return apply_intent_result(payment, gateway.retrieve_payment_intent(payment.stripe_payment_intent_id))


# --- Webhooks -------------------------------------------------------------------------------

HANDLED_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
                  "payment_intent.requires_action"}


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    duplicate: bool
    outcome: str
    fulfilled_payment_id: int | None = None


def receive_webhook(event: dict) -> WebhookOutcome:
    """Store the event by id (a repeat changes nothing), then apply it to the payment it is about."""
    event_id, event_type = event.get("id"), event.get("type", "")
    if not event_id:
        raise DomainError("event without id")
    stored = db.session.get(StripeEvent, event_id)
    if stored is None:
        try:
            with db.session.begin_nested():  # a savepoint: a duplicate id undoes only this insert
                stored = StripeEvent(id=event_id, type=event_type, payload=json.dumps(event, default=str))
                db.session.add(stored)
        except IntegrityError:  # the same event arriving in parallel
            stored = db.session.get(StripeEvent, event_id)
    if stored is None or stored.processed_at is not None:
        return WebhookOutcome(event_id, True, "duplicate")
    # A stored event never processed (the first delivery failed half-way) is processed now.
    # Applying an event is idempotent, so a second worker doing the same changes nothing.
    fulfilled_id = None
    if event_type not in HANDLED_EVENTS:
        stored.outcome = "ignored"
    else:
        intent = (event.get("data") or {}).get("object") or {}
        payment = _payment_for_intent(intent)
        if payment is None:
            stored.outcome = "unknown payment"
        elif intent.get("amount") not in (None, payment.amount_cents) or \
                (intent.get("currency") or payment.currency).upper() != payment.currency.upper():
            stored.outcome = f"amount mismatch: event {intent.get('amount')} {intent.get('currency')}, payment {payment.amount_cents} {payment.currency}"
            stored.payment_id = payment.id
        else:
            stored.payment_id = payment.id
            result = gateway.payment_result_from_event(intent)
            if event_type == "payment_intent.payment_failed":
                result = gateway.IntentResult(id=result.id, status="failed", failure_code=result.failure_code,
                                              failure_message=result.failure_message, raw=result.raw)
            fulfilled = apply_intent_result(payment, result)
            fulfilled_id = payment.id if fulfilled else None
            stored.outcome = f"payment {payment.id}: {payment.status.value}" + (", fulfilled" if fulfilled else "")
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


# --- Refunds --------------------------------------------------------------------------------

def can_refund(payment: Payment, roles: Roles) -> bool:
    """Staff, or a treasurer (finance rights) of the chapter the payment was made through."""
    if roles.is_staff:
        return True
    chapter = db.session.get(Chapter, payment.chapter_id) if payment.chapter_id else None
    return chapter is not None and roles.can_view_finances(chapter)


def refund_payment(
    payment: Payment, *, amount_cents: int, reason: str, term_action: TermAction, new_term_end: date | None,
    actor: User, roles: Roles, day: date | None = None,
) -> Refund:
    """Refund part or all of a payment at Stripe, keep the split, and shorten or void the term if asked."""
    day = day or today()
    if not can_refund(payment, roles):
        raise NotAllowed("You may not refund this payment.")
    if amount_cents <= 0:
        raise DomainError("Enter an amount above zero.", field="amount_cents")
    if amount_cents > payment.refundable_cents:
        raise DomainError(f"At most {payment.refundable_cents / 100:.2f} {payment.currency} can be refunded.", field="amount_cents")
    if not reason.strip():
        raise DomainError("Say why the money is refunded.", field="reason")
    term = None
    if term_action is not TermAction.KEEP:
        term = db.session.scalar(sa.select(MembershipTerm).where(
            MembershipTerm.order_id == payment.order_id, MembershipTerm.voided_at.is_(None)).order_by(MembershipTerm.id.desc()))
        if term is None:
            raise DomainError("This payment paid for no membership term to change.", field="term_action")
        if term_action is TermAction.SHORTEN:
            new_term_end = new_term_end or day
            if not (term.starts_on <= new_term_end < term.ends_on):
                raise DomainError(f"Choose an end between {term.starts_on:%d %b %Y} and the day before {term.ends_on:%d %b %Y}.",
                                  field="new_term_end")
    sequence = len(payment.refunds) + 1
    result = gateway.refund(
        payment_intent_id=payment.stripe_payment_intent_id, amount_cents=amount_cents,
        metadata={"payment_id": str(payment.id), "reason": reason[:450]},
        idempotency_key=f"chapter-refund-{payment.id}-{sequence}-{amount_cents}",
    )
    chapter_part = payment.chapter_share_cents * amount_cents // payment.amount_cents if payment.amount_cents else 0
    refund = Refund(payment=payment, amount_cents=amount_cents, chapter_share_cents=chapter_part,
                    association_share_cents=amount_cents - chapter_part, reason=reason.strip(),
                    term_action=term_action, stripe_refund_id=result.id, actor_id=actor.id, raw=result.raw)
    db.session.add(refund)
    payment.refunded_cents += amount_cents
    fully = payment.refunded_cents >= payment.amount_cents
    _move(payment, PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED)
    payment.order.status = OrderStatus.REFUNDED if fully else OrderStatus.PARTIALLY_REFUNDED
    member = payment.order.member
    audit.record(AuditAction.PAYMENT_REFUNDED, actor=actor, chapter_id=payment.chapter_id,
                 member_id=member.id if member else None,
                 summary=f"Refunded {amount_cents / 100:.2f} {payment.currency} of {payment.order.reference}: {reason.strip()}",
                 before={"refunded_cents": payment.refunded_cents - amount_cents}, after={"refunded_cents": payment.refunded_cents})
    if term is not None:
        before = {"ends_on": term.ends_on, "voided": False}
        term.original_ends_on = term.original_ends_on or term.ends_on
        if term_action is TermAction.VOID:
            term.voided_at = utcnow()
        else:
            term.ends_on = new_term_end
            refund.new_term_end = new_term_end
        member_services.refresh_membership_dates(term.member)
        audit.record(AuditAction.TERM_VOIDED if term_action is TermAction.VOID else AuditAction.TERM_SHORTENED,
                     actor=actor, chapter_id=term.member.home_chapter_id, member_id=term.member_id,
                     summary=f"{term.membership_type.name} term {'voided' if term_action is TermAction.VOID else 'shortened'} "
                             f"by the refund of {payment.order.reference}",
                     before=before, after={"ends_on": term.ends_on, "voided": term.voided_at is not None})
    db.session.flush()
    from chapter.treasury import services as ledger

    ledger.record_refund(refund, day=day)
    return refund


# --- Reading --------------------------------------------------------------------------------

def can_see_payment(payment: Payment, user: User, roles: Roles) -> bool:
    """The payer, staff, or a treasurer of the payment's chapter."""
    return can_pay(payment.order, user) or can_refund(payment, roles) or (
        payment.order.organization is not None and payment.order.organization.contact_user_id == user.id)


def member_payments(member: Member) -> list[Payment]:
    """A member's payments, newest first (dates, amounts, status: never card data beyond brand and last 4)."""
    return db.session.scalars(
        sa.select(Payment).join(Order).where(Order.member_id == member.id).order_by(Payment.id.desc())
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
