"""The auto-renew opt-in on the payment page, driven in a real browser: ticking "Renew automatically each year
with this card" saves that card for off-session use and turns automatic renewal on, and the renewal run
later charges exactly that card; leaving it unticked saves nothing."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.extensions import db
from chapter.members.models import Member
from chapter.payments import renewals
from chapter.payments.models import Payment, PaymentStatus
from tests.e2e.test_payments import enter_card, log_in, open_renewal_payment, renewing_member, watch_console
from tests.payments.helpers import CARD_OK, stripe_api

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def _pay_renewal(page, live_server, *, tick: bool) -> None:
    log_in(page, live_server, "ada@example.org")
    open_renewal_payment(page)
    enter_card(page, CARD_OK)
    opt_in = page.get_by_label("Renew automatically each year with this card")
    expect(opt_in).not_to_be_checked()  # never on unless the member asks
    if tick:
        opt_in.check()
    page.get_by_role("button", name="Pay $210.00").click()
    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))


def test_ticking_auto_renew_on_the_payment_page_saves_the_card_and_the_renewal_run_charges_it(
        live_server, stripe_peer, smtp_server, page):
    member = renewing_member()
    errors = watch_console(page)

    _pay_renewal(page, live_server, tick=True)

    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert member.auto_renew is True and member.saved_card_last4 == "4242"
    saved = stripe_api(stripe_peer, f"/v1/payment_methods/{member.saved_payment_method_id}", None, method="GET")
    assert saved["card"]["last4"] == "4242"  # (localstripe does not record the customer of a SetupIntent card)
    page.goto(f"{live_server}/membership/auto-renew")
    expect(page.get_by_test_id("auto-renew-state")).to_have_text("on")

    # The run 21 days before the new term ends tells the member (the 7-day notice); ten days before the
    # end, the renewal run charges the card saved on the page, off-session.
    assert renewals.send_reminders(member.paid_through - timedelta(days=21)).sent["charge_notice"] == 1
    summary = renewals.auto_renew(member.paid_through - timedelta(days=10))
    assert (summary.charged, summary.failed) == (1, 0)
    db.session.expire_all()
    latest = db.session.scalar(sa.select(Payment).order_by(Payment.id.desc()))
    assert latest.off_session and latest.status is PaymentStatus.SUCCEEDED
    assert latest.stripe_payment_method_id == member.saved_payment_method_id
    assert not errors, "\n".join(errors)


def test_leaving_auto_renew_unticked_saves_no_card(live_server, stripe_peer, page):
    member = renewing_member()

    _pay_renewal(page, live_server, tick=False)

    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert member.auto_renew is False and member.saved_payment_method_id is None
    page.goto(f"{live_server}/membership/auto-renew")
    expect(page.get_by_test_id("auto-renew-state")).to_have_text("off")
    assert renewals.auto_renew(member.paid_through - timedelta(days=10)).charged == 0
