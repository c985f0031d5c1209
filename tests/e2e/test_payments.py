"""Paying in a real browser: a member renews (good card, declined card, 3-D Secure); a corporate contact
buys seats and names an employee, who then logs in.

The app is served on loopback (`live_server`) and pointed at an emptied localstripe (`stripe_peer`), whose
Stripe.js the payment page loads; the browser talks to localstripe cross-origin, as it would to Stripe.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import today
from chapter.core.templating import format_date
from chapter.extensions import db
from chapter.members.models import MembershipTerm
from chapter.payments.models import Order, OrderStatus, Payment, PaymentStatus
from tests.conftest import run_jobs, text_of
from tests import factories
from tests.factories import DEFAULT_PASSWORD
from tests.payments.helpers import CARD_3DS, CARD_DECLINED_ON_CHARGE, CARD_OK

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

DECLINED = "Your card was declined. Nothing was charged; your membership is unchanged. Try another card."


# --- helpers ----------------------------------------------------------------------------------------

def log_in(page, base_url: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form, as a person would, and wait for the dashboard."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard*")


def renewing_member(email: str = "ada@example.org", days_left: int = 20):
    """An active member with a home chapter whose term ends in `days_left` days: inside the renewal window."""
    from chapter.members.services import refresh_membership_dates

    home = factories.chapter(40, name="Schuylkill Valley")
    member = factories.member(home=home, status="active", email=email, with_user=True, first_name="Ada")
    db.session.flush()
    db.session.execute(sa.update(MembershipTerm).where(MembershipTerm.member_id == member.id)
                       .values(ends_on=today() + timedelta(days=days_left)))
    refresh_membership_dates(member)
    db.session.commit()  # the live server reads it from another connection
    return member


def watch_console(page) -> list[str]:
    """Collect the page's console errors and uncaught exceptions, to explain a failure.

    One is left out: localstripe's Stripe.js declares a top-level `class Element`, which shadows the DOM's
    `Element` for every script on the payment page, so Bootstrap's selector engine
    (`Element.prototype.querySelectorAll.call`) throws there. Real Stripe.js keeps its names to itself.
    """
    seen: list[str] = []

    def on_console(message):
        if message.type == "error":
            seen.append(f"console: {message.text} ({message.location.get('url')})")

    def on_error(error):
        stack = error.stack or ""
        if "reading 'call'" in str(error) and "bootstrap.bundle" in stack and "/pay/" in page.url:
            return  # the shadowed Element above
        seen.append(f"pageerror at {page.url}: {error}\n{stack}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    return seen


def open_renewal_payment(page) -> int:
    """From the dashboard: Renew, choose Professional, continue to the payment page; returns the order id."""
    page.get_by_role("link", name="Renew", exact=True).click()
    page.get_by_role("radio", name=re.compile(r"^Professional\b")).check()
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/pay/\d+$"))
    expect(page.get_by_test_id("order-total")).to_have_text("$210.00")
    return int(page.url.rsplit("/", 1)[1])


def enter_card(page, number: str) -> None:
    """Type a card into the card field (localstripe's fake Element: plain inputs with placeholders)."""
    field = page.locator("#card-element")
    expect(field.get_by_placeholder("number")).to_be_visible()
    field.get_by_placeholder("number").fill(number)
    field.get_by_placeholder("exp_month").fill("12")
    field.get_by_placeholder("exp_year").fill("34")  # the Element prepends "20"
    field.get_by_placeholder("cvc").fill("123")
    field.get_by_placeholder("postal_code").fill("19601")


def complete_authentication(page) -> None:
    """Answer the bank's 3-D Secure challenge (localstripe's modal) with success."""
    button = page.get_by_role("button", name="Complete authentication")
    expect(button).to_be_visible()
    button.click()
    expect(button).to_have_count(0)


def next_term_end(member) -> str:
    """The end date a 12-month renewal gives, as the pages print it."""
    from chapter.members.services import add_months

    starts = member.paid_through + timedelta(days=1)
    return format_date(add_months(starts, 12) - timedelta(days=1))


def terms_of(member) -> list[MembershipTerm]:
    return db.session.scalars(sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id)
                              .order_by(MembershipTerm.starts_on)).all()


def payments_of(order_id: int) -> list[Payment]:
    return db.session.scalars(sa.select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)).all()


def assert_renewed_once(member, order_id: int, ends_before) -> None:
    """One new term, starting the day after the old one ended, and one succeeded payment."""
    db.session.expire_all()
    terms = terms_of(member)
    assert len(terms) == 2, terms
    assert terms[-1].starts_on == ends_before + timedelta(days=1)
    assert member.paid_through == terms[-1].ends_on
    payments = payments_of(order_id)
    assert [p.status for p in payments] == [PaymentStatus.SUCCEEDED]
    assert payments[0].amount_cents == 21000
    assert db.session.get(Order, order_id).status is OrderStatus.PAID


# --- journeys ---------------------------------------------------------------------------------------

def test_member_renews_with_a_good_card_and_sees_the_new_end_date(live_server, stripe_peer, page, tmp_path):
    member = renewing_member()
    ends_before = member.paid_through
    expected_end = next_term_end(member)
    errors = watch_console(page)

    log_in(page, live_server, "ada@example.org")
    expect(page.get_by_test_id("paid-through")).to_have_text(format_date(ends_before))
    order_id = open_renewal_payment(page)

    enter_card(page, CARD_OK)
    page.screenshot(path=tmp_path / "e2e-pay.png", full_page=True)
    page.get_by_role("button", name="Pay $210.00").click()

    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))
    expect(page.get_by_role("alert")).to_contain_text("Thank you: your payment of $210.00 is received.")
    expect(page.get_by_test_id("payment-status")).to_have_text("Succeeded")
    expect(page.get_by_test_id("receipt-total")).to_have_text("$210.00")
    expect(page.get_by_text("Visa •••• 4242")).to_be_visible()
    expect(page.get_by_test_id("receipt-paid-through")).to_have_text(expected_end)
    page.screenshot(path=tmp_path / "e2e-receipt.png", full_page=True)

    page.goto(f"{live_server}/dashboard")
    expect(page.get_by_test_id("paid-through")).to_have_text(expected_end)
    expect(page.get_by_test_id("membership-status")).to_have_text("Active")

    assert_renewed_once(member, order_id, ends_before)
    assert not errors, "\n".join(errors)


def test_a_declined_card_says_so_and_changes_nothing(live_server, stripe_peer, page):
    member = renewing_member()
    ends_before = member.paid_through
    expected_end = next_term_end(member)
    errors = watch_console(page)

    log_in(page, live_server, "ada@example.org")
    order_id = open_renewal_payment(page)
    enter_card(page, CARD_DECLINED_ON_CHARGE)
    pay = page.get_by_role("button", name="Pay $210.00")
    pay.click()

    expect(page.locator("#payment-message")).to_have_text(DECLINED)
    expect(pay).to_be_enabled()  # ready for another card
    assert re.search(r"/pay/\d+$", page.url), page.url

    db.session.expire_all()
    assert member.paid_through == ends_before
    assert len(terms_of(member)) == 1
    assert [p.status for p in payments_of(order_id)] == [PaymentStatus.FAILED]
    assert db.session.get(Order, order_id).status is OrderStatus.OPEN
    dashboard = page.context.new_page()  # a second tab, leaving the payment page as it is
    dashboard.goto(f"{live_server}/dashboard")
    expect(dashboard.get_by_test_id("paid-through")).to_have_text(format_date(ends_before))
    expect(dashboard.get_by_test_id("membership-status")).to_have_text("Active")
    dashboard.close()

    # "Try another card" on the same page: the 402 handed the page a fresh SetupIntent (a confirmed one
    # cannot take another card), and the order is still open.
    enter_card(page, CARD_OK)
    pay.click()
    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))
    expect(page.get_by_test_id("receipt-paid-through")).to_have_text(expected_end)
    db.session.expire_all()
    assert [p.status for p in payments_of(order_id)] == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    assert len(terms_of(member)) == 2
    # The browser logs the charge endpoint's 402 as a failed resource load; nothing else may go wrong.
    assert all("402" in line for line in errors), "\n".join(errors)


def test_three_d_secure_is_completed_and_the_member_is_renewed(live_server, stripe_peer, page):
    member = renewing_member()
    ends_before = member.paid_through
    expected_end = next_term_end(member)
    errors = watch_console(page)

    log_in(page, live_server, "ada@example.org")
    order_id = open_renewal_payment(page)
    enter_card(page, CARD_3DS)
    page.get_by_role("button", name="Pay $210.00").click()

    complete_authentication(page)  # saving the card (SetupIntent)
    complete_authentication(page)  # the payment itself (PaymentIntent)

    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))
    expect(page.get_by_test_id("payment-status")).to_have_text("Succeeded")
    expect(page.get_by_test_id("receipt-paid-through")).to_have_text(expected_end)
    page.goto(f"{live_server}/dashboard")
    expect(page.get_by_test_id("paid-through")).to_have_text(expected_end)

    assert_renewed_once(member, order_id, ends_before)
    assert not errors, "\n".join(errors)


def test_corporate_contact_buys_five_seats_and_the_named_employee_sees_an_active_membership(
        app, live_server, stripe_peer, smtp_server, browser, page, tmp_path):
    from chapter.members.models import CorporateMembership, CorporateSeat, Member, TermSource
    from chapter.members.services import add_months

    factories.chapter(40, name="Schuylkill Valley")
    factories.user("casey@acme.example", name="Casey Contact")  # a contact need not be a member
    db.session.commit()
    app.config["PUBLIC_BASE_URL"] = live_server  # links in mail are built on it, not on the request's Host
    ends_on = format_date(add_months(today(), 12) - timedelta(days=1))
    errors = watch_console(page)

    # The contact starts the corporate membership and buys five seats with a good card.
    log_in(page, live_server, "casey@acme.example")
    page.get_by_role("link", name="Corporate membership").click()
    page.get_by_role("link", name="Start a corporate membership").click()
    page.get_by_label("Organization name").fill("Acme Widgets")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/organizations/\d+/buy$"))
    organization_id = int(page.url.rsplit("/", 2)[1])
    page.get_by_label("Number of seats").fill("5")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/pay/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("order-total")).to_have_text("$925.00")
    expect(page.get_by_label("Renew automatically each year with this card")).to_have_count(1)  # the organization can renew automatically too
    enter_card(page, CARD_OK)
    page.get_by_role("button", name="Pay $925.00").click()
    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))
    expect(page.get_by_test_id("payment-status")).to_have_text("Succeeded")
    expect(page.get_by_test_id("receipt-total")).to_have_text("$925.00")
    expect(page.get_by_text("Acme Widgets", exact=True)).to_be_visible()  # paid by

    # Then names an employee to a seat, by name and e-mail.
    page.goto(f"{live_server}/organizations/{organization_id}")
    expect(page.get_by_test_id("seats-used")).to_have_text("0 of 5")
    page.get_by_role("link", name="Name an employee").click()
    page.get_by_label("First name").fill("Jordan")
    page.get_by_label("Last name").fill("Ellis")
    page.get_by_label("E-mail address").fill("jordan@acme.example")
    page.get_by_label("Home chapter").select_option(label="Schuylkill Valley #40")
    page.get_by_role("button", name="Name to a seat").click()
    page.wait_for_url(f"{live_server}/organizations/{organization_id}")
    expect(page.get_by_role("alert").first).to_contain_text("Jordan Ellis holds a seat: member number")
    expect(page.get_by_test_id("seats-used")).to_have_text("1 of 5")
    expect(page.get_by_test_id("seat-row")).to_have_count(1)
    expect(page.get_by_test_id("seat-row")).to_contain_text("jordan@acme.example")
    assert not errors, "\n".join(errors)

    # The employee follows the e-mailed link, chooses a password, logs in and sees an active membership.
    run_jobs()
    mail = [m for m in smtp_server if m["To"] == "jordan@acme.example"]
    assert len(mail) == 1, [m["To"] for m in smtp_server]
    body = text_of(mail[0])
    link = re.search(r"http://127\.0\.0\.1:\d+/reset-password/\S+", body)
    assert link, body
    employee_context = browser.new_context(viewport={"width": 1280, "height": 800})
    employee_context.set_default_timeout(10_000)
    try:
        employee = employee_context.new_page()
        employee.goto(link.group(0))
        employee.get_by_label("New password", exact=True).fill("river-stone-77")
        employee.get_by_label("Repeat the new password").fill("river-stone-77")
        employee.get_by_role("button", name="Save my new password").click()
        employee.wait_for_url(f"{live_server}/login*")
        log_in(employee, live_server, "jordan@acme.example", "river-stone-77")
        expect(employee.get_by_role("heading", name="Welcome, Jordan")).to_be_visible()
        expect(employee.get_by_test_id("membership-status")).to_have_text("Active")
        expect(employee.get_by_test_id("paid-through")).to_have_text(ends_on)
        expect(employee.get_by_test_id("home-chapter")).to_have_text("Schuylkill Valley #40")
        employee.screenshot(path=tmp_path / "e2e-corporate-employee.png", full_page=True)
    finally:
        employee_context.close()

    # In the database: one paid order, one corporate membership of five seats, one seat held.
    db.session.expire_all()
    assert [(p.status, p.amount_cents) for p in payments_of(order_id)] == [(PaymentStatus.SUCCEEDED, 92500)]
    assert db.session.get(Order, order_id).status is OrderStatus.PAID
    corporate = db.session.scalars(sa.select(CorporateMembership)).all()
    assert [(c.organization_id, c.seats) for c in corporate] == [(organization_id, 5)]
    seats = db.session.scalars(sa.select(CorporateSeat)).all()
    jordan = db.session.scalar(sa.select(Member).where(Member.email == "jordan@acme.example"))
    assert [s.member_id for s in seats] == [jordan.id]
    assert jordan.user is not None and jordan.organization_id == organization_id
    assert [t.source for t in terms_of(jordan)] == [TermSource.CORPORATE]
