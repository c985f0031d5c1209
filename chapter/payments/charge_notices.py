"""The notice before an automatic charge (DOMAIN.md: some jurisdictions require notice before a recurring
charge): 7 days before automatic renewal charges a member's saved card, an e-mail names the amount, the day
and the card. Sent once per renewal (a RenewalReminder of kind "charge_notice" for the term, claimed before
sending), through the outbox, by `renewals run` (send_reminders) and the daily job.

Automatic renewal charges a member `DEFAULT_WITHIN_DAYS` (14) days before the membership ends, so the
notice goes out from 21 days before the end; a run missed on that day still sends it before the charge.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from chapter.core.links import public_url
from chapter.core.mail import send_mail
from chapter.core.models import FOREVER
from chapter.extensions import db
from chapter.members.models import Member, MembershipKind, MembershipType
from chapter.payments.models import RenewalReminder

log = logging.getLogger(__name__)

KIND = "charge_notice"
NOTICE_DAYS_BEFORE_CHARGE = 7


@dataclass(frozen=True)
class ChargeNotice:
    """What the member is told: the amount, the day of the charge, the card."""

    member_id: int
    member_number: str
    email: str | None
    first_name: str
    paid_through: date
    type_name: str
    amount_cents: int
    currency: str
    card_brand: str | None
    card_last4: str | None
    charge_on: date


def charge_day(paid_through: date) -> date:
    """The day automatic renewal charges the saved card for the term ending `paid_through`."""
    from chapter.payments.renewals import DEFAULT_WITHIN_DAYS

    return paid_through - timedelta(days=DEFAULT_WITHIN_DAYS)


def _due(day: date) -> sa.Select:
    """Members with automatic renewal on and a saved card, charged within the next 7 days, not yet told."""
    from chapter.payments.renewals import DEFAULT_WITHIN_DAYS

    already_sent = sa.exists().where(RenewalReminder.member_id == Member.id, RenewalReminder.kind == KIND,
                                     RenewalReminder.term_ends_on == Member.paid_through)
    first = day + timedelta(days=DEFAULT_WITHIN_DAYS + 1)
    return (sa.select(Member.id, Member.member_number, Member.email, Member.first_name, Member.paid_through,
                      MembershipType.name, MembershipType.renewal_price_cents, MembershipType.currency,
                      Member.saved_card_brand, Member.saved_card_last4)
            .join(MembershipType, MembershipType.id == Member.current_type_id)
            .where(Member.auto_renew.is_(True), Member.saved_payment_method_id.is_not(None),
                   Member.paid_through.between(first, first + timedelta(days=NOTICE_DAYS_BEFORE_CHARGE - 1)),
                   Member.paid_through != FOREVER, MembershipType.is_invoiced.is_(True),
                   MembershipType.kind != MembershipKind.CORPORATE_SEAT, ~already_sent)
            .order_by(Member.id))


def send_charge_notices(day: date, summary) -> None:
    """E-mail the notices due on `day` (summary: renewals.ReminderSummary), each once per renewal."""
    from chapter.payments.renewals import MemberError, link_context

    for row in db.session.execute(_due(day)).all():
        notice = ChargeNotice(*row, charge_on=charge_day(row.paid_through))
        if not notice.email:
            summary.skipped += 1
            continue
        db.session.add(RenewalReminder(member_id=notice.member_id, term_ends_on=notice.paid_through, kind=KIND))
        try:
            db.session.flush()  # the claim: a parallel run's insert waits for it, then fails
        except IntegrityError:
            db.session.rollback()
            continue
        try:
            with link_context():
                send_mail(notice.email, f"We will charge your card on {notice.charge_on.day} {notice.charge_on:%b %Y}",
                          "auto_charge_notice", notice=notice, auto_renew_link=public_url("members.auto_renew"))
        except (smtplib.SMTPException, OSError) as error:
            db.session.rollback()  # not queued: the next run tries again
            log.warning("charge notice to member %s not sent: %s", notice.member_number, error)
            summary.errors.append(MemberError(notice.member_number, f"charge notice not sent: {error}"))
            continue
        db.session.commit()
        summary.sent[KIND] += 1
