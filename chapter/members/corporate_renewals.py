"""Corporate renewals go to the company contact: reminders 60, 30 and 7 days before the organization's term
ends, automatic renewal with the organization's saved card, and a notice when the membership lapses.

Also the rule that seats are not transferable during a term: a seat freed during a term cannot be given
to someone else until the organization renews, unless staff override it with a reason (logged).
Each notice is claimed by a unique row (organization, term end, kind), so a second run sends nothing.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.mail import send_mail
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.members.models import CorporateMembership, CorporateSeat, Organization
from chapter.core.links import public_url

if TYPE_CHECKING:
    from chapter.auth.models import User

log = logging.getLogger(__name__)

# Days left until the organization's term ends, (more than, at most), for each reminder; a missed run
# still sends it late, inside the window. The lapse notice goes once grace is over, up to LATE_DAYS late.
BEFORE_END = {"60_days": (30, 60), "30_days": (7, 30), "7_days": (0, 7)}
LATE_DAYS = 7
AUTO_RENEW_WITHIN_DAYS = 14
CHARGE_NOTICE_DAYS = 7  # the contact is told this many days before automatic renewal charges the card


class CorporateNotice(db.Model):
    """A reminder, lapse notice or automatic-renewal attempt for one organization's term: once each."""

    __tablename__ = "corporate_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True, nullable=False)
    term_ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # 60_days, 30_days, 7_days, lapsed, auto_renew, charge_notice
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    outcome: Mapped[str | None] = mapped_column(sa.String(300))

    __table_args__ = (sa.UniqueConstraint("organization_id", "term_ends_on", "kind", name="uq_corporate_notices_once"),)


@dataclass
class CorporateRunSummary:
    """What a run did: notices sent by kind, organizations renewed or not, errors."""

    sent: Counter = field(default_factory=Counter)
    renewed: int = 0
    failed: int = 0
    waiting_for_notice: int = 0  # automatic renewal not charged yet: the charge notice is not 7 days old
    errors: list[str] = field(default_factory=list)


def _latest_terms() -> list[CorporateMembership]:
    """Each organization's corporate membership that ends last (one query)."""
    latest_end = (sa.select(CorporateMembership.organization_id, sa.func.max(CorporateMembership.ends_on).label("ends_on"))
                  .group_by(CorporateMembership.organization_id).subquery())
    rows = db.session.scalars(sa.select(CorporateMembership).join(latest_end, sa.and_(
        CorporateMembership.organization_id == latest_end.c.organization_id,
        CorporateMembership.ends_on == latest_end.c.ends_on)).order_by(CorporateMembership.organization_id,
                                                                       CorporateMembership.id.desc())).all()
    seen, latest = set(), []
    for corporate in rows:
        if corporate.organization_id not in seen:
            seen.add(corporate.organization_id)
            latest.append(corporate)
    return latest


def notice_due(corporate: CorporateMembership, day: date) -> str | None:
    """The notice due on `day` for an organization's latest term, if any."""
    days_left = (corporate.ends_on - day).days
    for kind, (more_than, at_most) in BEFORE_END.items():
        if more_than < days_left <= at_most or (kind == "7_days" and days_left == 0):
            return kind
    grace_ends = corporate.ends_on + timedelta(days=corporate.membership_type.grace_days)
    if grace_ends < day <= grace_ends + timedelta(days=LATE_DAYS):
        return "lapsed"
    return None


def _recipient(organization: Organization) -> str | None:
    return organization.billing_email or (organization.contact_user.email if organization.contact_user else None)


def _claim(organization_id: int, term_ends_on: date, kind: str, sent_at: datetime | None = None) -> CorporateNotice | None:
    notice = CorporateNotice(organization_id=organization_id, term_ends_on=term_ends_on, kind=kind,
                             sent_at=sent_at or utcnow())
    db.session.add(notice)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return notice


def send_corporate_notices(day: date) -> CorporateRunSummary:
    """E-mail the company contacts the reminders and lapse notices due on `day`, each once per term."""
    from chapter.payments.renewals import link_context

    summary = CorporateRunSummary()
    for corporate in _latest_terms():
        kind = notice_due(corporate, day)
        organization = corporate.organization
        to = _recipient(organization)
        if kind is None or to is None:
            continue
        if _claim(organization.id, corporate.ends_on, kind) is None:
            continue
        with link_context():  # the mail is an outbox row: it commits with its claim, the worker delivers it
            send_mail(to, _subject(kind, organization, corporate), "corporate_renewal", kind=kind,
                      organization=organization, corporate=corporate, day=day,
                      days_left=(corporate.ends_on - day).days,
                      grace_ends_on=corporate.ends_on + timedelta(days=corporate.membership_type.grace_days),
                      amount_cents=corporate.seats * corporate.membership_type.renewal_price_cents,
                      link=public_url("members.organization_dashboard", organization_id=organization.id))
        db.session.commit()
        summary.sent[kind] += 1
    _send_charge_notices(day, summary)
    return summary


def charge_day(corporate: CorporateMembership, told_on: date | None = None) -> date:
    """The day automatic renewal charges the organization's card for the term `corporate`: 14 days before the
    end, or 7 days after the charge notice sent on `told_on` if that is later."""
    default = corporate.ends_on - timedelta(days=AUTO_RENEW_WITHIN_DAYS)
    return max(default, told_on + timedelta(days=CHARGE_NOTICE_DAYS)) if told_on else default


def _told_on() -> dict[tuple[int, date], date]:
    """The day each organization's term was sent its charge notice (one query)."""
    rows = db.session.execute(sa.select(CorporateNotice.organization_id, CorporateNotice.term_ends_on,
                                        CorporateNotice.sent_at).where(CorporateNotice.kind == "charge_notice"))
    return {(organization_id, ends): sent.date() for organization_id, ends, sent in rows}


def _send_charge_notices(day: date, summary: CorporateRunSummary) -> None:
    """Tell the contact, 7 days before automatic renewal charges the organization's card, the amount, the day
    and the card (once per renewal: a CorporateNotice of kind charge_notice)."""
    from chapter.payments.renewals import link_context, run_moment

    for corporate in _latest_terms():
        organization = corporate.organization
        # Told late (auto-renew turned on within 7 days of the charge day): the charge waits 7 days from
        # today; too late when that falls after the end date (organizations are not charged in grace).
        charge_on = charge_day(corporate, day)
        to = _recipient(organization)
        if not (organization.auto_renew and organization.saved_payment_method_id and to
                and corporate.ends_on - timedelta(days=AUTO_RENEW_WITHIN_DAYS) <= day + timedelta(days=CHARGE_NOTICE_DAYS)
                and charge_on <= corporate.ends_on):
            continue
        if _claim(organization.id, corporate.ends_on, "charge_notice", run_moment(day)) is None:
            continue
        with link_context():  # an outbox row, committed with its claim
            send_mail(to, f"{organization.name}: we will charge your card on {charge_on.day} {charge_on:%b %Y}",
                      "corporate_renewal", kind="charge_notice", organization=organization, corporate=corporate,
                      day=day, days_left=(corporate.ends_on - day).days, charge_on=charge_on,
                      amount_cents=corporate.seats * corporate.membership_type.renewal_price_cents,
                      link=public_url("members.organization_dashboard", organization_id=organization.id))
        db.session.commit()
        summary.sent["charge_notice"] += 1


def _subject(kind: str, organization: Organization, corporate: CorporateMembership) -> str:
    if kind == "lapsed":
        return f"{organization.name}: your corporate membership has lapsed"
    return f"{organization.name}: your corporate membership ends on {corporate.ends_on.day} {corporate.ends_on:%b %Y}"


AWAITING_ANSWER = "charged, awaiting Stripe's answer"


def auto_renew_organizations(day: date, within_days: int = AUTO_RENEW_WITHIN_DAYS) -> CorporateRunSummary:
    """Renew, with the saved card, the organizations with automatic renewal whose term ends within `within_days`.

    One attempt per term (claimed first, so a second run never charges again); a decline is e-mailed to the
    contact, automatic renewal is switched off, and the reminders carry on as for any organization. A charge
    Stripe did not answer stays in flight, and the next run settles it by Stripe's answer, re-sending it
    with the same idempotency key when Stripe never got it (as individual auto-renewal does).
    """
    from chapter.members import corporate as corporate_services
    from chapter.payments import gateway
    from chapter.payments import services as payment_services

    summary = CorporateRunSummary()
    _settle_charges_without_answer(day, summary)
    told = _told_on()
    for corporate in _latest_terms():
        organization = corporate.organization
        days_left = (corporate.ends_on - day).days
        if not (organization.auto_renew and organization.saved_payment_method_id and 0 <= days_left <= within_days):
            continue
        if organization.contact_user is None:
            continue
        told_on = told.get((organization.id, corporate.ends_on))
        if told_on is None or day < told_on + timedelta(days=CHARGE_NOTICE_DAYS):
            summary.waiting_for_notice += 1  # never charged unless told at least 7 days before
            continue
        notice = _claim(organization.id, corporate.ends_on, "auto_renew")
        if notice is None:
            continue
        db.session.commit()  # the claim: no second charge for this term, whatever happens next
        try:
            order = corporate_services.start_corporate_renewal(organization, actor=organization.contact_user, day=day)
            payment = payment_services.open_payment(order, off_session=True, day=day,
                                                    payment_method_id=organization.saved_payment_method_id)
            db.session.commit()  # the payment row (with its key and card) exists before Stripe is called
        except DomainError as error:
            db.session.rollback()
            notice = db.session.get(CorporateNotice, notice.id)
            notice.outcome = f"not charged: {error.message}"[:300]
            db.session.commit()
            summary.errors.append(f"{organization.name}: {notice.outcome}")
            continue
        try:
            result = payment_services.charge_payment(payment)
        except gateway.NoAnswer as error:
            # Stripe may or may not have charged: never "failed"; the next run asks Stripe (or re-sends).
            db.session.rollback()
            payment_services.record_no_answer(payment)
            summary.errors.append(f"{organization.name}: {error}")
        except gateway.GatewayError as error:  # Stripe answered and refused the request itself
            db.session.rollback()
            result = gateway.IntentResult(id=None, status="failed", failure_code="refused", failure_message=str(error))
            payment_services.apply_intent_result(payment, result, day=day)
        else:
            payment_services.apply_intent_result(payment, result, day=day)
        _record_outcome(db.session.get(CorporateNotice, notice.id), corporate, order, payment, day, summary)
    return summary


def _record_outcome(notice: CorporateNotice, corporate: CorporateMembership, order, payment, day: date,
                    summary: CorporateRunSummary) -> None:
    """What Stripe said about the renewal charge: renewed, still awaited, or declined (contact told, auto-renew off)."""
    from chapter.payments.models import IN_FLIGHT, PaymentStatus
    from chapter.payments.renewals import link_context

    organization = corporate.organization
    if payment.status is PaymentStatus.SUCCEEDED:
        notice.outcome = f"renewed, {order.reference}"
        summary.renewed += 1
        db.session.commit()
        return
    if payment.status in IN_FLIGHT:
        notice.outcome = AWAITING_ANSWER
        db.session.commit()
        return
    notice.outcome = f"declined: {payment.failure_message or payment.status.value}"[:300]
    organization.auto_renew = False
    db.session.commit()
    summary.failed += 1
    to = _recipient(organization)
    if to:
        with link_context():
            send_mail(to, f"{organization.name}: automatic renewal failed",
                      "corporate_renewal", kind="auto_renew_failed", organization=organization,
                      corporate=corporate, day=day, days_left=(corporate.ends_on - day).days, reason=notice.outcome,
                      grace_ends_on=corporate.ends_on + timedelta(days=corporate.membership_type.grace_days),
                      amount_cents=order.total_cents,
                      link=public_url("members.organization_dashboard", organization_id=organization.id))
        db.session.commit()  # the mail is an outbox row: delivered by the worker


def _settle_charges_without_answer(day: date, summary: CorporateRunSummary) -> None:
    """Renewal charges an earlier run got no answer for: Stripe's answer settles them; one Stripe never
    got is sent again with its own idempotency key (so it is charged at most once)."""
    from chapter.payments import gateway
    from chapter.payments import services as payment_services
    from chapter.payments.models import IN_FLIGHT, Order, OrderPurpose, Payment

    for notice in db.session.scalars(sa.select(CorporateNotice).where(
            CorporateNotice.kind == "auto_renew", CorporateNotice.outcome == AWAITING_ANSWER)
            .order_by(CorporateNotice.id)).all():
        # The renewal order of that term: the organization's newest, made by the run that claimed the notice.
        order = db.session.scalar(sa.select(Order).where(
            Order.organization_id == notice.organization_id, Order.purpose == OrderPurpose.CORPORATE_RENEWAL,
            Order.covers_from == notice.term_ends_on + timedelta(days=1)).order_by(Order.id.desc()))
        payment = order and db.session.scalar(sa.select(Payment).where(
            Payment.order_id == order.id, Payment.off_session.is_(True)).order_by(Payment.id.desc()))
        corporate = db.session.scalar(sa.select(CorporateMembership).where(
            CorporateMembership.organization_id == notice.organization_id,
            CorporateMembership.ends_on == notice.term_ends_on).order_by(CorporateMembership.id.desc()))
        if payment is None or corporate is None:
            continue
        if payment.status in IN_FLIGHT:
            try:
                payment_services.settle_payment(payment, resend=True)
                db.session.commit()
            except gateway.GatewayError as error:
                db.session.rollback()
                summary.errors.append(f"{corporate.organization.name}: still no answer from Stripe: {error}")
                continue
        _record_outcome(notice, corporate, order, payment, day, summary)


# --- Seats are not transferable during a term ----------------------------------------------------

def seats_taken_this_term(corporate: CorporateMembership) -> int:
    """Seats held now, plus seats freed during the term: a freed seat waits for the renewal."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(CorporateSeat).where(
        CorporateSeat.corporate_membership_id == corporate.id,
        sa.or_(CorporateSeat.released_on.is_(None), CorporateSeat.released_on > corporate.starts_on))) or 0


def check_seat_free(corporate: CorporateMembership, *, actor: User, day: date, override_reason: str | None) -> None:
    """Refuse to name someone to a seat freed during this term, unless staff override it with a reason."""
    from chapter.members.corporate import seats_used

    if seats_used(corporate) >= corporate.seats:
        raise DomainError(f"All {corporate.seats} seats are taken. Add seats, or free one first.")
    if seats_taken_this_term(corporate) < corporate.seats or day < corporate.starts_on:
        return
    reason = (override_reason or "").strip()
    if not actor.is_staff:
        raise DomainError("Seats are not transferable during a term: a seat freed in this term can be given to "
                          f"someone else from the renewal on {corporate.ends_on + timedelta(days=1):%d %b %Y}. "
                          "Add a seat, or ask the association's staff.")
    if not reason:
        raise DomainError("Seats are not transferable during a term: give the reason for this exception.",
                          field="override_reason")
    audit.record("corporate.seat_transfer_override", actor=actor, member_id=None,
                 summary=f"Seat of {corporate.organization.name} given again during the term: {reason}"[:300],
                 after={"reason": reason[:300], "corporate_membership_id": corporate.id})
