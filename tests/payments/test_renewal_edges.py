"""The renewal run at its edges: each reminder window's first and last day, grace shorter than the late-run allowance,
what a reminder says about automatic renewal, the counts the command prints, and automatic renewal's reasons not to
charge (no card, grace over, a payment under way in the browser, a claim taken by a parallel run, a member who
switched it off while the run was going). Against localstripe and a real SMTP server, like tests/payments/test_renewals.py."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from chapter.extensions import db
from chapter.payments import renewals
from chapter.payments.models import Payment, PaymentStatus, RenewalAttempt, RenewalReminder
from tests import factories
from tests.payments.helpers import CARD_3DS, CARD_DECLINED_ON_CHARGE, CARD_OK, intent_event, pay_order, signed_event
from tests.payments.test_renewals import _attempts, _body, _count, _member, _save_card, auto_renew, day0, send_reminders  # noqa: F401

WINDOW_EDGES = {  # days from the run's day to the end of the term: the reminder due that day
    61: None, 60: "60_days", 31: "60_days", 30: "30_days", 8: "30_days", 7: "7_days", 1: "7_days", 0: "ended",
    -3: "ended",  # three days late (the run did not happen): still sent
    -4: None,  # in grace, too late for "ended", grace not over
    -31: "grace_ended", -34: "grace_ended",  # grace (30 days) ended yesterday, and four days ago
    -35: None,  # grace ended five days ago: too late
}


def _reminders_by_member() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for member_id, kind in db.session.execute(sa.select(RenewalReminder.member_id, RenewalReminder.kind)):
        found.setdefault(member_id, []).append(kind)
    return found


# --- Reminders --------------------------------------------------------------------------------

def test_each_reminder_window_opens_and_closes_on_its_day(app, smtp_server, day0):
    members = {offset: _member(ends_on=day0 + timedelta(days=offset), email=f"m{offset + 100}@example.org")
               for offset in WINDOW_EDGES}
    due = renewals.count_reminders_due(day0)
    counted = []

    summary = send_reminders(day0, progress=counted.append)

    sent = _reminders_by_member()
    assert {offset: sent.get(m.id, [None])[0] for offset, m in members.items()} == WINDOW_EDGES
    assert all(len(kinds) == 1 for kinds in sent.values())  # one reminder a member a run
    expected = sum(1 for kind in WINDOW_EDGES.values() if kind)
    assert summary.total_sent == len(smtp_server) == due == sum(counted) == len(counted) == expected
    # The claim says when the run sent it: the run's day (a run for another day, e.g. --date, says that day).
    later = day0 + timedelta(days=20)  # the +61 member is now 41 days before the end, the +31 member 11
    assert send_reminders(later).sent == {"60_days": 1, "30_days": 1}
    claim = db.session.scalar(sa.select(RenewalReminder).where(RenewalReminder.kind == "30_days",
                                                               RenewalReminder.member_id == members[31].id))
    assert claim.sent_at.date() == later


def test_a_short_grace_is_never_told_it_has_a_grace_period_that_already_ended(app, smtp_server, day0):
    """The late-run allowance (3 days) is longer than some types' grace: "ended" goes only while grace lasts,
    "grace_ended" once it is over; a type without grace is told "ends today" on its last day."""
    student = factories.membership_type("student")
    student.grace_days = 1
    no_grace = factories.membership_type("retired")
    no_grace.grace_days = 0
    db.session.commit()
    one_day = _member(ends_on=day0 - timedelta(days=2), email="one-day@example.org", type_code="student")
    none = _member(ends_on=day0, email="no-grace@example.org", type_code="retired")
    assert (one_day.grace_ends_on, none.grace_ends_on) == (day0 - timedelta(days=1), day0)

    summary = send_reminders(day0)

    assert summary.sent == {"grace_ended": 1, "ended": 1}
    assert _reminders_by_member() == {one_day.id: ["grace_ended"], none.id: ["ended"]}
    by_address = {m["To"]: m for m in smtp_server}
    assert by_address["one-day@example.org"]["Subject"] == "Your membership has lapsed"
    assert by_address["no-grace@example.org"]["Subject"] == "Your membership ends today"


def test_one_members_reminder_never_stands_for_anothers_with_the_same_end(app, smtp_server, day0):
    ends = day0 + timedelta(days=45)
    first = _member(ends_on=ends, email="first@example.org")
    assert send_reminders(day0).sent == {"60_days": 1}
    second = _member(ends_on=ends, email="second@example.org")  # joined the next day with the same end date

    assert send_reminders(day0 + timedelta(days=1)).sent == {"60_days": 1}

    assert _reminders_by_member() == {first.id: ["60_days"], second.id: ["60_days"]}
    assert [m["To"] for m in smtp_server] == ["first@example.org", "second@example.org"]


def test_a_reminder_says_automatic_renewal_is_on_only_with_it_switched_on_and_a_card_saved(app, stripe_peer, smtp_server, day0):
    ends = day0 + timedelta(days=30)
    on = _member(ends_on=ends, email="on@example.org", first_name="Grace")
    _save_card(stripe_peer, on)
    off = _member(ends_on=ends, email="off@example.org", first_name="Olu")
    _save_card(stripe_peer, off)
    off.auto_renew = False  # switched off, the card still saved
    no_card = _member(ends_on=ends, email="nocard@example.org", first_name="Nia")
    no_card.auto_renew = True  # asked for, but no card was ever saved
    db.session.commit()

    assert send_reminders(day0).sent == {"30_days": 3}

    bodies = {m["To"]: _body(m) for m in smtp_server}
    assert bodies["on@example.org"].startswith("Hello Grace,")
    assert "Your Professional membership ends on" in bodies["on@example.org"]
    assert "Automatic renewal is on: we will charge your saved Visa ending 4242" in bodies["on@example.org"]
    for address, name in (("off@example.org", "Olu"), ("nocard@example.org", "Nia")):
        assert bodies[address].startswith(f"Hello {name},")
        assert "Automatic renewal is on" not in bodies[address] and "Renew now and lose no days" in bodies[address]


# --- Automatic renewal: who is charged --------------------------------------------------------

def test_automatic_renewal_needs_a_card_and_grace_not_over_and_charges_on_the_last_day_of_grace(
        app, stripe_peer, smtp_server, day0):
    no_card = _member(ends_on=day0 + timedelta(days=5), email="nocard@example.org")
    no_card.auto_renew = True
    student = factories.membership_type("student")
    student.grace_days = 1
    db.session.commit()
    grace_over = _member(ends_on=day0 - timedelta(days=2), email="over@example.org", type_code="student")
    _save_card(stripe_peer, grace_over)
    last_day = _member(ends_on=day0 - timedelta(days=30), email="lastday@example.org")  # grace ends today
    _save_card(stripe_peer, last_day)
    assert last_day.grace_ends_on == day0

    assert renewals.count_auto_renew_candidates(day0) == 1
    assert auto_renew(day0, dry_run=True).due == 1
    summary = auto_renew(day0)

    assert (summary.due, summary.charged, summary.skipped) == (1, 1, 0)
    assert [a.member_id for a in db.session.scalars(sa.select(RenewalAttempt))] == [last_day.id]
    assert [m["To"] for m in smtp_server] == ["lastday@example.org"]


def test_why_an_attempt_is_not_made_is_said_for_each_case(app):
    """next_attempt_number's reasons, which the run counts and logs."""
    moment = datetime(2026, 6, 1, 9, 0)

    def attempt(number, succeeded, days_later=0):
        return RenewalAttempt(attempt_number=number, succeeded=succeeded, attempted_at=moment + timedelta(days=days_later))

    day = moment.date()
    assert renewals.next_attempt_number([], day) == (1, "due")
    assert renewals.next_attempt_number([attempt(1, False), attempt(2, True, 3)], day) == (None, "renewed")
    assert renewals.next_attempt_number([attempt(1, None)], day) == (None, "in_flight")
    assert renewals.next_attempt_number([attempt(1, False)], day + timedelta(days=2)) == (None, "waiting")
    assert renewals.next_attempt_number([attempt(1, False)], day + timedelta(days=3)) == (2, "due")
    assert renewals.next_attempt_number([attempt(2, False, 3), attempt(1, False)], day + timedelta(days=6)) == (None, "waiting")
    assert renewals.next_attempt_number([attempt(2, False, 3), attempt(1, False)], day + timedelta(days=7)) == (3, "due")
    assert renewals.next_attempt_number([attempt(n, False, d) for n, d in ((1, 0), (2, 3), (3, 7))],
                                        day + timedelta(days=30)) == (None, "used_up")


def test_a_payment_under_way_in_the_browser_is_not_charged_again_and_the_claim_is_released(
        app, client, stripe_peer, smtp_server, day0):
    member = _member(ends_on=day0 + timedelta(days=10), with_user=True)
    _save_card(stripe_peer, member)
    # The member renews by hand at the same time: a card asking for 3-D Secure, the prompt still open.
    client.login("ada@example.org")
    response = client.submit("/membership/renew", {"membership_type_id": factories.membership_type("professional").id})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    answer = pay_order(client, stripe_peer, order_id, CARD_3DS)
    assert answer.get_json()["status"] == "requires_action", answer.get_json()

    summary = auto_renew(day0)

    assert (summary.due, summary.charged, summary.failed, summary.skipped) == (0, 0, 0, 1)
    assert _count(RenewalAttempt) == 0  # released: the next run may try once the browser's payment settles
    assert [p.off_session for p in db.session.scalars(sa.select(Payment))] == [False]


def test_the_run_counts_every_member_and_leaves_one_who_switched_off_or_was_claimed_meanwhile(
        app, stripe_peer, smtp_server, day0, caplog):
    """Members are read in batches and each is checked again just before its charge: one who switched automatic
    renewal off after the batch was read, and one whose attempt a parallel run claimed, are skipped (and counted)."""
    charged = [_member(ends_on=day0 + timedelta(days=3 + n), email=f"c{n}@example.org") for n in range(2)]
    switched = _member(ends_on=day0 + timedelta(days=6), email="switched@example.org")
    claimed = _member(ends_on=day0 + timedelta(days=7), email="claimed@example.org")
    waiting = [_member(ends_on=day0 + timedelta(days=8 + n), email=f"w{n}@example.org") for n in range(2)]
    for member in charged + [switched, claimed]:
        _save_card(stripe_peer, member)
    for member in waiting:
        _save_card(stripe_peer, member, told=False)  # not told 7 days ago: not charged yet
    counted = []

    def meanwhile(n):
        counted.append(n)
        if len(counted) == 2:  # after the first two members: one switches it off, a parallel run claims another
            db.session.get(type(switched), switched.id).auto_renew = False
            db.session.add(RenewalAttempt(member_id=claimed.id, term_ends_on=claimed.paid_through, attempt_number=1,
                                          attempted_at=datetime.combine(day0, datetime.min.time())))
            db.session.commit()

    with caplog.at_level(logging.INFO, logger="chapter.payments.renewals"):
        summary = auto_renew(day0, progress=meanwhile)

    assert (summary.due, summary.charged, summary.skipped, summary.waiting_for_notice) == (2, 2, 2, 2)
    assert len(counted) == sum(counted) == 6
    assert sorted(m["To"] for m in smtp_server) == ["c0@example.org", "c1@example.org"]
    assert (f"member {claimed.member_number}: attempt 1 for the term ending {claimed.paid_through} was claimed by "
            "another run") in caplog.messages
    # The attempts made on a run for another day are dated that day (a retry is counted from it).
    later = day0 + timedelta(days=2)
    db.session.get(type(switched), switched.id).auto_renew = True
    db.session.commit()
    assert auto_renew(later).charged == 1
    attempt = db.session.scalar(sa.select(RenewalAttempt).where(RenewalAttempt.member_id == switched.id))
    assert attempt.attempted_at.date() == later


# --- Automatic renewal: what a failure says -----------------------------------------------------

def test_failures_of_two_members_in_one_run_are_both_counted_and_each_told_its_own_next_try(
        app, stripe_peer, smtp_server, day0):
    """Each member's next try is counted from their own first attempt for this term: not another member's, not the
    member's first attempt of an earlier term."""
    ends = day0 + timedelta(days=12)
    early = _member(ends_on=ends, email="early@example.org")
    _save_card(stripe_peer, early, CARD_DECLINED_ON_CHARGE)
    assert auto_renew(day0).failed == 1  # early's first try, on day 0
    late = _member(ends_on=ends, email="late@example.org")
    _save_card(stripe_peer, late, CARD_DECLINED_ON_CHARGE)
    # late's attempt of a year ago, for the term before (renewed then): not this term's first attempt
    db.session.add(RenewalAttempt(member_id=late.id, term_ends_on=ends - timedelta(days=365), attempt_number=1,
                                  attempted_at=datetime.combine(day0 - timedelta(days=365), datetime.min.time()),
                                  succeeded=True))
    db.session.commit()
    del smtp_server[:]

    summary = auto_renew(day0 + timedelta(days=3))  # early's second try, late's first

    assert (summary.failed, summary.switched_off) == (2, 0)
    bodies = {m["To"]: _body(m) for m in smtp_server}
    on = lambda d: f"on or after {d.day} {d:%b %Y}"  # noqa: E731
    assert on(day0 + timedelta(days=7)) in bodies["early@example.org"] and "1 try left" in bodies["early@example.org"]
    assert on(day0 + timedelta(days=6)) in bodies["late@example.org"] and "2 tries left" in bodies["late@example.org"]

    del smtp_server[:]
    third = auto_renew(day0 + timedelta(days=7))  # early's last try, late's second
    fourth = auto_renew(day0 + timedelta(days=10))  # late's last try
    assert (third.failed, third.switched_off, fourth.failed, fourth.switched_off) == (2, 1, 1, 1)
    offs = [m for m in smtp_server if m["Subject"] == "Automatic renewal is now off"]
    assert [m["To"] for m in offs] == ["early@example.org", "late@example.org"]
    text = _body(offs[0])
    assert "after 3 tries" in text and "http://127.0.0.1:5000/membership/auto-renew" in text


def test_two_members_switched_off_in_the_same_run_are_both_counted(app, stripe_peer, smtp_server, day0):
    members = [_member(ends_on=day0 + timedelta(days=12), email=f"d{n}@example.org") for n in range(2)]
    for member in members:
        _save_card(stripe_peer, member, CARD_DECLINED_ON_CHARGE)
    auto_renew(day0)
    auto_renew(day0 + timedelta(days=3))

    last = auto_renew(day0 + timedelta(days=7))

    assert (last.failed, last.switched_off) == (2, 2)


def test_a_failure_settled_days_late_names_the_day_after_the_run_and_the_declines_default_reason(
        app, client, stripe_peer, smtp_server, day0, caplog):
    """An attempt Stripe never answered is settled by a later run from what the webhook recorded: a decline without
    Stripe's message is told ours (the payment's), and the next try is never a day already past."""
    member = _member(ends_on=day0 + timedelta(days=12))
    _save_card(stripe_peer, member)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # Stripe unreachable for this run and the next
    auto_renew(day0)
    payment = db.session.scalar(sa.select(Payment))
    with caplog.at_level(logging.WARNING, logger="chapter.payments.renewals"):
        still = auto_renew(day0 + timedelta(days=1))
    [attempt] = _attempts(member)
    assert still.charged == still.failed == 0 and attempt.succeeded is None
    assert any(m.startswith(f"attempt {attempt.id}: still no answer from Stripe: ") for m in caplog.messages)
    app.config["STRIPE_API_BASE"] = stripe_peer
    intent = {"id": "pi_lost_1", "object": "payment_intent", "status": "requires_payment_method",
              "amount": payment.amount_cents, "currency": payment.currency.lower(), "last_payment_error": None,
              "metadata": {"order_id": str(payment.order_id), "payment_id": str(payment.id)}}
    body, signature = signed_event(intent_event("evt_lost_failed", intent, "payment_intent.payment_failed"))
    assert client.client.post("/stripe/webhook", data=body, headers={
        "Stripe-Signature": signature, "Content-Type": "application/json"}).status_code == 200
    db.session.expire_all()
    assert payment.status is PaymentStatus.FAILED

    late = day0 + timedelta(days=5)  # attempt 2 would have been due on day 3: not in the past
    settled = auto_renew(late, within_days=0)

    assert settled.failed == 1
    db.session.expire_all()
    assert attempt.succeeded is False and attempt.failure_message == payment.failure_message == "The payment was declined."
    notice = next(m for m in smtp_server if m["Subject"] == "We could not renew your membership automatically")
    day_after = late + timedelta(days=1)
    assert f"on or after {day_after.day} {day_after:%b %Y}" in _body(notice)


def test_attempts_settled_in_one_run_are_all_counted_even_after_one_still_unanswered(
        app, client, stripe_peer, smtp_server, day0):
    """Two attempts in flight: Stripe still does not answer for the first; the webhook has meanwhile recorded the
    second's success. The run goes on past the first and settles the second."""
    first = _member(ends_on=day0 + timedelta(days=5), email="first@example.org")
    second = _member(ends_on=day0 + timedelta(days=6), email="second@example.org")
    for member in (first, second):
        _save_card(stripe_peer, member)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    auto_renew(day0)
    payments = db.session.scalars(sa.select(Payment).order_by(Payment.id)).all()
    assert [p.status for p in payments] == [PaymentStatus.UNKNOWN] * 2
    paid = payments[1]
    intent = {"id": "pi_second_ok", "object": "payment_intent", "status": "succeeded", "amount": paid.amount_cents,
              "currency": paid.currency.lower(), "latest_charge": "ch_second_ok",
              "metadata": {"order_id": str(paid.order_id), "payment_id": str(paid.id)}}
    body, signature = signed_event(intent_event("evt_second_ok", intent))
    assert client.client.post("/stripe/webhook", data=body, headers={
        "Stripe-Signature": signature, "Content-Type": "application/json"}).status_code == 200

    run = auto_renew(day0 + timedelta(days=1))

    db.session.expire_all()
    assert [a.succeeded for a in db.session.scalars(sa.select(RenewalAttempt).order_by(RenewalAttempt.member_id))] == [
        None, True]
    assert run.charged == 0  # the webhook fulfilled it (and sent the receipt); the run only settles the attempt


def test_the_in_flight_warning_names_the_member_and_the_term(app, stripe_peer, smtp_server, day0, caplog):
    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member)
    db.session.add(RenewalAttempt(member_id=member.id, term_ends_on=member.paid_through, attempt_number=1, succeeded=None))
    db.session.commit()

    with caplog.at_level(logging.WARNING, logger="chapter.payments.renewals"):
        summary = auto_renew(day0)

    assert summary.in_flight == [member.member_number] and summary.skipped == 1
    assert (f"member {member.member_number}: the renewal charge for the term ending {member.paid_through} is unsettled; "
            "not charging again") in caplog.messages


def test_a_charge_without_answer_is_logged_with_the_member_and_the_payment(app, stripe_peer, smtp_server, day0, caplog):
    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"

    with caplog.at_level(logging.WARNING, logger="chapter.payments.renewals"):
        summary = auto_renew(day0)

    payment = db.session.scalar(sa.select(Payment))
    assert summary.due == 1 and summary.in_flight == [member.member_number]
    assert any(m.startswith(f"member {member.member_number}: renewal charge of payment {payment.id} got no answer: ")
               for m in caplog.messages)


def test_a_renewal_charged_on_a_later_day_is_priced_and_dated_for_that_day(app, stripe_peer, smtp_server, day0):
    """The run for a day other than today (--date, or a run that was late) renews as of that day: a term ending in
    100 days is outside today's renewal window (90 days) but inside that day's."""
    member = _member(ends_on=day0 + timedelta(days=100))
    _save_card(stripe_peer, member)
    from tests.payments.helpers import told_of_charge

    day = day0 + timedelta(days=95)
    told_of_charge(member, on=day - timedelta(days=7))

    summary = auto_renew(day)

    assert (summary.charged, summary.failed) == (1, 0), summary
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status is PaymentStatus.SUCCEEDED
    db.session.expire_all()
    assert member.paid_through > day0 + timedelta(days=400)


def test_every_member_skipped_meanwhile_is_counted_two_of_each_reason(app, stripe_peer, smtp_server, day0):
    """Two members switch automatic renewal off after the batch was read, and a parallel run claims two others: four
    skipped, each counted (not one of each reason)."""
    charged = _member(ends_on=day0 + timedelta(days=3), email="c0@example.org")
    switched = [_member(ends_on=day0 + timedelta(days=4 + n), email=f"s{n}@example.org") for n in range(2)]
    claimed = [_member(ends_on=day0 + timedelta(days=6 + n), email=f"k{n}@example.org") for n in range(2)]
    for member in [charged, *switched, *claimed]:
        _save_card(stripe_peer, member)
    counted = []

    def meanwhile(n):
        counted.append(n)
        if len(counted) == 1:  # after the first member: two switch off, a parallel run claims two others
            for member in switched:
                db.session.get(type(member), member.id).auto_renew = False
            for member in claimed:
                db.session.add(RenewalAttempt(member_id=member.id, term_ends_on=member.paid_through, attempt_number=1,
                                              attempted_at=datetime.combine(day0, datetime.min.time())))
            db.session.commit()

    summary = auto_renew(day0, progress=meanwhile)

    assert (summary.charged, summary.skipped) == (1, 4)


def test_attempts_left_in_flight_are_each_settled_by_their_own_payment_on_the_next_run(
        app, stripe_peer, smtp_server, day0):
    """Stripe was down for the whole run: three attempts in flight. On the next run each is sent again with its own
    payment: two are charged (counted 2), the third is declined and keeps Stripe's own reason."""
    members = [_member(ends_on=day0 + timedelta(days=5 + n), email=f"f{n}@example.org") for n in range(3)]
    for member, card in zip(members, (CARD_OK, CARD_OK, CARD_DECLINED_ON_CHARGE)):
        _save_card(stripe_peer, member, card)
    stripe_base = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    auto_renew(day0)
    app.config["STRIPE_API_BASE"] = stripe_base
    assert [p.status for p in db.session.scalars(sa.select(Payment).order_by(Payment.id))] == [PaymentStatus.UNKNOWN] * 3

    run = auto_renew(day0 + timedelta(days=1))

    db.session.expire_all()
    assert run.charged == 2
    by_member = {a.member_id: a for a in db.session.scalars(sa.select(RenewalAttempt))}
    assert [by_member[m.id].succeeded for m in members] == [True, True, False]
    declined = db.session.scalar(sa.select(Payment).where(Payment.order_id == by_member[members[2].id].order_id))
    assert declined.status is PaymentStatus.FAILED and declined.failure_message
    assert by_member[members[2].id].failure_message == declined.failure_message != "The payment was declined."


def test_two_members_paying_in_the_browser_during_the_run_are_both_skipped_and_counted(
        app, client, stripe_peer, smtp_server, day0):
    members = [_member(ends_on=day0 + timedelta(days=10 + n), email=f"b{n}@example.org", with_user=True)
               for n in range(2)]
    for member in members:
        _save_card(stripe_peer, member)
        client.login(member.email)  # renewing by hand: a card asking for 3-D Secure, the prompt still open
        response = client.submit("/membership/renew", {"membership_type_id": factories.membership_type("professional").id})
        answer = pay_order(client, stripe_peer, int(response.headers["Location"].rsplit("/", 1)[1]), CARD_3DS)
        assert answer.get_json()["status"] == "requires_action", answer.get_json()
        client.logout()

    summary = auto_renew(day0)

    assert (summary.charged, summary.skipped) == (0, 2) and _count(RenewalAttempt) == 0


def test_two_members_without_an_address_and_two_with_a_charge_unsettled_are_each_counted(
        app, stripe_peer, smtp_server, day0):
    """The reminder run counts both members it cannot write to; the charge run counts both members whose earlier charge
    is still unsettled (and lists them)."""
    silent = [_member(ends_on=day0 + timedelta(days=30), email=f"x{n}@example.org") for n in range(2)]
    for member in silent:
        member.email = None
    db.session.commit()
    assert send_reminders(day0).skipped == 2

    unsettled = [_member(ends_on=day0 + timedelta(days=10 + n), email=f"u{n}@example.org") for n in range(2)]
    for member in unsettled:
        _save_card(stripe_peer, member)
        db.session.add(RenewalAttempt(member_id=member.id, term_ends_on=member.paid_through, attempt_number=1,
                                      succeeded=None))
    db.session.commit()
    summary = auto_renew(day0)
    assert summary.skipped == 2 and sorted(summary.in_flight) == sorted(m.member_number for m in unsettled)


def test_a_charge_stripe_answers_processing_is_left_unsettled_and_listed_by_member_number(
        app, stripe_peer, smtp_server, day0, monkeypatch):
    """Stripe answers `processing` (a charge it has not decided yet). localstripe never does: the library's own
    PaymentIntent create runs at localstripe, then its answer says `processing`, as real Stripe's would. The attempt
    stays in flight (the webhook or the next run settles it), nothing is counted as charged or failed, and the run's
    summary, which `flask renewals charge` prints, names the member."""
    from stripe._payment_intent_service import PaymentIntentService

    real_create = PaymentIntentService.create

    def processing(self, *args, **kwargs):
        intent = real_create(self, *args, **kwargs)
        intent["status"] = "processing"
        return intent

    member = _member(ends_on=day0 + timedelta(days=10))
    _save_card(stripe_peer, member)
    monkeypatch.setattr(PaymentIntentService, "create", processing)

    summary = auto_renew(day0)

    [attempt] = _attempts(member)
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status is PaymentStatus.PROCESSING and attempt.succeeded is None
    assert (summary.due, summary.charged, summary.failed) == (1, 0, 0)
    assert summary.in_flight == [member.member_number]
