"""Automatic renewal and renewal reminders (`flask --app wsgi renewals run`), against localstripe and a real SMTP server."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import FOREVER, today
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member, MembershipStatus, MembershipTerm, TermSource
from chapter.payments import gateway, renewals
from chapter.payments.models import Order, Payment, PaymentStatus, RenewalAttempt, RenewalReminder
from chapter.core.models import utcnow
from chapter.jobs.models import MailStatus, OutboxMail
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.payments.helpers import (
    CARD_3DS, CARD_DECLINED_ON_CHARGE, CARD_OK, confirm_card_setup, intent_event, signed_event, stripe_api, told_of_charge,
)



@pytest.fixture
def day0(app) -> date:
    return today()


def _member(*, ends_on: date | None = None, status: str = "active", email: str = "ada@example.org",
            first_name: str = "Ada", **kwargs) -> Member:
    member = factories.member(home=factories.chapter(), status=status, email=email, first_name=first_name, **kwargs)
    if ends_on is not None:
        db.session.execute(sa.update(MembershipTerm).where(MembershipTerm.member_id == member.id).values(ends_on=ends_on))
        member_services.refresh_membership_dates(member)
    db.session.commit()
    return member


def _save_card(stripe_peer: str, member: Member, number: str = CARD_OK, *, told: bool = True) -> str:
    """What paying with "Renew automatically" ticked leaves behind: a customer, a card saved off-session, auto-renew on;
    `told`: and the charge notice for the current term sent 7 days ago, so a charge is allowed today."""
    customer = member.stripe_customer_id or gateway.ensure_customer(
        None, email=member.email, name=member.full_name, metadata={"member_number": member.member_number})
    setup = gateway.create_setup_intent(customer, {"member_number": member.member_number})
    confirmed = confirm_card_setup(stripe_peer, setup.id, number)
    assert confirmed.get("status") == "succeeded", confirmed
    member.stripe_customer_id = customer
    member.saved_payment_method_id = confirmed["payment_method"]
    member.saved_card_brand, member.saved_card_last4 = "visa", number[-4:]
    member.auto_renew = True
    db.session.commit()
    if told and member.paid_through is not None:
        told_of_charge(member, on=today() - timedelta(days=7))
    return member.saved_payment_method_id


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _attempts(member: Member) -> list[RenewalAttempt]:
    return db.session.scalars(sa.select(RenewalAttempt).where(RenewalAttempt.member_id == member.id)
                              .order_by(RenewalAttempt.attempt_number)).all()


def _body(message) -> str:
    return text_of(message)


def auto_renew(*args, **kwargs):
    """renewals.auto_renew, then the worker's real job code delivers the mail it queued."""
    summary = renewals.auto_renew(*args, **kwargs)
    run_jobs()
    return summary


def send_reminders(*args, **kwargs):
    """renewals.send_reminders, then the queued mail is delivered."""
    summary = renewals.send_reminders(*args, **kwargs)
    run_jobs()
    return summary


# --- Automatic renewal ------------------------------------------------------------------------

def test_auto_renew_charges_the_saved_card_and_starts_the_next_term_the_day_after(app, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member)

    summary = auto_renew(day0)

    assert (summary.charged, summary.failed, summary.switched_off) == (1, 0, 0)
    db.session.expire_all()
    newest = db.session.scalar(sa.select(MembershipTerm).order_by(MembershipTerm.id.desc()))
    assert newest.starts_on == day0 + timedelta(days=11) and newest.source is TermSource.PAYMENT
    assert member.paid_through == newest.ends_on and member.auto_renew
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status is PaymentStatus.SUCCEEDED and payment.off_session and payment.amount_cents == 21000
    assert payment.stripe_payment_method_id == member.saved_payment_method_id
    [attempt] = _attempts(member)
    assert attempt.succeeded is True and attempt.attempt_number == 1 and attempt.order_id == payment.order_id
    assert attempt.term_ends_on == day0 + timedelta(days=10)
    [receipt] = smtp_server
    assert receipt["To"] == "ada@example.org" and f"ORD-{payment.order_id:06d}" in receipt["Subject"]
    assert "$210.00" in _body(receipt) and f"http://127.0.0.1:5000/payments/{payment.id}/receipt" in _body(receipt)


def test_a_declined_renewal_is_retried_three_days_later_and_succeeds_with_the_new_card(app, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=12))
    _save_card(stripe_peer, member, CARD_DECLINED_ON_CHARGE)

    first = auto_renew(day0)
    assert (first.charged, first.failed, first.switched_off) == (0, 1, 0)
    [notice] = smtp_server
    assert notice["To"] == "ada@example.org" and notice["Subject"] == "We could not renew your membership automatically"
    text = _body(notice)
    assert "Your card was declined." in text and "2 tries left" in text
    assert f"on or after {(day0 + timedelta(days=3)).day} {day0 + timedelta(days=3):%b %Y}" in text
    assert "http://127.0.0.1:5000/membership/renew" in text and "http://127.0.0.1:5000/membership/auto-renew" in text

    _save_card(stripe_peer, member, CARD_OK)  # the member saves another card
    too_soon = auto_renew(day0 + timedelta(days=1))
    assert (too_soon.charged, too_soon.failed, too_soon.skipped) == (0, 0, 1)
    assert _count(Payment) == 1 and len(smtp_server) == 1

    retry = auto_renew(day0 + timedelta(days=3))
    assert (retry.charged, retry.failed) == (1, 0)
    db.session.expire_all()
    assert [(a.attempt_number, a.succeeded) for a in _attempts(member)] == [(1, False), (2, True)]
    assert _attempts(member)[0].failure_message == "Your card was declined."
    assert member.paid_through > day0 + timedelta(days=300) and member.auto_renew
    assert [p.status for p in db.session.scalars(sa.select(Payment).order_by(Payment.id))] == [
        PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    assert _count(Order) == 1  # the same renewal order, paid on the second try
    assert len(smtp_server) == 2 and smtp_server[1]["Subject"].startswith("Receipt for ORD-")


def test_three_declines_switch_auto_renew_off_and_the_member_falls_into_grace(app, stripe_peer, smtp_server, day0):
    ends = day0 + timedelta(days=10)
    member = _member(ends_on=ends)
    _save_card(stripe_peer, member, CARD_DECLINED_ON_CHARGE)

    summaries = [auto_renew(day0 + timedelta(days=offset)) for offset in (0, 3, 7)]

    assert [(s.charged, s.failed, s.switched_off) for s in summaries] == [(0, 1, 0), (0, 1, 0), (0, 1, 1)]
    db.session.expire_all()
    assert not member.auto_renew and member.paid_through == ends
    assert [(a.attempt_number, a.succeeded) for a in _attempts(member)] == [(1, False), (2, False), (3, False)]
    assert [m["To"] for m in smtp_server] == ["ada@example.org"] * 4
    assert [m["Subject"] for m in smtp_server] == ["We could not renew your membership automatically"] * 3 + [
        "Automatic renewal is now off"]
    bodies = [_body(m) for m in smtp_server]
    assert "2 tries left" in bodies[0] and "1 try left" in bodies[1] and "That was our last try" in bodies[2]
    assert "automatic renewal of your membership is now off" in bodies[3]
    assert "http://127.0.0.1:5000/membership/renew" in bodies[3]
    # Nothing more is tried, and the member lapses into grace as anybody else does.
    later = auto_renew(day0 + timedelta(days=10))
    assert (later.charged, later.failed, later.due) == (0, 0, 0)
    assert _count(Payment) == 3 and len(smtp_server) == 4
    assert member.status_on(ends + timedelta(days=1)) is MembershipStatus.GRACE


def test_a_second_run_on_the_same_day_charges_and_sends_nothing(app, stripe_peer, smtp_server, day0):
    renewing = _member(ends_on=day0 + timedelta(days=5))
    _save_card(stripe_peer, renewing)
    declined = _member(ends_on=day0 + timedelta(days=6), email="bob@example.org", first_name="Bob")
    _save_card(stripe_peer, declined, CARD_DECLINED_ON_CHARGE)

    first = auto_renew(day0)
    assert (first.charged, first.failed) == (1, 1)
    payments, mails, attempts = _count(Payment), len(smtp_server), _count(RenewalAttempt)

    second = auto_renew(day0)
    assert (second.charged, second.failed, second.due) == (0, 0, 0)
    assert (_count(Payment), len(smtp_server), _count(RenewalAttempt)) == (payments, mails, attempts) == (2, 2, 2)


def test_an_attempt_in_flight_is_never_charged_again(app, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member)
    # A run claimed the charge and stopped (crash, time-out): nobody knows whether Stripe charged.
    db.session.add(RenewalAttempt(member_id=member.id, term_ends_on=member.paid_through, attempt_number=1, succeeded=None))
    db.session.commit()

    for offset in (0, 3, 7, 12):
        summary = auto_renew(day0 + timedelta(days=offset))
        assert summary.charged == summary.failed == 0 and summary.in_flight == [member.member_number]

    assert _count(Payment) == 0 and smtp_server == [] and len(_attempts(member)) == 1


def test_an_attempt_that_never_reached_stripe_is_sent_again_by_the_next_run_with_its_key_and_counts_once(
        app, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there: Stripe is down for this run

    summary = auto_renew(day0)

    assert summary.charged == 0 and summary.in_flight == [member.member_number]
    assert summary.errors and summary.errors[0].member_number == member.member_number
    [attempt] = _attempts(member)
    payment = db.session.scalar(sa.select(Payment))
    key = payment.idempotency_key
    assert attempt.succeeded is None and payment.status is PaymentStatus.UNKNOWN  # never "failed"
    # Stripe back the next day: Stripe has no such intent, so the same attempt is sent again with the
    # same idempotency key (real Stripe would answer a repeat with the original result).
    app.config["STRIPE_API_BASE"] = stripe_peer
    settled = auto_renew(day0 + timedelta(days=1))
    db.session.expire_all()
    assert settled.charged == 1 and settled.failed == 0
    [attempt] = _attempts(member)
    assert attempt.succeeded is True and attempt.attempt_number == 1  # our outage did not count as a try
    payment = db.session.scalar(sa.select(Payment))
    assert _count(Payment) == 1 and payment.idempotency_key == key and payment.status is PaymentStatus.SUCCEEDED
    intents = stripe_api(stripe_peer, "/v1/payment_intents", None, method="GET")["data"]
    assert [i["metadata"]["payment_id"] for i in intents] == [str(payment.id)]
    assert member.paid_through > day0 + timedelta(days=300)  # the next term was granted
    assert any(m["Subject"].startswith("Receipt for") for m in smtp_server)


def test_a_failure_reported_for_an_attempt_without_answer_settles_it_and_the_schedule_goes_on(app, client, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    auto_renew(day0)
    [attempt] = _attempts(member)
    payment = db.session.scalar(sa.select(Payment))
    app.config["STRIPE_API_BASE"] = stripe_peer
    # Stripe's signed webhook reports the charge failed (the intent Stripe made while we got no answer
    # names our payment in its metadata): the attempt is settled as a failure, the member told, and
    # the retry schedule goes on.
    intent = {"id": "pi_no_answer_1", "object": "payment_intent", "status": "requires_payment_method",
              "amount": payment.amount_cents, "currency": payment.currency.lower(),
              "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
              "metadata": {"order_id": str(payment.order_id), "payment_id": str(payment.id)}}
    body, signature = signed_event(intent_event("evt_no_answer_failed", intent, "payment_intent.payment_failed"))
    delivered = client.client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature,
                                                                          "Content-Type": "application/json"})
    assert delivered.status_code == 200, delivered.get_data(as_text=True)
    db.session.expire_all()
    assert payment.status is PaymentStatus.FAILED and payment.failure_message == "Your card was declined."
    settled = auto_renew(day0 + timedelta(days=3))
    db.session.expire_all()
    assert settled.failed == 1 and attempt.succeeded is False
    assert settled.charged == 1  # attempt 2: day 3 is three days after attempt 1
    assert [m["Subject"] for m in smtp_server][0] == "We could not renew your membership automatically"


def test_off_session_three_d_secure_counts_as_a_failed_attempt(app, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member, CARD_3DS)

    summary = auto_renew(day0)

    assert (summary.charged, summary.failed) == (0, 1)
    [attempt] = _attempts(member)
    assert attempt.succeeded is False and "authentication" in attempt.failure_message
    assert "authentication" in _body(smtp_server[0])


def test_a_type_no_longer_sold_fails_the_attempt_without_charging(app, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=10), type_code="student")
    _save_card(stripe_peer, member)
    factories.membership_type("student").is_available = False
    db.session.commit()

    summary = auto_renew(day0)

    assert (summary.charged, summary.failed) == (0, 1)
    assert _count(Payment) == 0
    assert _attempts(member)[0].failure_message == "This membership type cannot be bought online."
    assert "cannot be bought online" in _body(smtp_server[0])


def test_only_auto_renewing_members_with_a_card_and_a_term_ending_soon_are_charged(app, stripe_peer, smtp_server, day0):
    soon = _member(ends_on=day0 + timedelta(days=14), email="soon@example.org")
    _save_card(stripe_peer, soon)
    later = _member(ends_on=day0 + timedelta(days=15), email="later@example.org")
    _save_card(stripe_peer, later)
    switched_off = _member(ends_on=day0 + timedelta(days=3), email="off@example.org")
    _save_card(stripe_peer, switched_off)
    switched_off.auto_renew = False
    in_grace = _member(status="grace", email="grace@example.org")  # ended about 10 days ago
    _save_card(stripe_peer, in_grace)
    grace_ended_term = in_grace.paid_through
    lapsed = _member(status="lapsed", email="lapsed@example.org")
    _save_card(stripe_peer, lapsed)
    db.session.commit()

    assert auto_renew(day0, within_days=14, dry_run=True).due == 2
    assert _count(RenewalAttempt) == 0 and _count(Payment) == 0
    summary = auto_renew(day0, within_days=14)

    assert summary.charged == 2
    assert sorted(m["To"] for m in smtp_server) == ["grace@example.org", "soon@example.org"]
    db.session.expire_all()
    grace_term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == in_grace.id)
                                   .order_by(MembershipTerm.id.desc()))
    assert grace_term.starts_on == grace_ended_term + timedelta(days=1)  # continues the ended term without a gap


# --- Reminders --------------------------------------------------------------------------------

def test_each_reminder_is_sent_once_per_term_on_its_day(app, smtp_server, day0):
    ends = day0 + timedelta(days=60)
    member = _member(ends_on=ends)
    _member(status="pending", email="pending@example.org")
    lifetime = _member(email="lifetime@example.org", type_code="lifetime")
    assert lifetime.paid_through == FOREVER

    sent_on = {}
    for offset in range(0, 60 + 30 + 8):
        day = day0 + timedelta(days=offset)
        before = len(smtp_server)
        send_reminders(day)
        assert send_reminders(day).total_sent == 0  # a second run that day sends nothing
        for message in smtp_server[before:]:
            sent_on[day] = message

    grace_ends = ends + timedelta(days=30)
    assert list(sent_on) == [day0, ends - timedelta(days=30), ends - timedelta(days=7), ends, grace_ends + timedelta(days=1)]
    assert all(m["To"] == "ada@example.org" for m in sent_on.values())
    assert db.session.scalars(sa.select(RenewalReminder.kind).order_by(RenewalReminder.id)).all() == [
        "60_days", "30_days", "7_days", "ended", "grace_ended"]
    assert {r.term_ends_on for r in db.session.scalars(sa.select(RenewalReminder))} == {ends}
    sixty, thirty, seven, ended, grace = (sent_on[d] for d in sent_on)
    end_text = f"{ends.day} {ends:%b %Y}"
    assert sixty["Subject"] == f"Your membership ends on {end_text}" and "in 60 days" in _body(sixty)
    assert "in 30 days" in _body(thirty) and "in 7 days" in _body(seven)
    assert "http://127.0.0.1:5000/membership/renew" in _body(sixty)
    assert ended["Subject"] == "Your membership ends today" and f"ends today, {end_text}" in _body(ended)
    assert f"grace period until {grace_ends.day} {grace_ends:%b %Y}" in _body(ended)
    assert grace["Subject"] == "Your membership has lapsed" and "http://127.0.0.1:5000/membership/join" in _body(grace)
    assert member.status_on(grace_ends + timedelta(days=1)) is MembershipStatus.LAPSED


def test_a_renewed_member_gets_the_reminders_of_the_new_term_only(app, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=50))
    assert send_reminders(day0).sent == {"60_days": 1}
    member_services.grant_term(member, member.current_type, starts_on=member.paid_through + timedelta(days=1),
                               source=TermSource.PAYMENT, actor=None)
    db.session.commit()
    new_end = member.paid_through
    assert send_reminders(day0 + timedelta(days=25)).total_sent == 0  # the old 30-day reminder is moot
    assert send_reminders(new_end - timedelta(days=60)).sent == {"60_days": 1}
    assert db.session.scalars(sa.select(RenewalReminder.term_ends_on).order_by(RenewalReminder.id)).all() == [
        day0 + timedelta(days=50), new_end]


def test_a_missed_run_sends_only_the_reminder_whose_window_contains_today(app, smtp_server, day0):
    _member(ends_on=day0 + timedelta(days=5), email="soon@example.org")  # 60 and 30 were never sent
    _member(ends_on=day0 - timedelta(days=33), email="graced@example.org")  # grace ended 3 days ago
    _member(ends_on=day0 - timedelta(days=36), email="long-gone@example.org")  # grace ended 6 days ago
    _member(ends_on=day0 - timedelta(days=2), email="ended@example.org")  # ended two days ago, in grace

    summary = send_reminders(day0)

    assert summary.sent == {"7_days": 1, "grace_ended": 1, "ended": 1}
    assert sorted(m["To"] for m in smtp_server) == ["ended@example.org", "graced@example.org", "soon@example.org"]
    ended = next(m for m in smtp_server if m["To"] == "ended@example.org")
    assert ended["Subject"].startswith("Your membership ended on") and "ended on" in _body(ended)


def test_reminders_reach_every_member_due_whatever_the_batch_size(app, smtp_server, day0, monkeypatch):
    monkeypatch.setattr(renewals, "BATCH_SIZE", 2)
    for n in range(5):
        _member(ends_on=day0 + timedelta(days=40 + n), email=f"m{n}@example.org")

    assert send_reminders(day0).sent == {"60_days": 5}
    assert sorted(m["To"] for m in smtp_server) == [f"m{n}@example.org" for n in range(5)]


def test_reminders_skip_members_without_e_mail_lifetime_pending_and_corporate_seats(app, smtp_server, day0):
    ends = day0 + timedelta(days=45)
    _member(ends_on=ends, email="gone@example.org").email = None  # an address that bounced was removed
    db.session.commit()
    _member(ends_on=ends, email="seat@example.org", type_code="corporate_seat")
    _member(status="pending", email="pending@example.org")
    _member(email="lifetime@example.org", type_code="lifetime")

    summary = send_reminders(day0)

    assert summary.total_sent == 0 and summary.skipped == 1 and smtp_server == []
    assert _count(RenewalReminder) == 0


def test_reminders_tell_an_auto_renewing_member_the_card_will_be_charged(app, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=30))
    _save_card(stripe_peer, member)

    assert send_reminders(day0).sent == {"30_days": 1}
    text = _body(smtp_server[0])
    assert "Automatic renewal is on" in text and "ending 4242" in text and "http://127.0.0.1:5000/membership/auto-renew" in text


def test_a_reminder_queued_while_the_mail_server_is_down_is_delivered_once_it_is_back(app, smtp_server, day0):
    _member(ends_on=day0 + timedelta(days=45))
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 9  # the mail server is down

    # The reminder is claimed and written to the outbox with it: the run itself cannot fail on SMTP.
    down = send_reminders(day0)
    assert down.sent == {"60_days": 1} and down.errors == [] and _count(RenewalReminder) == 1
    assert smtp_server == []
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert mail.status is MailStatus.PENDING and mail.attempts == 1 and "ConnectionRefusedError" in mail.last_error

    app.config["MAIL_PORT"] = port
    assert send_reminders(day0).total_sent == 0  # a second run does not write it again
    run_jobs(now=utcnow() + timedelta(hours=1))  # the retry is due
    assert len(smtp_server) == 1 and smtp_server[0]["Message-ID"] == mail.message_id


# --- The command ------------------------------------------------------------------------------

def test_the_command_charges_reminds_prints_a_summary_and_a_second_run_does_nothing(app, stripe_peer, smtp_server, day0):
    _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, db.session.scalar(sa.select(Member)))
    _member(ends_on=day0 + timedelta(days=40), email="bob@example.org", first_name="Bob")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["renewals", "run", "--date", day0.isoformat()])
    run_jobs()

    assert result.exit_code == 0, result.output
    assert f"Renewals for {day0.isoformat()}" in result.output
    assert "Automatic renewal: 1 charged, 0 failed, 0 switched off, 0 skipped" in result.output
    assert "Reminders: 1 sent (60 days 1, 30 days 0, 7 days 0, ended 0, grace ended 0)" in result.output
    assert sorted(m["To"] for m in smtp_server) == ["ada@example.org", "bob@example.org"]

    again = runner.invoke(args=["renewals", "run", "--date", day0.isoformat()])
    run_jobs()
    assert again.exit_code == 0, again.output
    assert "Automatic renewal: 0 charged" in again.output and "Reminders: 0 sent" in again.output
    db.session.expire_all()
    assert _count(Payment) == 1 and len(smtp_server) == 2


def test_the_command_reports_members_it_could_not_charge_and_exits_non_zero(app, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member)
    _member(ends_on=day0 + timedelta(days=40), email="bob@example.org", first_name="Bob")
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"

    result = app.test_cli_runner().invoke(args=["renewals", "run", "--date", day0.isoformat()])
    run_jobs()

    assert result.exit_code == 1
    assert f"Member {member.member_number}: No answer from the payment service" in result.output
    # The others were processed: the reminders went out (Ada's too: her term still ends in 10 days).
    assert sorted((m["To"], m["Subject"]) for m in smtp_server) == [
        ("ada@example.org", f"Your membership ends on {member.paid_through.day} {member.paid_through:%b %Y}"),
        ("bob@example.org", f"Your membership ends on {(day0 + timedelta(days=40)).day} {day0 + timedelta(days=40):%b %Y}")]


def test_the_command_without_charging_or_reminders(app, stripe_peer, smtp_server, day0):
    _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, db.session.scalar(sa.select(Member)))

    result = app.test_cli_runner().invoke(args=["renewals", "run", "--date", day0.isoformat(), "--no-charge",
                                                "--no-reminders"])
    run_jobs()

    assert result.exit_code == 0, result.output
    assert "Automatic renewal (not charged): 1 due" in result.output and "Reminders" not in result.output
    assert _count(Payment) == 0 and _count(RenewalAttempt) == 0 and smtp_server == []
