"""Renewal reminders and automatic renewal: the daily batch behind `flask --app wsgi renewals run`.

Each service takes the `day` it acts on (tests and the `--date` option control time) and returns a
summary. Unlike the request services, these commit: every member is a unit of work of its own, and
a claim (a RenewalReminder or RenewalAttempt row) must be durable before the e-mail goes out or the
card is charged, so that a second run, a parallel run or a crash mid-run never does it twice.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context
from sqlalchemy.exc import IntegrityError

from chapter.core.errors import DomainError
from chapter.core.mail import send_mail
from chapter.core.models import FOREVER, utcnow
from chapter.core.links import public_url
from chapter.extensions import db
from chapter.members.models import Member, MembershipKind, MembershipType
from chapter.payments import gateway, notifications
from chapter.payments import services as payment_services
from chapter.payments.models import IN_FLIGHT, Order, Payment, PaymentStatus, RenewalAttempt, RenewalReminder

log = logging.getLogger(__name__)

BATCH_SIZE = 500
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
Progress = Callable[[int], None]

# --- Reminders --------------------------------------------------------------------------------

REMINDER_KINDS = ("60_days", "30_days", "7_days", "ended", "grace_ended")
# A reminder whose day was missed (the job did not run) still goes out this many days late.
MISSED_RUN_DAYS = 3
# Days left until the end date, (more than, at most), for the reminders sent before it.
_BEFORE_END = {"60_days": (30, 60), "30_days": (7, 30), "7_days": (0, 7)}

# --- Automatic renewal ------------------------------------------------------------------------

MAX_ATTEMPTS = 3
# Attempt n is made no earlier than this many days after attempt 1.
RETRY_AFTER_DAYS = {2: 3, 3: 7}
DEFAULT_WITHIN_DAYS = 14


@dataclass(frozen=True)
class MemberError:
    """A member the run could not finish with, and why (the run goes on with the others)."""

    member_number: str
    message: str


@dataclass
class ReminderSummary:
    """What send_reminders did: e-mails sent by kind, members skipped (no address), errors."""

    sent: Counter = field(default_factory=Counter)
    skipped: int = 0
    errors: list[MemberError] = field(default_factory=list)

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())


@dataclass
class AutoRenewSummary:
    """What auto_renew did. `due` counts the members charged or (dry run) that would have been."""

    due: int = 0
    charged: int = 0
    failed: int = 0
    switched_off: int = 0
    skipped: int = 0  # retry not due yet, tries used up, renewed meanwhile, a payment already under way
    waiting_for_notice: int = 0  # first charge not allowed yet: the 7-day notice was sent less than 7 days ago
    in_flight: list[str] = field(default_factory=list)  # member numbers with an unsettled attempt
    errors: list[MemberError] = field(default_factory=list)


def run_moment(day: date) -> datetime:
    """The run's clock: `day` at the current time of day (exactly now when `day` is today)."""
    return datetime.combine(day, utcnow().time())


@contextmanager
def link_context() -> Iterator[None]:
    """A request context outside a request, on PUBLIC_BASE_URL (links themselves come from links.public_url)."""
    if has_request_context():
        yield
        return
    base_url = current_app.config.get("PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL
    with current_app.test_request_context(base_url=base_url):
        yield


# --- Reminders --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _ReminderTarget:
    member_id: int
    member_number: str
    email: str | None
    first_name: str
    paid_through: date
    grace_ends_on: date | None
    auto_renew: bool  # on, with a card to charge
    card_brand: str | None
    card_last4: str | None
    type_name: str


def _reminder_window(kind: str, day: date, max_grace_days: int) -> sa.ColumnElement[bool]:
    """The SQL condition for members due the `kind` reminder on `day` (a range on the indexed paid_through)."""
    if kind in _BEFORE_END:
        more_than, at_most = _BEFORE_END[kind]
        return Member.paid_through.between(day + timedelta(days=more_than + 1), day + timedelta(days=at_most))
    if kind == "ended":
        # On the end date, or a few days late; once grace is over, grace_ended is the one to send.
        return sa.and_(Member.paid_through.between(day - timedelta(days=MISSED_RUN_DAYS), day),
                       Member.grace_ends_on >= day)
    if kind == "grace_ended":
        first, last = day - timedelta(days=MISSED_RUN_DAYS + 1), day - timedelta(days=1)
        return sa.and_(Member.paid_through.between(first - timedelta(days=max_grace_days), last),
                       Member.grace_ends_on.between(first, last))
    raise ValueError(kind)


def _reminder_targets(kind: str, day: date, max_grace_days: int) -> sa.Select:
    """Members due the `kind` reminder who have not had it for this term, in member id order."""
    already_sent = sa.exists().where(
        RenewalReminder.member_id == Member.id, RenewalReminder.term_ends_on == Member.paid_through,
        RenewalReminder.kind == kind,
    )
    return (
        sa.select(Member.id, Member.member_number, Member.email, Member.first_name, Member.paid_through,
                  Member.grace_ends_on, sa.and_(Member.auto_renew, Member.saved_payment_method_id.is_not(None)),
                  Member.saved_card_brand, Member.saved_card_last4,
                  MembershipType.name)
        .join(MembershipType, MembershipType.id == Member.current_type_id)
        # Lifetime (FOREVER) and pending (no date) members fall outside every window; a corporate
        # seat is renewed by its organization, not by the person holding it.
        .where(_reminder_window(kind, day, max_grace_days), Member.paid_through != FOREVER,
               MembershipType.kind != MembershipKind.CORPORATE_SEAT, MembershipType.is_invoiced.is_(True), ~already_sent)
        .order_by(Member.id)
    )


def max_grace_days() -> int:
    """The longest grace any membership type gives, in days (how far back the renewal and notice runs look)."""
    return db.session.scalar(sa.select(sa.func.max(MembershipType.grace_days))) or 0


def count_reminders_due(day: date) -> int:
    """How many members send_reminders(day) will look at (for a progress bar)."""
    max_grace = max_grace_days()
    return sum(db.session.scalar(sa.select(sa.func.count()).select_from(_reminder_targets(kind, day, max_grace).subquery()))
               for kind in REMINDER_KINDS)


def send_reminders(day: date, *, progress: Progress | None = None) -> ReminderSummary:
    """E-mail the reminders due on `day` (60, 30 and 7 days before the end, on it, after grace): each once per term."""
    summary = ReminderSummary()
    max_grace = max_grace_days()
    moment = run_moment(day)
    # The windows do not overlap, so a member gets at most one reminder a run: the one for today.
    for kind in REMINDER_KINDS:
        for batch in _batches(_reminder_targets(kind, day, max_grace)):
            for row in batch:
                _send_one_reminder(_ReminderTarget(*row), kind, day, moment, summary)
                if progress:
                    progress(1)
    from chapter.payments import charge_notices  # the notice 7 days before an automatic charge

    charge_notices.send_charge_notices(day, summary)
    return summary


def _batches(statement: sa.Select) -> Iterator[list[sa.Row]]:
    """Rows of `statement` (Member.id first) a batch at a time: the ids in one range scan, then a query per batch.

    Each batch is read again just before it is worked on, so a member a parallel run dealt with
    meanwhile drops out; and the plans stay simple enough to hold when the driver prepares them.
    """
    ids = db.session.scalars(statement.with_only_columns(Member.id)).all()
    for start in range(0, len(ids), BATCH_SIZE):
        rows = db.session.execute(statement.where(Member.id.in_(ids[start:start + BATCH_SIZE]))).all()
        if rows:
            yield rows


def _send_one_reminder(target: _ReminderTarget, kind: str, day: date, moment: datetime, summary: ReminderSummary) -> None:
    """Claim the reminder (the unique row), send it, commit; a claim already there means it was sent."""
    if not target.email:
        summary.skipped += 1
        return
    # The claim is flushed in this member's own transaction (no savepoint: pysqlite would commit on
    # releasing one). A parallel run's claim makes the insert wait for it, then fail: already sent.
    db.session.add(RenewalReminder(member_id=target.member_id, term_ends_on=target.paid_through, kind=kind, sent_at=moment))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return
    # The mail is an outbox row of this same transaction (the worker delivers it, retrying while the mail server
    # is down): the claim and the mail are committed together, so neither exists without the other.
    with link_context():
        send_mail(target.email, _reminder_subject(kind, target, day), "renewal_reminder", kind=kind, member=target,
                  days_left=(target.paid_through - day).days,
                  renew_link=public_url("members.join" if kind == "grace_ended" else "members.renew"),
                  auto_renew_link=public_url("members.auto_renew"))
    db.session.commit()
    summary.sent[kind] += 1


def _reminder_subject(kind: str, target: _ReminderTarget, day: date) -> str:
    if kind == "grace_ended":
        return "Your membership has lapsed"
    if kind == "ended":
        return "Your membership ends today" if target.paid_through == day else \
            f"Your membership ended on {target.paid_through.day} {target.paid_through:%b %Y}"
    return f"Your membership ends on {target.paid_through.day} {target.paid_through:%b %Y}"


# --- Automatic renewal ------------------------------------------------------------------------

def _auto_renew_candidates(day: date, within_days: int, max_grace_days: int) -> sa.Select:
    """Members with auto-renew on and a saved card whose term ends within `within_days` or who are in grace."""
    return (
        sa.select(Member.id, Member.paid_through)
        .join(MembershipType, MembershipType.id == Member.current_type_id)  # honorary and lifetime: never invoiced
        .where(MembershipType.is_invoiced.is_(True), Member.auto_renew.is_(True), Member.saved_payment_method_id.is_not(None),
               Member.paid_through.between(day - timedelta(days=max_grace_days), day + timedelta(days=within_days)),
               Member.paid_through != FOREVER, Member.grace_ends_on >= day)
        .order_by(Member.id)
    )


def count_auto_renew_candidates(day: date, within_days: int = DEFAULT_WITHIN_DAYS) -> int:
    """How many members auto_renew(day) will look at (for a progress bar)."""
    statement = _auto_renew_candidates(day, within_days, max_grace_days())
    return db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))


def next_attempt_number(attempts: list[RenewalAttempt], day: date) -> tuple[int | None, str]:
    """The attempt to make on `day` for one term, or None and why not (renewed, in_flight, used_up, waiting)."""
    if any(a.succeeded for a in attempts):
        return None, "renewed"
    if any(a.succeeded is None for a in attempts):
        return None, "in_flight"
    number = len(attempts) + 1
    if number > MAX_ATTEMPTS:
        return None, "used_up"
    if number > 1:
        first = min(attempts, key=lambda a: a.attempt_number)
        if day < first.attempted_at.date() + timedelta(days=RETRY_AFTER_DAYS[number]):
            return None, "waiting"
    return number, "due"


def auto_renew(day: date, within_days: int = DEFAULT_WITHIN_DAYS, *, dry_run: bool = False,
               progress: Progress | None = None) -> AutoRenewSummary:
    """Charge the saved card of auto-renewing members whose term ends within `within_days`: at most 3 tries a term."""
    summary = AutoRenewSummary()
    moment = run_moment(day)
    if not dry_run:
        payment_services.settle_unsettled()  # web attempts whose answer was lost: Stripe's answer settles them
        db.session.commit()
        _settle_attempts_in_flight(day, summary)
    from chapter.payments import charge_notices

    for batch in _batches(_auto_renew_candidates(day, within_days, max_grace_days())):
        attempts = _attempts_by_term(batch)
        told = charge_notices.told_on({(member_id, ends) for member_id, ends in batch})
        for member_id, term_ends_on in batch:
            number, why = next_attempt_number(attempts.get((member_id, term_ends_on), []), day)
            if number == 1 and not charge_notices.may_charge(told.get((member_id, term_ends_on)), day):
                summary.waiting_for_notice += 1  # never charged unless told at least 7 days before
            elif number is None:
                summary.skipped += 1
                if why == "in_flight":
                    member_number = db.session.scalar(sa.select(Member.member_number).where(Member.id == member_id))
                    log.warning("member %s: the renewal charge for the term ending %s is unsettled; not charging again",
                                member_number, term_ends_on)
                    summary.in_flight.append(member_number)
            elif dry_run:
                summary.due += 1
            else:
                _charge_member(member_id, term_ends_on, number, day, moment, summary)
            if progress:
                progress(1)
    return summary


def _attempts_by_term(batch: list[sa.Row]) -> dict[tuple[int, date], list[RenewalAttempt]]:
    """The attempts already made for the terms in `batch`, in one query."""
    terms = {(member_id, ends) for member_id, ends in batch}
    found: dict[tuple[int, date], list[RenewalAttempt]] = {}
    for attempt in db.session.scalars(sa.select(RenewalAttempt).where(
            RenewalAttempt.member_id.in_([member_id for member_id, _ in terms]))):
        key = (attempt.member_id, attempt.term_ends_on)
        if key in terms:
            found.setdefault(key, []).append(attempt)
    return found


def _charge_member(member_id: int, term_ends_on: date, number: int, day: date, moment: datetime,
                   summary: AutoRenewSummary) -> None:
    """One attempt: claim it (committed), open the renewal order and payment (committed), charge, record."""
    member = db.session.get(Member, member_id)
    if not (member.auto_renew and member.saved_payment_method_id and member.paid_through == term_ends_on):
        summary.skipped += 1  # changed since the batch was read
        return
    member_number = member.member_number
    attempt = RenewalAttempt(member_id=member_id, term_ends_on=term_ends_on, attempt_number=number, attempted_at=moment)
    db.session.add(attempt)
    try:
        db.session.commit()  # the claim: from here on, no run charges this term again until it is settled
    except IntegrityError:
        db.session.rollback()
        log.info("member %s: attempt %s for the term ending %s was claimed by another run", member_number, number, term_ends_on)
        summary.skipped += 1
        return
    try:
        order = payment_services.start_renewal(member, member.current_type, actor=None, day=day)
        attempt.order_id = order.id
        payment = payment_services.open_payment(order, off_session=True, payment_method_id=member.saved_payment_method_id,
                                                day=day)
        db.session.commit()  # the payment row exists before Stripe is called (see charge_payment)
    except payment_services.PaymentInProgress:
        # The member is paying in the browser right now: nothing was charged, so release the claim.
        db.session.rollback()
        db.session.delete(attempt)
        db.session.commit()
        summary.skipped += 1
        return
    except DomainError as error:
        db.session.rollback()
        _record_failure(member, attempt, error.message, day, summary)
        return
    summary.due += 1
    try:
        result = payment_services.charge_payment(payment)
    except gateway.GatewayError as error:
        # No answer: Stripe may or may not have charged. The attempt stays in flight and is not
        # counted: the webhook, or the next run (re-reading, or re-sending the same idempotency key),
        # settles it with Stripe's answer.
        db.session.rollback()
        payment_services.record_no_answer(payment)
        db.session.commit()
        log.warning("member %s: renewal charge of payment %s got no answer: %s", member_number, payment.id, error)
        summary.in_flight.append(member_number)
        summary.errors.append(MemberError(member_number, str(error)))
        return
    fulfilled = payment_services.apply_intent_result(payment, result, day=day)
    if payment.status is PaymentStatus.SUCCEEDED:
        attempt.succeeded = True
        db.session.commit()
        summary.charged += 1
        if fulfilled:
            _send_after(lambda: notifications.send_receipt(payment))
    elif payment.status is PaymentStatus.FAILED:
        _record_failure(member, attempt, payment.failure_message or "The payment was declined.", day, summary)
    else:
        db.session.commit()  # processing: the webhook settles the payment, the next run the attempt
        summary.in_flight.append(member_number)


def _record_failure(member: Member, attempt: RenewalAttempt, message: str, day: date, summary: AutoRenewSummary) -> None:
    """Mark the attempt failed, switch auto-renew off after the last one, commit, and tell the member."""
    attempt.succeeded = False
    attempt.failure_message = message[:500]
    tries_left = MAX_ATTEMPTS - attempt.attempt_number
    if tries_left <= 0:
        member.auto_renew = False  # the member now falls into grace as usual, and may renew by hand
    db.session.commit()
    summary.failed += 1
    if tries_left <= 0:
        summary.switched_off += 1
    if not member.email:
        return
    first_day = db.session.scalar(sa.select(RenewalAttempt.attempted_at).where(
        RenewalAttempt.member_id == member.id, RenewalAttempt.term_ends_on == attempt.term_ends_on,
        RenewalAttempt.attempt_number == 1))
    next_try = (first_day.date() + timedelta(days=RETRY_AFTER_DAYS[attempt.attempt_number + 1])) if tries_left > 0 else None
    # Never before the next run: a settled attempt from an old run would otherwise name a past day.
    next_try = max(next_try, day + timedelta(days=1)) if next_try else None

    def failure_mail():
        send_mail(member.email, "We could not renew your membership automatically", "auto_renew_failed",
                  member=member, attempt=attempt, reason=message, tries_left=tries_left, next_try=next_try,
                  renew_link=public_url("members.renew"),
                  auto_renew_link=public_url("members.auto_renew"))

    def switched_off_mail():
        send_mail(member.email, "Automatic renewal is now off", "auto_renew_off", member=member, tries=MAX_ATTEMPTS,
                  renew_link=public_url("members.renew"),
                  auto_renew_link=public_url("members.auto_renew"))

    _send_after(failure_mail)
    if tries_left <= 0:
        _send_after(switched_off_mail)


def _send_after(send: Callable[[], object]) -> None:
    """Write one e-mail after the money path was committed, and commit it: the mail is an outbox row, delivered
    (and retried while the mail server is down) by the worker, so writing it cannot fail on the mail server."""
    with link_context():
        send()
    db.session.commit()


def _settle_attempts_in_flight(day: date, summary: AutoRenewSummary) -> None:
    """Settle attempts left in flight (no answer from Stripe, or processing) from what the webhook has since recorded."""
    for attempt in db.session.scalars(sa.select(RenewalAttempt).where(
            RenewalAttempt.succeeded.is_(None), RenewalAttempt.order_id.is_not(None)).order_by(RenewalAttempt.id)).all():
        order = db.session.get(Order, attempt.order_id)
        # order_id is committed together with the attempt's payment, and no later attempt exists while
        # this one is in flight: the newest off-session payment of the order is this attempt's.
        payment = db.session.scalar(sa.select(Payment).where(Payment.order_id == order.id, Payment.off_session.is_(True))
                                    .order_by(Payment.id.desc()))
        if payment is not None and payment.status in IN_FLIGHT:
            # Ask Stripe; an attempt that never reached it (Stripe down for that run) is sent again
            # with the same idempotency key, so it is charged at most once and counts as one try.
            try:
                fulfilled = payment_services.settle_payment(payment, resend=True)
                db.session.commit()
            except gateway.GatewayError as error:
                db.session.rollback()
                log.warning("attempt %s: still no answer from Stripe: %s", attempt.id, error)
                continue
            db.session.refresh(order)
            if fulfilled:
                summary.charged += 1
                _send_after(lambda: notifications.send_receipt(payment))
        if order.fulfilled_at is not None:
            attempt.succeeded = True  # the webhook fulfilled it (and sent the receipt)
            db.session.commit()
        elif payment is not None and payment.status is PaymentStatus.FAILED:
            member = db.session.get(Member, attempt.member_id)
            _record_failure(member, attempt, payment.failure_message or "The payment was declined.", day, summary)
