"""A member replaces their saved card and turns automatic renewal on and off from one page (against localstripe)."""
from __future__ import annotations

import pytest

from chapter.extensions import db
from chapter.members.models import Member
from tests.e2e.test_payments import enter_card, log_in, renewing_member
from tests.payments.helpers import CARD_DECLINED_ON_CHARGE, CARD_OK

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def test_a_member_saves_a_new_card_then_turns_automatic_renewal_on_and_off(live_server, stripe_peer, page):
    member = renewing_member()
    member_id = member.id
    log_in(page, live_server, "ada@example.org")
    page.get_by_role("link", name="Card and automatic renewal").first.click()
    expect(page.get_by_test_id("saved-card")).to_have_text("No card is saved.")
    expect(page.get_by_role("button", name="Turn on automatic renewal")).to_have_count(0)

    page.get_by_role("link", name="Save a card").click()
    enter_card(page, CARD_OK)
    page.get_by_role("button", name="Save this card").click()
    page.wait_for_url(f"{live_server}/membership/auto-renew")
    expect(page.get_by_role("alert")).to_contain_text("Your Visa card ending in 4242 is saved for automatic renewal.")
    expect(page.get_by_test_id("saved-card")).to_have_text("Visa card ending in 4242")

    page.get_by_role("button", name="Turn on automatic renewal").click()
    expect(page.get_by_test_id("auto-renew-state")).to_have_text("on")
    db.session.expire_all()
    saved = db.session.get(Member, member_id)
    assert saved.auto_renew and saved.saved_payment_method_id and saved.saved_card_last4 == "4242"

    page.get_by_role("link", name="Replace the card").click()
    enter_card(page, CARD_DECLINED_ON_CHARGE)  # saves fine; it is declined only when charged
    page.get_by_role("button", name="Save this card").click()
    page.wait_for_url(f"{live_server}/membership/auto-renew")
    expect(page.get_by_test_id("saved-card")).to_have_text("Visa card ending in 0341")
    page.get_by_role("button", name="Turn off automatic renewal").click()
    expect(page.get_by_test_id("auto-renew-state")).to_have_text("off")
    db.session.expire_all()
    assert not db.session.get(Member, member_id).auto_renew
