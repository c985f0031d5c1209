"""The national treasurer in a real browser: syncs with Stripe, opens the payout, sees it balance,
and exports the month's ledger as CSV.

Two members pay by card against localstripe and one payment is partly refunded. localstripe cannot make
a payout that lists its balance transactions, so the payout Stripe would send is fed to the sync service
directly (as the sync does with what the API returns) after the browser's sync.
"""
from __future__ import annotations

import csv
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from chapter.core.models import today
from chapter.core.permissions import roles_of
from chapter.extensions import db
from chapter.payments import services as payments
from chapter.payments.models import Payment, TermAction
from chapter.treasury import sync
from chapter.treasury.models import StripeBalanceTransaction
from tests import factories
from tests.factories import DEFAULT_PASSWORD
from tests.payments.helpers import pay_order

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def _paid_and_refunded(client, peer):
    home = factories.chapter(40, name="Schuylkill Valley")
    staff = factories.staff()
    for email in ("ada@example.org", "bob@example.org"):
        factories.member(home=home, status="pending", email=email, with_user=True)
        db.session.commit()
        client.login(email)
        response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
        assert pay_order(client, peer, int(response.headers["Location"].rsplit("/", 1)[1])).get_json()["status"] == "succeeded"
        client.logout()
    first = db.session.scalar(sa.select(Payment).order_by(Payment.id))
    payments.refund_payment(first, amount_cents=5000, reason="Paid the wrong type", term_action=TermAction.KEEP,
                            new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    return staff


def test_the_treasurer_syncs_opens_the_payout_sees_it_balance_and_exports_the_month(page, live_server, client,
                                                                                       stripe_peer, tmp_path):
    staff = _paid_and_refunded(client, stripe_peer)
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill(staff.email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Treasury").click()
    page.get_by_role("button", name="Sync with Stripe").click()
    expect(page.get_by_text("Synced 3 balance transactions")).to_be_visible()
    expect(page.get_by_text("Nothing to review: every balance transaction matches.")).to_be_visible()

    db.session.expire_all()
    txns = db.session.scalars(sa.select(StripeBalanceTransaction)).all()
    sync.ingest_payouts([{"id": "po_e2e", "amount": sum(t.net_cents for t in txns), "currency": "usd", "status": "paid",
                          "created": int(datetime.now(timezone.utc).timestamp())}],
                        transactions_of=lambda payout_id: [t.id for t in txns])
    db.session.commit()

    page.reload()
    page.get_by_role("link", name="po_e2e").click()
    expect(page.get_by_role("status")).to_contain_text("Balanced")
    expect(page.locator("#payout-difference")).to_have_text("$0.00")

    page.goto(f"{live_server}/treasury/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="This month's ledger (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"ledger-{today():%Y-%m}.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(saved.open(encoding="utf-8")))
    assert {r["Account"] for r in rows} >= {"Charge", "Refund", "Payout", "Chapter share owed"}
    assert sum(round(float(r["Amount"]) * 100) for r in rows if r["Account"] in ("Charge", "Refund", "Payout")) == 0
