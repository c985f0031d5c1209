"""The notice before an automatic charge (DOMAIN.md: some jurisdictions require notice before a recurring
charge): 7 days before automatic renewal charges a member's saved card, an e-mail names the amount, the day
and the card. Sent once per renewal (a RenewalReminder of kind "charge_notice" for the term, claimed before
sending), through the outbox, by `renewals run` (send_reminders) and the daily job.

Automatic renewal charges a member `DEFAULT_WITHIN_DAYS` (14) days before the membership ends, so the
notice goes out from 21 days before the end. A member who turns automatic renewal on later (or a run
missed on the day) is told the first run after, and the notice names the day the charge is really made:
the default day or 7 days after the notice, whichever is later. `auto_renew` never makes a term's first
attempt before 7 days have passed since its notice (`told_on`); the retries follow their own schedule.
A member in grace is told only if that day still falls within grace (a lapsed member is never charged
automatically): one whose grace ends sooner lapses as usual and may renew by hand.
"""
from __future__ import annotations

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


def charge_day(paid_through: date, told_on: date | None = None) -> date:
    """The day automatic renewal charges the saved card for the term ending `paid_through`: the default day
    (14 days before the end), or 7 days after the notice sent on `told_on` if that is later."""
    from chapter.payments.renewals import DEFAULT_WITHIN_DAYS

    default = paid_through - timedelta(days=DEFAULT_WITHIN_DAYS)
    if told_on is None:
        return default
    return max(default, told_on + timedelta(days=NOTICE_DAYS_BEFORE_CHARGE))


def told_on(terms: set[tuple[int, date]]) -> dict[tuple[int, date], date]:
    """The day each (member id, term end) in `terms` was sent its charge notice, in one query."""
    if not terms:
        return {}
    rows = db.session.execute(sa.select(RenewalReminder.member_id, RenewalReminder.term_ends_on, RenewalReminder.sent_at)
                              .where(RenewalReminder.kind == KIND,
                                     RenewalReminder.member_id.in_({member_id for member_id, _ in terms})))
    return {(m, t): sent.date() for m, t, sent in rows if (m, t) in terms}


def expected_charge_day(member: Member, day: date) -> date:
    """The day automatic renewal will charge `member` for the current term, as seen on `day` (the dashboard):
    7 days after the notice if it was (or, not sent yet, will be) sent later than 7 days before the default."""
    sent = told_on({(member.id, member.paid_through)}).get((member.id, member.paid_through))
    return charge_day(member.paid_through, sent or day)


def may_charge(notice_day: date | None, day: date) -> bool:
    """Whether a first attempt may be made on `day` for a term told on `notice_day` (at least 7 days before)."""
    return notice_day is not None and day >= notice_day + timedelta(days=NOTICE_DAYS_BEFORE_CHARGE)


def _due(day: date) -> sa.Select:
    """Members with automatic renewal on and a saved card, charged within the next 7 days or in grace, not yet told."""
    from chapter.payments.renewals import DEFAULT_WITHIN_DAYS, max_grace_days

    already_sent = sa.exists().where(RenewalReminder.member_id == Member.id, RenewalReminder.kind == KIND,
                                     RenewalReminder.term_ends_on == Member.paid_through)
    last = day + timedelta(days=DEFAULT_WITHIN_DAYS + NOTICE_DAYS_BEFORE_CHARGE)
    return (sa.select(Member.id, Member.member_number, Member.email, Member.first_name, Member.paid_through,
                      MembershipType.name, MembershipType.renewal_price_cents, MembershipType.currency,
                      Member.saved_card_brand, Member.saved_card_last4, Member.grace_ends_on)
            .join(MembershipType, MembershipType.id == Member.current_type_id)
            .where(Member.auto_renew.is_(True), Member.saved_payment_method_id.is_not(None),
                   Member.paid_through.between(day - timedelta(days=max_grace_days()), last),
                   Member.grace_ends_on >= day,
                   Member.paid_through != FOREVER, MembershipType.is_invoiced.is_(True),
                   MembershipType.kind != MembershipKind.CORPORATE_SEAT, ~already_sent)
            .order_by(Member.id))


def send_charge_notices(day: date, summary) -> None:
    """E-mail the notices due on `day` (summary: renewals.ReminderSummary), each once per renewal."""
    from chapter.payments.renewals import link_context, run_moment

    for *row, grace_ends_on in db.session.execute(_due(day)).all():
        notice = ChargeNotice(*row, charge_on=charge_day(row[4], day))
        if grace_ends_on is not None and notice.charge_on > grace_ends_on:
            continue  # too late to charge before the membership lapses: never charged automatically
        if not notice.email:
            summary.skipped += 1
            continue
        db.session.add(RenewalReminder(member_id=notice.member_id, term_ends_on=notice.paid_through, kind=KIND,
                                       sent_at=run_moment(day)))
        try:
            db.session.flush()  # the claim: a parallel run's insert waits for it, then fails
        except IntegrityError:
            db.session.rollback()
            continue
        with link_context():  # the mail is an outbox row: it commits with its claim, the worker delivers it
            send_mail(notice.email, f"We will charge your card on {notice.charge_on.day} {notice.charge_on:%b %Y}",
                      "auto_charge_notice", notice=notice, auto_renew_link=public_url("members.auto_renew"))
        db.session.commit()
        summary.sent[KIND] += 1
