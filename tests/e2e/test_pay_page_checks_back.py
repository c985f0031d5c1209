"""The pay page after a lost answer (issue 9), in a real browser: Stripe charges, but its answer never reaches
us. The page says it has no answer yet, keeps Pay disabled, checks back by itself (the member reloads
nothing) and, once Stripe's answer is known, shows the receipt; the member is renewed once. When the
charge never reached Stripe, the page re-enables Pay by itself once Stripe says it has no such payment.

localstripe cannot drop an answer, so, as in tests/payments/test_failures.py, the Stripe library's own
`PaymentIntentService.create` charges at localstripe and then raises `stripe.APIConnectionError` (the
live server runs in this process); the page's first check back gets no answer either
(`gateway.find_payment_intent` raises NoAnswer once), so the page has to keep checking.
"""
from __future__ import annotations

import re

import pytest
import stripe
from stripe._payment_intent_service import PaymentIntentService

from chapter.extensions import db
from chapter.payments import gateway
from chapter.payments.models import PaymentStatus
from tests.e2e.test_payments import (
    assert_renewed_once, enter_card, log_in, open_renewal_payment, payments_of, renewing_member, watch_console,
)
from tests.payments.helpers import CARD_OK, stripe_api

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

REAL_CREATE = PaymentIntentService.create


def pay_without_an_answer(page, live_server):
    """Log in, open the renewal's pay page and pay with a good card; the page says it has no answer yet and
    keeps Pay disabled. Returns the order id, the page's message region and the Pay button."""
    log_in(page, live_server, "ada@example.org")
    order_id = open_renewal_payment(page)
    enter_card(page, CARD_OK)
    page.get_by_role("button", name="Pay $210.00").click()
    message, pay = page.locator("#payment-message"), page.locator("#pay-button")
    expect(message).to_contain_text("We have no answer from the payment service yet. Do not pay again")
    expect(pay).to_be_disabled()
    return order_id, message, pay


def test_after_a_lost_answer_the_pay_page_checks_back_by_itself_and_shows_the_receipt(live_server, stripe_peer, page,
                                                                                      monkeypatch):
    member = renewing_member()
    ends_before = member.paid_through
    errors = watch_console(page)

    def charge_then_lose_the_answer(self, *args, **kwargs):
        REAL_CREATE(self, *args, **kwargs)  # Stripe charges the card...
        monkeypatch.setattr(PaymentIntentService, "create", REAL_CREATE)
        raise stripe.APIConnectionError("Read timed out.")  # ...and its answer is lost on the way back

    real_find = gateway.find_payment_intent
    asked = []

    def no_answer_the_first_time(customer_id, payment_id, **kwargs):
        asked.append(payment_id)
        if len(asked) == 1:
            raise gateway.NoAnswer("No answer from the payment service (looking for the payment): Read timed out.")
        return real_find(customer_id, payment_id, **kwargs)

    monkeypatch.setattr(PaymentIntentService, "create", charge_then_lose_the_answer)
    monkeypatch.setattr(gateway, "find_payment_intent", no_answer_the_first_time)
    checks = []
    page.on("request", lambda request: checks.append(request.url) if request.url.endswith("/refresh") else None)

    order_id, message, pay = pay_without_an_answer(page, live_server)
    # The first check back (after 3 s) still has no answer: the page says so and keeps Pay disabled.
    expect(message).to_contain_text("Still no answer from the payment service", timeout=15_000)
    expect(pay).to_be_disabled()
    # The next one finds Stripe's answer (the intent named by its metadata): paid, and the receipt shows.
    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"), timeout=20_000)
    expect(page.get_by_test_id("payment-status")).to_have_text("Succeeded")
    expect(page.get_by_test_id("receipt-total")).to_have_text("$210.00")

    assert len(checks) >= 2 and len(asked) >= 2
    assert_renewed_once(member, order_id, ends_before)
    intents = stripe_api(stripe_peer, "/v1/payment_intents", None, method="GET")["data"]
    assert [i["status"] for i in intents] == ["succeeded"]  # charged once, never twice
    assert not errors, "\n".join(errors)


def test_a_charge_that_never_reached_stripe_re_enables_pay_by_itself_once_stripe_says_it_has_none(
        live_server, stripe_peer, page, monkeypatch, clock):
    """The charge never reaches Stripe (the library raises APIConnectionError before sending anything). The page
    keeps checking; once Stripe has had no such payment for 2 minutes (the clock moved on with time_machine,
    in the server's process too) the attempt is failed, the page says nothing was charged and Pay works again."""
    from datetime import datetime, timedelta, timezone

    clock(datetime.now(timezone.utc))
    member = renewing_member()
    ends_before = member.paid_through
    errors = watch_console(page)

    def never_sent(self, *args, **kwargs):
        monkeypatch.setattr(PaymentIntentService, "create", REAL_CREATE)
        raise stripe.APIConnectionError("Connection refused.")

    monkeypatch.setattr(PaymentIntentService, "create", never_sent)
    order_id, message, pay = pay_without_an_answer(page, live_server)
    clock(datetime.now(timezone.utc) + timedelta(minutes=3))  # Stripe has had nothing for longer than 2 minutes
    expect(message).to_contain_text("The payment never reached the payment service; nothing was charged.",
                                    timeout=15_000)
    expect(pay).to_be_enabled()
    assert stripe_api(stripe_peer, "/v1/payment_intents", None, method="GET")["data"] == []

    pay.click()  # the card is still in the field: pay again, and this time Stripe answers
    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"), timeout=20_000)
    expect(page.get_by_test_id("payment-status")).to_have_text("Succeeded")
    db.session.expire_all()
    assert [p.status for p in payments_of(order_id)] == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    assert member.paid_through > ends_before
    assert all("402" in line for line in errors), "\n".join(errors)  # the refused attempt's answer only
