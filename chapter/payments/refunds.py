"""Refunds: made here by staff or treasurers, or found from Stripe's dashboard (sync, charge.refunded).

Two refunds of one payment are serialised by the order and payment row locks and counted with an
SQL increment, so `refunded_cents` always equals the sum of the refund rows and never exceeds the
amount paid. Each refund's chapter part is what the chapter share prorated to the refunded total
comes to, less what earlier refunds gave back: the refund that completes the payment takes the
remainder, and a payment refunded in any number of parts gives back exactly its two shares.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from chapter.chapters.models import Chapter
from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import today, utcnow
from chapter.core.money import format_money
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import MembershipTerm
from chapter.payments import fulfilment, gateway
from chapter.payments.attempts import _stripe_time, lock_order, lock_payment, move
from chapter.payments.models import OrderPurpose, OrderStatus, Payment, PaymentStatus, Refund, TermAction

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.core.permissions import Roles

log = logging.getLogger(__name__)


def can_refund(payment: Payment, roles: Roles) -> bool:
    """Staff, or a treasurer (finance rights) of the chapter the payment was made through."""
    if roles.is_staff:
        return True
    chapter = db.session.get(Chapter, payment.chapter_id) if payment.chapter_id else None
    return chapter is not None and roles.can_view_finances(chapter)


def chapter_part(payment: Payment, amount_cents: int, refunded_before: int, chapter_refunded_before: int) -> int:
    """The chapter's part of a refund of `amount_cents` after `refunded_before` was already given back."""
    if payment.amount_cents <= 0:
        return 0
    # Rounded down until the last part: refunded in full, share * amount // amount is the whole share exactly.
    after = payment.chapter_share_cents * (refunded_before + amount_cents) // payment.amount_cents
    return max(0, min(amount_cents, after - chapter_refunded_before))


def record_refund(payment: Payment, *, amount_cents: int, reason: str, stripe_refund_id: str | None,
                  refunded_at: datetime | None = None, actor: User | None = None,
                  term_action: TermAction = TermAction.KEEP, from_dashboard: bool = False,
                  term_decision_needed: bool = False, raw: str | None = None, touches_order: bool = True) -> Refund:
    """Record money given back at Stripe: the refund row, the SQL increment, statuses, the feature's effect,
    the ledger. The caller holds the order and payment locks."""
    db.session.flush()
    refunded_before, chapter_before = db.session.execute(
        sa.select(Payment.refunded_cents, sa.select(sa.func.coalesce(sa.func.sum(Refund.chapter_share_cents), 0))
                  .where(Refund.payment_id == payment.id).scalar_subquery())
        .where(Payment.id == payment.id)).one()
    if amount_cents <= 0 or refunded_before + amount_cents > payment.amount_cents:
        raise DomainError(f"At most {format_money(payment.amount_cents - refunded_before, payment.currency)} can be refunded.",
                          field="amount_cents")
    part = chapter_part(payment, amount_cents, refunded_before, chapter_before)
    increased = db.session.execute(
        sa.update(Payment).where(Payment.id == payment.id, Payment.refunded_cents + amount_cents <= Payment.amount_cents)
        .values(refunded_cents=Payment.refunded_cents + amount_cents).execution_options(synchronize_session=False)
    ).rowcount
    if increased != 1:
        raise DomainError("This payment was refunded meanwhile: reload the page.", field="amount_cents")
    db.session.refresh(payment, ["refunded_cents"])
    refund = Refund(payment=payment, amount_cents=amount_cents, chapter_share_cents=part,
                    association_share_cents=amount_cents - part, reason=reason.strip()[:500], term_action=term_action,
                    stripe_refund_id=stripe_refund_id, actor_id=actor.id if actor else None, raw=raw,
                    refunded_at=refunded_at or utcnow(), from_dashboard=from_dashboard,
                    term_decision_needed=term_decision_needed)
    db.session.add(refund)
    fully = payment.refunded_cents >= payment.amount_cents
    move(payment, PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED)
    order = payment.order
    if touches_order and order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        order.status = OrderStatus.REFUNDED if fully else OrderStatus.PARTIALLY_REFUNDED
    db.session.flush()
    if touches_order:
        fulfilment.refunded(order, refund, fully)
    from chapter.treasury import services as ledger

    ledger.record_refund(refund)
    db.session.flush()
    from chapter.payments.published import publish_payment_refunded

    publish_payment_refunded(refund)
    return refund


def _term_paid_by(payment: Payment) -> MembershipTerm | None:
    return db.session.scalar(sa.select(MembershipTerm).where(
        MembershipTerm.order_id == payment.order_id, MembershipTerm.voided_at.is_(None)).order_by(MembershipTerm.id.desc()))


def check_refund(payment: Payment, *, amount_cents: int, reason: str, term_action: TermAction,
                 new_term_end: date | None, roles: Roles, day: date | None = None) -> MembershipTerm | None:
    """Raise the reason a refund cannot be made as asked; the term it would change otherwise."""
    day = day or today()
    if not can_refund(payment, roles):
        raise NotAllowed("You may not refund this payment.")
    if amount_cents is None or amount_cents <= 0:
        raise DomainError("Enter an amount above zero.", field="amount_cents")
    if amount_cents > payment.refundable_cents:
        raise DomainError(f"At most {format_money(payment.refundable_cents, payment.currency)} can be refunded.", field="amount_cents")
    if not reason.strip():
        raise DomainError("Say why the money is refunded.", field="reason")
    if term_action is TermAction.KEEP:
        return None
    order = payment.order
    if order.purpose is OrderPurpose.TYPE_CHANGE:
        if term_action is TermAction.SHORTEN:
            raise DomainError("An upgrade's refund keeps or voids the upgrade; the term under it stays as paid.",
                              field="term_action")
        return order.upgraded_term or _term_paid_by(payment)
    term = _term_paid_by(payment)
    if term is None:
        raise DomainError("This payment paid for no membership term to change.", field="term_action")
    if term_action is TermAction.SHORTEN:
        check_new_end(term, new_term_end or day)
    return term


def check_new_end(term: MembershipTerm, end: date) -> None:
    """A shortened term ends inside itself: on its first day at the earliest, the day before its end at the latest."""
    if not (term.starts_on <= end < term.ends_on):
        raise DomainError(f"Choose an end between {term.starts_on:%d %b %Y} and the day before {term.ends_on:%d %b %Y}.",
                          field="new_term_end")


def refund_payment(
    payment: Payment, *, amount_cents: int, reason: str, term_action: TermAction, new_term_end: date | None,
    actor: User, roles: Roles, day: date | None = None,
) -> Refund:
    """Refund part or all of a payment at Stripe, keep the split exact, and shorten or void the term if asked."""
    day = day or today()
    lock_order(payment.order_id)
    payment = lock_payment(payment.id)  # a second refund of this payment waits here, then sees this one
    term = check_refund(payment, amount_cents=amount_cents, reason=reason, term_action=term_action,
                        new_term_end=new_term_end, roles=roles, day=day)
    refund = _refund_at_stripe(payment, amount_cents=amount_cents, reason=reason, actor=actor, term_action=term_action)
    if term is not None:
        _apply_term_action(payment, refund, term, term_action, new_term_end or day, actor)
    db.session.flush()
    from chapter.payments import notifications

    notifications.send_refund_notice(refund)
    return refund


def refund_by_rule(payment: Payment, *, amount_cents: int, reason: str, actor: User | None) -> Refund | None:
    """Give back money a feature's own rule owes (an event's cancellation policy, an event cancelled): the
    feature has checked who asks, so no finance right is required. Same locks, Stripe call, split, ledger
    and notice as refund_payment; at most what is still refundable; nothing when that is zero."""
    lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    amount_cents = min(amount_cents, payment.amount_cents - payment.refunded_cents)
    if amount_cents <= 0 or payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        return None
    refund = _refund_at_stripe(payment, amount_cents=amount_cents, reason=reason, actor=actor)
    db.session.flush()
    from chapter.payments import notifications

    notifications.send_refund_notice(refund)
    return refund


def _refund_at_stripe(payment: Payment, *, amount_cents: int, reason: str, actor: User | None,
                      term_action: TermAction = TermAction.KEEP) -> Refund:
    """The refund at Stripe (its own idempotency key), recorded and audited; the caller holds the locks."""
    key = payment.idempotency_key or f"chapter-payment-{payment.id}"
    result = gateway.refund(
        payment_intent_id=payment.stripe_payment_intent_id, amount_cents=amount_cents,
        metadata={"payment_id": str(payment.id), "reason": reason[:450]},
        idempotency_key=f"{key}-refund-{len(payment.refunds) + 1}-{amount_cents}",
    )
    before = payment.refunded_cents
    refund = record_refund(payment, amount_cents=amount_cents, reason=reason, stripe_refund_id=result.id,
                           refunded_at=_stripe_time(result.created), actor=actor, term_action=term_action, raw=result.raw)
    member = payment.order.member
    audit.record(AuditAction.PAYMENT_REFUNDED, actor=actor, chapter_id=payment.chapter_id,
                 member_id=member.id if member else None,
                 summary=f"Refunded {amount_cents / 100:.2f} {payment.currency} of {payment.order.reference}: {reason.strip()}",
                 before={"refunded_cents": before}, after={"refunded_cents": payment.refunded_cents})
    return refund


def _apply_term_action(payment: Payment, refund: Refund, term: MembershipTerm, term_action: TermAction,
                       new_term_end: date, actor: User) -> None:
    before = {"ends_on": term.ends_on, "voided": term.voided_at is not None}
    order = payment.order
    if order.purpose is OrderPurpose.TYPE_CHANGE:
        from chapter.payments.dues import void_type_change

        changed = void_type_change(order)
        audit.record(AuditAction.TERM_VOIDED, actor=actor, chapter_id=term.member.home_chapter_id, member_id=term.member_id,
                     summary=f"Upgrade {order.reference} voided by its refund; the term under it is kept as paid",
                     before=before, after={"ends_on": term.ends_on, "changed_term": changed.id if changed else None})
        return
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
                         f"by the refund of {order.reference}",
                 before=before, after={"ends_on": term.ends_on, "voided": term.voided_at is not None})


def record_stripe_refund(payment: Payment, *, stripe_refund_id: str, amount_cents: int, created: int | None,
                         metadata: dict | None = None) -> Refund | None:
    """A refund Stripe has that we did not record (made in the dashboard, or ours whose answer was lost):
    the same effects as one made here; dues terms are flagged for a staff decision. Idempotent."""
    lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    if db.session.scalar(sa.select(Refund.id).where(Refund.stripe_refund_id == stripe_refund_id)) is not None:
        return None  # already recorded (ours, or an earlier delivery)
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        log.warning("refund %s at Stripe for payment %s in state %s: not recorded", stripe_refund_id, payment.id,
                    payment.status.value)
        return None
    amount = min(amount_cents, payment.amount_cents - payment.refunded_cents)
    if amount <= 0:
        return None
    ours = (metadata or {}).get("payment_id") == str(payment.id)
    is_dues = fulfilment.is_membership(payment.order)
    refund = record_refund(
        payment, amount_cents=amount, stripe_refund_id=stripe_refund_id, refunded_at=_stripe_time(created),
        reason=(metadata or {}).get("reason") if ours and (metadata or {}).get("reason") else "Refunded in Stripe's dashboard",
        from_dashboard=not ours, term_decision_needed=is_dues, raw=json.dumps(metadata or {}))
    audit.record(AuditAction.PAYMENT_REFUNDED, actor=None, chapter_id=payment.chapter_id, member_id=payment.order.member_id,
                 summary=f"Refund of {amount / 100:.2f} {payment.currency} on {payment.order.reference} found at Stripe"
                         + ("; the membership term awaits a staff decision" if is_dues else ""))
    from chapter.payments import notifications

    notifications.send_refund_notice(refund)
    return refund


def decide_term(refund: Refund, *, term_action: TermAction, new_term_end: date | None, actor: User,
                roles: Roles, day: date | None = None) -> Refund:
    """Staff decide what a dashboard refund does to the membership term it paid for."""
    if not roles.is_staff:
        raise NotAllowed("Only staff decide what a refund does to a term.")
    if not refund.term_decision_needed:
        raise DomainError("This refund needs no decision.")
    day = day or today()
    payment = refund.payment
    if term_action is TermAction.SHORTEN and payment.order.purpose is OrderPurpose.TYPE_CHANGE:
        raise DomainError("An upgrade's refund keeps or voids the upgrade; the term under it stays as paid.",
                          field="term_action")
    if term_action is not TermAction.KEEP:
        term = check_refund(payment, amount_cents=1, reason="decision", term_action=term_action,
                            new_term_end=new_term_end, roles=roles, day=day) if payment.refundable_cents else None
        if term is None:
            term = _term_paid_by(payment) if payment.order.purpose is not OrderPurpose.TYPE_CHANGE else payment.order.upgraded_term
        if term is not None:
            if term_action is TermAction.SHORTEN and payment.order.purpose is not OrderPurpose.TYPE_CHANGE:
                check_new_end(term, new_term_end or day)  # a fully refunded payment skipped check_refund above
            _apply_term_action(payment, refund, term, term_action, new_term_end or day, actor)
    refund.term_action = term_action
    refund.term_decision_needed = False
    db.session.flush()
    return refund
