"""Payment attempts: claiming an order for one attempt, charging it at Stripe, applying what Stripe
says, settling attempts whose answer was lost, fulfilling the order exactly once.

Every writer takes the order's row lock first (then the payment's): FOR UPDATE on PostgreSQL, the
database's write lock (BEGIN IMMEDIATE) on SQLite, where FOR UPDATE is a no-op. Services flush; the
caller commits, except that the pay view commits the claimed attempt before calling Stripe.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from chapter.core.errors import DomainError
from chapter.core.models import today, utcnow
from chapter.extensions import db
from chapter.payments import fulfilment, gateway
from chapter.payments.models import (
    IN_FLIGHT, PAID_STATUSES, PAYMENT_TRANSITIONS, Order, OrderStatus, Payment, PaymentStatus, Refund, TermAction,
)

if TYPE_CHECKING:
    from chapter.auth.models import User

log = logging.getLogger(__name__)

# An attempt without Stripe's answer is asked about only after this long: a call still under way
# (another tab, a slow network) ends well before it (gateway.timeouts(): at most ~25 s).
ASK_STRIPE_AFTER = timedelta(minutes=2)
# A 3-D Secure attempt the member left is cancelled at Stripe when they come back after this long.
ABANDONED_AUTHENTICATION_AFTER = timedelta(minutes=5)
NEVER_REACHED = "The payment never reached the payment service; nothing was charged."


class PaymentInProgress(DomainError):
    """Another payment for this order is being processed."""


class PriceChanged(DomainError):
    """The order changed (another tab, a new day's price) since the member saw it."""


# --- Locks ------------------------------------------------------------------------------------

def _take_sqlite_write_lock() -> None:
    """SQLite ignores FOR UPDATE: take the database's write lock now, so writers queue up here.

    pysqlite opens a transaction only at the first write; BEGIN IMMEDIATE opens it with the write
    lock held (a plain read-then-write could deadlock, or let a second writer in between).
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.driver_connection
    if not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")  # waits for another writer up to busy_timeout (chapter/extensions.py)
    # Otherwise a write earlier in this transaction already holds the lock.


def lock_order(order_id: int) -> Order:
    """Re-read an order under a row lock (FOR UPDATE on PostgreSQL; the write lock on SQLite)."""
    _take_sqlite_write_lock()
    return db.session.execute(sa.select(Order).where(Order.id == order_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def lock_payment(payment_id: int) -> Payment:
    """Re-read a payment under a row lock (take the order's lock first: see the module docstring)."""
    _take_sqlite_write_lock()
    return db.session.execute(sa.select(Payment).where(Payment.id == payment_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


# --- States -------------------------------------------------------------------------------------

_STATUS_FROM_STRIPE = {
    "succeeded": PaymentStatus.SUCCEEDED, "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING, "failed": PaymentStatus.FAILED,
    "requires_payment_method": PaymentStatus.FAILED, "canceled": PaymentStatus.CANCELED,
}


def move(payment: Payment, new: PaymentStatus) -> bool:
    """Apply a status change if the transition table allows it; False for a stale or repeated one."""
    if new == payment.status:
        return False
    if new not in PAYMENT_TRANSITIONS[payment.status]:
        log.info("payment %s: ignoring %s -> %s", payment.id, payment.status.value, new.value)
        return False
    payment.status = new
    return True


# --- Who pays, with which customer and card ---------------------------------------------------

def can_pay(order: Order, user: User) -> bool:
    """The member the order is for, the organization's contact person, or the one who placed it."""
    return order.purchaser_id == user.id or (order.member is not None and order.member.user_id == user.id) or (
        order.organization is not None and order.organization.contact_user_id == user.id)


def _payer(order: Order):
    return order.member or order.organization


def stripe_customer_for(order: Order) -> str:
    """The payer's Stripe customer, created once even when two tabs ask at the same moment."""
    payer = _payer(order)
    if payer.stripe_customer_id:
        return payer.stripe_customer_id
    # Lock the payer's row and look again: a second tab waits here, then finds the first tab's customer.
    _take_sqlite_write_lock()
    model = type(payer)
    locked = db.session.execute(sa.select(model).where(model.id == payer.id).with_for_update()
                                .execution_options(populate_existing=True)).scalar_one()
    if locked.stripe_customer_id:
        return locked.stripe_customer_id
    import uuid

    if order.member is not None:
        customer = gateway.ensure_customer(None, email=order.member.email, name=order.member.full_name,
                                           metadata={"member_number": order.member.member_number},
                                           idempotency_key=f"chapter-customer-{uuid.uuid4().hex}")
    else:
        customer = gateway.ensure_customer(None, email=order.organization.billing_email, name=order.organization.name,
                                           metadata={"organization_id": str(order.organization.id)},
                                           idempotency_key=f"chapter-customer-{uuid.uuid4().hex}")
    locked.stripe_customer_id = customer
    db.session.flush()
    return customer


def begin_card_setup(order: Order) -> gateway.IntentResult:
    """A SetupIntent for the card field, made when the member presses Pay (opening the page makes none)."""
    if order.status is not OrderStatus.OPEN:
        raise DomainError("This order is not awaiting payment.")
    customer = stripe_customer_for(order)
    return gateway.create_setup_intent(customer, {"order_id": str(order.id)})


def setup_intent_card(order: Order, setup_intent_id: str) -> gateway.IntentResult:
    """The card the browser saved for this order's payer; refuses a SetupIntent that is not theirs or not done."""
    if not setup_intent_id.startswith("seti_"):
        raise DomainError("Your card was not saved. Please enter it again.")
    result = gateway.retrieve_setup_intent(setup_intent_id)
    if result.status != "succeeded" or not result.payment_method_id:
        raise DomainError("Your card was not saved. Please enter it again.")
    customer = _payer(order).stripe_customer_id
    if not customer or result.customer_id != customer:
        log.warning("order %s: SetupIntent %s belongs to customer %s, not the payer's %s",
                    order.id, setup_intent_id, result.customer_id, customer)
        raise DomainError("This card was not saved for you. Please enter it again.")
    return result


# --- Claiming, charging, settling -----------------------------------------------------------------

def attempt_in_flight(order: Order) -> Payment | None:
    """The order's attempt still waiting for Stripe, if any (a plain read: nothing is asked or changed)."""
    return db.session.scalar(sa.select(Payment).where(Payment.order_id == order.id, Payment.status.in_(IN_FLIGHT)))


def payment_in_flight(order: Order) -> Payment | None:
    """The order's attempt still waiting for Stripe, if any, after asking Stripe about a stale one
    (an answer lost, a 3-D Secure abandoned): only Stripe's answer settles it."""
    payment = attempt_in_flight(order)
    if payment is None:
        return None
    if is_stale(payment):
        try:
            settle_payment(payment)
        except gateway.GatewayError as error:  # still no answer: the attempt keeps the order
            log.warning("payment %s could not be settled yet: %s", payment.id, error)
    return payment if payment.status in IN_FLIGHT else None


def is_stale(payment: Payment, now: datetime | None = None) -> bool:
    """Whether an attempt in flight has waited long enough that Stripe should be asked about it."""
    now = now or utcnow()
    since = payment.updated_at or payment.created_at
    if payment.status is PaymentStatus.REQUIRES_ACTION:
        return since < now - ABANDONED_AUTHENTICATION_AFTER
    return payment.status in IN_FLIGHT and since < now - ASK_STRIPE_AFTER


def open_payment(order: Order, *, off_session: bool = False, payment_method_id: str | None = None,
                 expected_quote: str | None = None, day: date | None = None) -> Payment:
    """Claim the order for one payment attempt of the amount the member saw, at today's price."""
    day = day or today()
    lock_order(order.id)
    if order.status is not OrderStatus.OPEN:
        raise DomainError("This order is already paid or cancelled.")
    if expected_quote is not None and expected_quote != order.quote:
        raise PriceChanged("The price changed: review and pay again.")
    price = fulfilment.price_on(order, day)
    if price is not None and price != order.total_cents:
        raise PriceChanged("The price changed: review and pay again.")
    if order.total_cents <= 0:
        raise DomainError("Nothing to pay on this order.")
    if payment_in_flight(order) is not None:
        raise PaymentInProgress("A payment for this order is already in progress. Wait a moment and reload the page.")
    payer = _payer(order)
    payment = Payment(order_id=order.id, amount_cents=order.total_cents, currency=order.currency,
                      chapter_id=order.chapter_id, off_session=off_session,
                      stripe_customer_id=getattr(payer, "stripe_customer_id", None),
                      stripe_payment_method_id=payment_method_id)
    try:
        with db.session.begin_nested():
            db.session.add(payment)
    except IntegrityError:
        raise PaymentInProgress("A payment for this order is already in progress. Wait a moment and reload the page.")
    return payment


def charge_payment(payment: Payment, *, payment_method_id: str | None = None) -> gateway.IntentResult:
    """Send the charge to Stripe with the attempt's own idempotency key. The caller has committed the
    attempt first, so a crash or a lost answer leaves an attempt that Stripe's answer settles later."""
    order = payment.order
    if payment_method_id:
        payment.stripe_payment_method_id = payment_method_id
    payment.stripe_customer_id = payment.stripe_customer_id or _payer(order).stripe_customer_id
    return gateway.charge(
        customer_id=payment.stripe_customer_id, payment_method_id=payment.stripe_payment_method_id,
        amount_cents=payment.amount_cents, currency=payment.currency, off_session=payment.off_session,
        metadata={"order_id": str(order.id), "payment_id": str(payment.id), "purpose": order.purpose.value,
                  "description": order.description[:450]},
        idempotency_key=payment.idempotency_key or f"chapter-payment-{payment.id}",
    )


def record_no_answer(payment: Payment) -> None:
    """Stripe did not answer the charge: the attempt is unknown (maybe charged), never failed."""
    locked = lock_payment(payment.id)
    move(locked, PaymentStatus.UNKNOWN)
    locked.updated_at = utcnow()
    db.session.flush()


def settle_payment(payment: Payment, *, resend: bool = False) -> bool:
    """Ask Stripe what became of an attempt in flight and apply its answer. True if this fulfilled the order.

    With the intent's id: re-read it (an abandoned 3-D Secure is cancelled first, so it can never
    succeed later). Without it (the answer was lost): look for the intent by its metadata; if Stripe
    has none, `resend` re-sends the create with the attempt's idempotency key (auto-renewal: Stripe
    answers with the original result, or makes the charge that never arrived), otherwise the attempt
    failed without reaching Stripe.
    """
    if payment.status not in IN_FLIGHT:
        return False
    if payment.stripe_payment_intent_id:
        if payment.status is PaymentStatus.REQUIRES_ACTION and is_stale(payment):
            result = gateway.cancel_payment_intent(payment.stripe_payment_intent_id)
        else:
            result = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        return apply_intent_result(payment, result)
    found = gateway.find_payment_intent(payment.stripe_customer_id, payment.id) if payment.stripe_customer_id else None
    if found is not None:
        return apply_intent_result(payment, found)
    if resend and payment.stripe_customer_id and payment.stripe_payment_method_id:
        return apply_intent_result(payment, charge_payment(payment))
    if payment.off_session and payment.stripe_payment_method_id:
        return False  # an automatic renewal Stripe never got: the next renewal run sends it again with its key
    if not is_stale(payment):
        return False  # a call may still be under way: ask again later
    return apply_intent_result(payment, gateway.IntentResult(id=None, status="failed", failure_code="not_reached",
                                                             failure_message=NEVER_REACHED))


def settle_unsettled(*, older_than: timedelta = ASK_STRIPE_AFTER, resend: bool = False, limit: int = 500) -> list[Payment]:
    """Settle every attempt still waiting for Stripe (the daily job and the treasury sync call this)."""
    cutoff = utcnow() - older_than
    ids = db.session.scalars(sa.select(Payment.id).where(
        Payment.status.in_(IN_FLIGHT), sa.func.coalesce(Payment.updated_at, Payment.created_at) < cutoff)
        .order_by(Payment.id).limit(limit)).all()
    settled = []
    for payment_id in ids:
        payment = db.session.get(Payment, payment_id)
        try:
            settle_payment(payment, resend=resend and payment.off_session)
        except gateway.GatewayError as error:
            log.warning("payment %s: still no answer from Stripe: %s", payment_id, error)
            continue
        settled.append(payment)
    return settled


def _stripe_time(timestamp) -> datetime | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).replace(tzinfo=None)


def apply_intent_result(payment: Payment, result: gateway.IntentResult, *, day: date | None = None) -> bool:
    """Record what Stripe said about the payment; fulfil the order on success. True if this call fulfilled it."""
    # Lock the order row before touching the payment: every writer takes the order first, so two
    # tabs or a tab and the webhook queue up instead of deadlocking, and no second charge slips in.
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
    moved = move(payment, new)
    if moved:
        payment.updated_at = utcnow()
    if moved and new in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
        payment.failure_code = result.failure_code or ("canceled" if new is PaymentStatus.CANCELED else "card_declined")
        payment.failure_message = result.failure_message or (
            "The authentication was not completed; the payment was cancelled and nothing was charged."
            if new is PaymentStatus.CANCELED else "The payment was declined.")
    if new is PaymentStatus.SUCCEEDED:
        payment.charged_at = payment.charged_at or _stripe_time(result.charged_at)
    db.session.flush()
    if payment.status is PaymentStatus.SUCCEEDED:
        fulfilled = fulfil_order(payment, day=day)
        if not fulfilled and _paid_by_another_payment(payment):
            refund_duplicate(payment)
        return fulfilled
    return False


def _paid_by_another_payment(payment: Payment) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Payment).where(
        Payment.order_id == payment.order_id, Payment.id != payment.id, Payment.status.in_(PAID_STATUSES),
    )) > 0


def refund_duplicate(payment: Payment) -> Refund | None:
    """A second successful payment for an order already paid: give the money back at once, and tell the payer."""
    from chapter.payments import refunds

    if payment.refundable_cents <= 0 or not payment.stripe_payment_intent_id:
        return None
    log.error("payment %s duplicates an already paid order %s: refunding it", payment.id, payment.order_id)
    key = payment.idempotency_key or f"chapter-payment-{payment.id}"
    result = gateway.refund(payment_intent_id=payment.stripe_payment_intent_id, amount_cents=payment.refundable_cents,
                            metadata={"payment_id": str(payment.id), "reason": "duplicate payment"},
                            idempotency_key=f"{key}-duplicate-refund")
    payment.association_share_cents = payment.order.association_share_cents
    payment.chapter_share_cents = payment.order.chapter_share_cents
    payment.succeeded_at = payment.succeeded_at or utcnow()
    db.session.flush()
    from chapter.treasury import services as ledger  # a duplicate was never fulfilled: its charge is booked here

    ledger.record_payment(payment)
    refund = refunds.record_refund(
        payment, amount_cents=payment.refundable_cents, reason=f"Duplicate payment: {payment.order.reference} was already paid",
        stripe_refund_id=result.id, refunded_at=_stripe_time(result.created), raw=result.raw, touches_order=False)
    from chapter.payments import notifications

    notifications.send_duplicate_refunded(payment, refund)
    return refund


def fulfil_order(payment: Payment, *, day: date | None = None) -> bool:
    """Give the payer what they paid for, exactly once: the first caller to flip fulfilled_at wins."""
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
    fulfilment.fulfil(order, day or payment.succeeded_at.date())
    from chapter.treasury import services as ledger  # the ledger hears of every fulfilled payment

    ledger.record_payment(payment)
    db.session.flush()
    from chapter.payments.published import publish_payment_succeeded

    publish_payment_succeeded(payment)
    return True


def payment_by_intent(payment_intent_id: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.stripe_payment_intent_id == payment_intent_id))


def refresh_payment(payment: Payment) -> bool:
    """Re-read the attempt at Stripe (after 3-D Secure in the browser, or while its answer is awaited) and apply it."""
    if payment.status not in IN_FLIGHT:
        return False
    if not payment.stripe_payment_intent_id:
        if payment.status is PaymentStatus.PENDING and not is_stale(payment):
            return False
        found = gateway.find_payment_intent(payment.stripe_customer_id, payment.id) if payment.stripe_customer_id else None
        if found is None:
            return settle_payment(payment)
        return apply_intent_result(payment, found)
    return apply_intent_result(payment, gateway.retrieve_payment_intent(payment.stripe_payment_intent_id))


def record_offline_payment(order: Order, *, amount_cents: int, received_on: date, reference: str, actor: User) -> Payment:
    """Staff record a cheque or bank transfer against an open order: it is fulfilled, receipted and booked."""
    from chapter.core.errors import NotAllowed
    from chapter.core.money import format_money
    from chapter.payments.models import PaymentMethod

    if not actor.is_staff:
        raise NotAllowed("Only staff record offline payments.")
    lock_order(order.id)
    if order.status is not OrderStatus.OPEN:
        raise DomainError("This order is already paid or cancelled.", field="order_reference")
    if amount_cents != order.total_cents:
        raise DomainError(f"The order is for {format_money(order.total_cents, order.currency)}: record exactly that "
                          "amount (a part payment cannot be recorded).", field="amount_cents")
    if not reference.strip():
        raise DomainError("Give the cheque number or bank reference.", field="reference")
    if payment_in_flight(order) is not None:
        raise PaymentInProgress("A card payment for this order is in progress: wait for it to settle.")
    moment = datetime.combine(received_on, utcnow().time())
    payment = Payment(order_id=order.id, amount_cents=amount_cents, currency=order.currency, chapter_id=order.chapter_id,
                      method=PaymentMethod.OFFLINE, offline_reference=reference.strip()[:100], recorded_by_id=actor.id,
                      status=PaymentStatus.SUCCEEDED, succeeded_at=moment, charged_at=moment)
    db.session.add(payment)
    db.session.flush()
    fulfil_order(payment, day=received_on)
    from chapter.core import audit

    audit.record("payment.offline_recorded", actor=actor, chapter_id=order.chapter_id, member_id=order.member_id,
                 summary=f"Offline payment {amount_cents / 100:.2f} {order.currency} of {order.reference} ({reference.strip()})",
                 after={"payment_id": payment.id, "reference": reference.strip()})
    return payment


__all__ = [
    "ABANDONED_AUTHENTICATION_AFTER", "ASK_STRIPE_AFTER", "PaymentInProgress", "PriceChanged", "TermAction",
    "apply_intent_result", "attempt_in_flight", "begin_card_setup", "can_pay", "charge_payment", "fulfil_order", "is_stale", "lock_order",
    "lock_payment", "move", "open_payment", "payment_by_intent", "payment_in_flight", "record_no_answer",
    "record_offline_payment", "refresh_payment", "refund_duplicate", "settle_payment", "settle_unsettled",
    "setup_intent_card", "stripe_customer_for",
]
