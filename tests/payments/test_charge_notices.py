"""The e-mail 7 days before an automatic charge (issue 16, DOMAIN.md): it names the amount, the day and the
card; members and company contacts get it once per renewal, through the outbox (the real SMTP server),
with the clock moved day by day (time_machine)."""
from datetime import date, timedelta

import sqlalchemy as sa

from chapter.extensions import db
from chapter.members import corporate_renewals
from chapter.payments import renewals
from chapter.payments.models import RenewalReminder
from tests.conftest import run_jobs, text_of
from tests.payments.test_corporate_renewals import _organization, _term
from tests.payments.test_renewals import _member


def _saved_card(payer, brand="visa", last4="4242"):
    """What paying with "Renew automatically" ticked leaves (no charge is made here, so no Stripe)."""
    payer.auto_renew = True
    payer.saved_payment_method_id = "pm_saved"
    payer.saved_card_brand, payer.saved_card_last4 = brand, last4
    db.session.commit()


def _notices_by_day(clock, smtp_server, first: date, last: date, run) -> dict[date, list]:
    """Run `run(day)` twice on each day, the clock on that day, and deliver the outbox; the charge notices
    delivered, by day (a second run the same day must send nothing more)."""
    sent_on, day = {}, first
    while day <= last:
        clock(day.isoformat())
        before = len(smtp_server)
        run(day)
        run(day)
        run_jobs()
        for message in smtp_server[before:]:
            if "we will charge your card" in message["Subject"].lower():
                sent_on.setdefault(day, []).append(message)
        day += timedelta(days=1)
    return sent_on


def test_a_member_is_told_7_days_before_the_automatic_charge_the_amount_the_day_and_the_card_once(
        app, smtp_server, clock):
    clock("2026-07-01")
    member = _member(ends_on=date(2026, 7, 31))  # automatic renewal charges 14 days before: 17 Jul 2026
    _saved_card(member)
    _member(ends_on=date(2026, 7, 31), email="bo@example.org", first_name="Bo")  # no automatic renewal: no notice
    sent_on = _notices_by_day(clock, smtp_server, date(2026, 7, 1), date(2026, 7, 17), renewals.send_reminders)

    assert list(sent_on) == [date(2026, 7, 10)] and len(sent_on[date(2026, 7, 10)]) == 1
    [notice] = sent_on[date(2026, 7, 10)]
    assert notice["To"] == "ada@example.org" and notice["Subject"] == "We will charge your card on 17 Jul 2026"
    body = text_of(notice)
    assert "On 17 Jul 2026 we will charge $210.00 to your saved Visa ending 4242" in body
    assert "/membership/auto-renew" in body
    assert db.session.scalars(sa.select(RenewalReminder.member_id).where(
        RenewalReminder.kind == "charge_notice")).all() == [member.id]


def test_a_company_contact_is_told_7_days_before_the_automatic_renewal_charge_once(app, smtp_server, clock):
    clock("2026-12-01")
    organization = _organization(billing_email="billing@acme.example")
    _term(organization, date(2026, 1, 1), date(2026, 12, 31))  # charged 14 days before the end: 17 Dec 2026
    _saved_card(organization, last4="4444", brand="mastercard")
    sent_on = _notices_by_day(clock, smtp_server, date(2026, 12, 1), date(2026, 12, 17),
                              corporate_renewals.send_corporate_notices)

    assert list(sent_on) == [date(2026, 12, 10)] and len(sent_on[date(2026, 12, 10)]) == 1
    [notice] = sent_on[date(2026, 12, 10)]
    assert notice["To"] == "billing@acme.example"
    assert notice["Subject"] == "Acme Supply: we will charge your card on 17 Dec 2026"
    body = " ".join(text_of(notice).split())
    assert "On 17 Dec 2026 we will charge $925.00 to the saved Mastercard ending 4444" in body


def _runs_by_day(clock, smtp_server, first: date, last: date):
    """The daily run (charges, then reminders) on each day from `first` to `last`: the notices and the
    members charged, by day."""
    from chapter.payments.models import RenewalAttempt

    notices, charged, day = {}, {}, first
    while day <= last:
        clock(day.isoformat())
        before = len(smtp_server)
        summary = renewals.auto_renew(day)
        renewals.send_reminders(day)
        run_jobs()
        notices.update({day: m["Subject"] for m in smtp_server[before:] if "we will charge" in m["Subject"].lower()})
        if summary.charged:
            charged[day] = summary.charged
        day += timedelta(days=1)
    return notices, charged, db.session.scalars(sa.select(RenewalAttempt)).all()


def test_a_member_who_turns_auto_renew_on_3_days_before_the_charge_day_is_told_and_charged_7_days_later(
        app, stripe_peer, smtp_server, clock):
    from tests.payments.test_renewals import _save_card

    clock("2026-07-14")  # the default charge day of a term ending 31 Jul is 17 Jul: 3 days away
    member = _member(ends_on=date(2026, 7, 31))
    _save_card(stripe_peer, member, told=False)

    notices, charged, attempts = _runs_by_day(clock, smtp_server, date(2026, 7, 14), date(2026, 7, 22))

    assert notices == {date(2026, 7, 14): "We will charge your card on 21 Jul 2026"}
    assert charged == {date(2026, 7, 21): 1}  # not on 17 Jul, nor any day before the notice's day
    assert [a.attempted_at.date() for a in attempts] == [date(2026, 7, 21)]
    body = text_of(next(m for m in smtp_server if m["Subject"] == "We will charge your card on 21 Jul 2026"))
    assert "On 21 Jul 2026 we will charge $210.00" in body


def test_a_member_told_on_time_is_charged_on_the_default_day(app, stripe_peer, smtp_server, clock):
    from tests.payments.test_renewals import _save_card

    clock("2026-07-01")
    member = _member(ends_on=date(2026, 7, 31))
    _save_card(stripe_peer, member, told=False)

    notices, charged, _ = _runs_by_day(clock, smtp_server, date(2026, 7, 9), date(2026, 7, 18))

    assert notices == {date(2026, 7, 10): "We will charge your card on 17 Jul 2026"}
    assert charged == {date(2026, 7, 17): 1}


def test_the_run_counts_members_waiting_for_the_7_day_notice(app, smtp_server, clock):
    clock("2026-07-20")
    member = _member(ends_on=date(2026, 7, 31))
    _saved_card(member)

    summary = renewals.auto_renew(date(2026, 7, 20), dry_run=True)

    assert (summary.due, summary.waiting_for_notice) == (0, 1)


def test_a_member_in_grace_is_told_only_if_the_charge_day_falls_within_grace(app, smtp_server, clock):
    day = clock("2026-07-20")
    soon = _member(ends_on=date(2026, 7, 10), email="soon@example.org")
    _saved_card(soon)
    grace = soon.grace_ends_on - soon.paid_through
    ending = _member(ends_on=day + timedelta(days=3) - grace, email="late@example.org")  # grace ends in 3 days
    _saved_card(ending)

    summary = renewals.send_reminders(day)
    run_jobs()

    assert summary.sent["charge_notice"] == 1
    [notice] = [m for m in smtp_server if "we will charge" in m["Subject"].lower()]
    assert notice["To"] == "soon@example.org" and notice["Subject"] == "We will charge your card on 27 Jul 2026"
    assert renewals.auto_renew(day + timedelta(days=7), dry_run=True).due == 1  # soon; the other has lapsed
