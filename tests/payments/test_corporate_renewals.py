"""Corporate renewals go to the company contact (60/30/7-day reminders, automatic renewal, a lapse notice);
seats are not transferable during a term unless staff override with a reason."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.core.audit import AuditEntry
from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.extensions import db
from chapter.members import corporate, corporate_renewals
from chapter.members.corporate_renewals import CorporateNotice
from chapter.members.models import CorporateMembership
from chapter.payments import gateway
from chapter.payments.models import Order, OrderPurpose
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.payments.helpers import CARD_DECLINED_ON_CHARGE, CARD_OK, confirm_card_setup, told_of_corporate_charge


def _organization(email="carol@example.org", billing_email=None):
    factories.reference_data()
    member = factories.member(status="pending", email=email, with_user=True, first_name="Carol", last_name="Contact")
    organization = corporate.create_organization(name="Acme Supply", actor=member.user, billing_email=billing_email)
    db.session.commit()
    return organization


def _term(organization, starts_on: date, ends_on: date, seats=5) -> CorporateMembership:
    made = CorporateMembership(organization_id=organization.id, membership_type_id=factories.membership_type("corporate_seat").id,
                               seats=seats, starts_on=starts_on, ends_on=ends_on)
    db.session.add(made)
    db.session.commit()
    return made


def test_the_contact_gets_the_60_30_and_7_day_reminders_and_a_lapse_notice_once_each(app, smtp_server):
    organization = _organization(billing_email="billing@acme.example")
    _term(organization, date(2026, 1, 1), date(2026, 12, 31))
    sent_on = {}
    day = date(2026, 10, 1)
    while day <= date(2027, 2, 15):
        before = len(smtp_server)
        corporate_renewals.send_corporate_notices(day)
        assert corporate_renewals.send_corporate_notices(day).sent == {}  # a second run that day sends nothing
        run_jobs()
        for message in smtp_server[before:]:
            sent_on[day] = message
        day += timedelta(days=1)
    # Grace of the corporate seat type is 30 days: it lapses after 2027-01-30.
    assert list(sent_on) == [date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 24), date(2027, 1, 31)]
    assert {m["To"] for m in sent_on.values()} == {"billing@acme.example"}
    subjects = [m["Subject"] for m in sent_on.values()]
    assert subjects[0] == "Acme Supply: your corporate membership ends on 31 Dec 2026"
    assert subjects[-1] == "Acme Supply: your corporate membership has lapsed"
    body = text_of(sent_on[date(2026, 11, 1)])
    assert "in 60 days" in body and "$925.00" in body and "/organizations/" in body
    assert db.session.scalars(sa.select(CorporateNotice.kind).order_by(CorporateNotice.id)).all() == [
        "60_days", "30_days", "7_days", "lapsed"]


def test_a_renewed_organization_gets_no_reminder_for_the_old_term(app, smtp_server):
    organization = _organization()
    _term(organization, date(2026, 1, 1), date(2026, 12, 31))
    _term(organization, date(2027, 1, 1), date(2027, 12, 31))
    corporate_renewals.send_corporate_notices(date(2026, 11, 1))
    corporate_renewals.send_corporate_notices(date(2027, 1, 31))
    run_jobs()
    assert smtp_server == []


def _save_card(stripe_peer, organization, number=CARD_OK):
    customer = gateway.ensure_customer(None, email="carol@example.org", name=organization.name, metadata={})
    setup = gateway.create_setup_intent(customer, {"organization": str(organization.id)})
    confirmed = confirm_card_setup(stripe_peer, setup.id, number)
    organization.stripe_customer_id = customer
    organization.saved_payment_method_id = confirmed["payment_method"]
    organization.saved_card_brand, organization.saved_card_last4 = "visa", number[-4:]
    organization.auto_renew = True
    db.session.commit()


def test_automatic_renewal_renews_every_seat_with_the_organizations_card_once(app, stripe_peer, smtp_server):
    organization = _organization()
    day = today()
    current = _term(organization, day - timedelta(days=355), day + timedelta(days=10))
    _save_card(stripe_peer, organization)
    told_of_corporate_charge(organization, current.ends_on, on=day - timedelta(days=7))
    summary = corporate_renewals.auto_renew_organizations(day)
    assert (summary.renewed, summary.failed, summary.errors) == (1, 0, [])
    db.session.expire_all()
    renewed = corporate.latest_corporate_membership(organization)
    assert renewed.id != current.id and renewed.starts_on == current.ends_on + timedelta(days=1) and renewed.seats == 5
    order = db.session.get(Order, renewed.order_id)
    assert order.purpose is OrderPurpose.CORPORATE_RENEWAL and order.total_cents == 5 * 18500
    assert corporate_renewals.auto_renew_organizations(day).renewed == 0  # the new term ends in a year


def test_a_declined_automatic_renewal_tells_the_contact_and_switches_it_off(app, stripe_peer, smtp_server):
    organization = _organization()
    day = today()
    current = _term(organization, day - timedelta(days=355), day + timedelta(days=10))
    _save_card(stripe_peer, organization, CARD_DECLINED_ON_CHARGE)
    told_of_corporate_charge(organization, current.ends_on, on=day - timedelta(days=7))
    summary = corporate_renewals.auto_renew_organizations(day)
    assert summary.failed == 1 and summary.renewed == 0
    run_jobs()
    db.session.expire_all()
    assert organization.auto_renew is False
    assert smtp_server[-1]["Subject"] == "Acme Supply: automatic renewal failed"
    assert corporate_renewals.auto_renew_organizations(day).failed == 0  # one attempt per term


def test_an_organization_told_late_is_charged_7_days_after_the_notice_and_not_before(app, stripe_peer, smtp_server, clock):
    day = clock("2026-06-01")
    organization = _organization()
    current = _term(organization, date(2025, 6, 1), date(2026, 6, 18))  # default charge day 4 Jun: 3 days away
    _save_card(stripe_peer, organization)
    renewed_on = {}
    while day <= date(2026, 6, 9):
        clock(day.isoformat())
        summary = corporate_renewals.auto_renew_organizations(day)
        corporate_renewals.send_corporate_notices(day)
        if summary.renewed:
            renewed_on[day] = summary.renewed
        day += timedelta(days=1)
    run_jobs()
    [notice] = [m for m in smtp_server if "we will charge" in m["Subject"]]
    assert notice["Subject"] == "Acme Supply: we will charge your card on 8 Jun 2026"
    assert renewed_on == {date(2026, 6, 8): 1}
    assert corporate.latest_corporate_membership(organization).starts_on == current.ends_on + timedelta(days=1)


def test_a_seat_freed_during_the_term_waits_for_the_renewal_unless_staff_override_with_a_reason(app):
    organization = _organization()
    contact = organization.contact_user
    day = date(2026, 6, 1)
    term = _term(organization, date(2026, 1, 1), date(2026, 12, 31), seats=5)
    seats = [corporate.assign_seat(term, actor=contact, first_name="E", last_name=f"N{n}", email=f"e{n}@acme.example",
                                   day=date(2026, 1, 1)).seat for n in range(5)]
    corporate.release_seat(seats[0], actor=contact, day=day)
    with pytest.raises(DomainError, match="not transferable during a term.*01 Jan 2027"):
        corporate.assign_seat(term, actor=contact, first_name="New", last_name="Person", email="new@acme.example", day=day)
    staff = factories.staff()
    with pytest.raises(DomainError, match="give the reason"):
        corporate.assign_seat(term, actor=staff, first_name="New", last_name="Person", email="new@acme.example", day=day)
    assigned = corporate.assign_seat(term, actor=staff, first_name="New", last_name="Person", email="new@acme.example",
                                     day=day, override_reason="Employee died; replacement agreed with the association")
    assert assigned.member.paid_through == date(2026, 12, 31)
    logged = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "corporate.seat_transfer_override"))
    assert "replacement agreed" in logged.summary


def test_a_seat_freed_before_the_renewed_term_starts_is_free_in_it(app):
    organization = _organization()
    contact = organization.contact_user
    this_term = _term(organization, date(2026, 1, 1), date(2026, 12, 31), seats=5)
    seats = [corporate.assign_seat(this_term, actor=contact, first_name="E", last_name=f"N{n}", email=f"e{n}@acme.example",
                                   day=date(2026, 1, 1)).seat for n in range(5)]
    next_term = _term(organization, date(2027, 1, 1), date(2027, 12, 31), seats=5)
    corporate.release_seat(seats[0], actor=contact, day=date(2027, 1, 1))  # leaves at the renewal
    assigned = corporate.assign_seat(next_term, actor=contact, first_name="New", last_name="Person",
                                     email="new@acme.example", day=date(2027, 1, 1))
    assert assigned.member.paid_through == date(2027, 12, 31)


def test_the_corporate_renewals_command_sends_the_notices_due_on_its_date(app, smtp_server):
    organization = _organization()
    _term(organization, date(2026, 1, 1), date(2026, 12, 31))
    result = app.test_cli_runner().invoke(args=["corporate", "renewals", "--date", "2026-11-01", "--no-charge"])
    assert result.exit_code == 0, result.output
    run_jobs()
    assert "Notices: 60_days 1" in result.output and len(smtp_server) == 1


def test_paying_with_renew_automatically_ticked_saves_the_card_for_the_organization(app, client, stripe_peer):
    from tests.payments.helpers import pay_order

    organization = _organization()
    client.login("carol@example.org")
    response = client.submit(f"/organizations/{organization.id}/buy", {"seats": 5})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, stripe_peer, order_id, auto_renew=True).get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert organization.auto_renew and organization.saved_payment_method_id and organization.saved_card_last4 == "4242"
