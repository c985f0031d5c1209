"""The ledger and the Stripe sync against localstripe: payments, a partial refund, a payout, a lost webhook."""
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from chapter.extensions import db
from chapter.payments.models import Order, Payment, PaymentStatus, Refund
from chapter.treasury import reports, services as ledger, sync
from chapter.treasury.models import LedgerEntry, LedgerKind, MatchStatus, StripeBalanceTransaction
from tests import factories
from tests.payments.helpers import stripe_api


def _entries(kind):
    return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == kind).order_by(LedgerEntry.id)).all()


def test_payments_and_refunds_are_booked_in_the_ledger_in_cents(paid):
    first, second = paid["first"], paid["second"]
    assert [e.amount_cents for e in _entries(LedgerKind.CHARGE)] == [first.amount_cents, second.amount_cents]
    assert [e.amount_cents for e in _entries(LedgerKind.REFUND)] == [-5000]
    shares = _entries(LedgerKind.CHAPTER_SHARE)
    assert sum(e.amount_cents for e in shares) == first.chapter_share_cents + second.chapter_share_cents \
        - first.chapter_share_cents * 5000 // first.amount_cents
    assert all(e.payment_id for e in _entries(LedgerKind.CHARGE))


def test_sync_matches_charges_and_the_partial_refund_and_a_second_sync_adds_nothing(paid):
    report = sync.sync_stripe()
    db.session.commit()
    rows = db.session.scalars(sa.select(StripeBalanceTransaction)).all()
    assert report.balance_transactions == 3 and report.exceptions == 0
    assert {(r.type, r.status) for r in rows} == {("charge", MatchStatus.MATCHED), ("refund", MatchStatus.MATCHED)}
    assert {r.payment_id for r in rows} == {paid["first"].id, paid["second"].id}
    count = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    again = sync.sync_stripe()
    db.session.commit()
    assert again.balance_transactions == 0 and again.payouts == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeBalanceTransaction)) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == count


def test_the_payout_page_balances_to_the_cent(paid, client):
    sync.sync_stripe()
    txns = db.session.scalars(sa.select(StripeBalanceTransaction)).all()
    net = sum(t.amount_cents - t.fee_cents for t in txns)
    # The peer cannot create a payout (its payouts are EUR only and not linked to transactions): the payout
    # Stripe would send is fed to the sync as it arrives, with the balance transactions it paid out.
    sync.ingest_payouts([{"id": "po_test1", "amount": net, "currency": "usd", "status": "paid",
                          "created": int(datetime.now(timezone.utc).timestamp()), "arrival_date": None}],
                        transactions_of=lambda payout_id: [t.id for t in txns])
    db.session.commit()
    view = reports.payout_reconciliation("po_test1")
    assert view.balanced and view.difference_cents == 0
    assert view.charges_cents - view.refunds_cents - view.fees_cents == view.payout.amount_cents
    client.login(paid["staff"].email)
    page = client.get("/treasury/payouts/po_test1").get_data(as_text=True)
    assert "Balanced" in page


def test_a_payout_that_does_not_balance_says_by_how_much(paid):
    sync.sync_stripe()
    txns = db.session.scalars(sa.select(StripeBalanceTransaction)).all()
    net = sum(t.amount_cents - t.fee_cents for t in txns)
    sync.ingest_payouts([{"id": "po_test2", "amount": net + 123, "currency": "usd", "status": "paid",
                          "created": int(datetime.now(timezone.utc).timestamp())}],
                        transactions_of=lambda payout_id: [t.id for t in txns])
    view = reports.payout_reconciliation("po_test2")
    assert not view.balanced and view.difference_cents == 123
    assert "1.23" in view.explanation


def test_a_webhook_that_never_arrived_is_found_by_the_sync_and_recovered_exactly_once(paid, client):
    """Carol's order was charged at Stripe but our server never heard: the payment row stayed pending."""
    peer = paid["peer"]
    member = factories.member(home=paid["first"].order.chapter, status="pending", email="carol@example.org", with_user=True)
    db.session.commit()
    client.login("carol@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    order = db.session.get(Order, int(response.headers["Location"].rsplit("/", 1)[1]))
    client.logout()
    payment = Payment(order=order, amount_cents=order.total_cents, currency=order.currency, chapter_id=order.chapter_id)
    db.session.add(payment)
    db.session.commit()
    customer = stripe_api(peer, "/v1/customers", {"email": "carol@example.org"})
    method = stripe_api(peer, "/v1/payment_methods", {"type": "card", "card[number]": "4242424242424242",
                                                      "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123"})
    stripe_api(peer, f"/v1/payment_methods/{method['id']}/attach", {"customer": customer["id"]})
    intent = stripe_api(peer, "/v1/payment_intents", {
        "amount": str(order.total_cents), "currency": order.currency.lower(), "customer": customer["id"],
        "payment_method": method["id"], "confirm": "true", "payment_method_types[]": "card",
        "metadata[order_id]": str(order.id), "metadata[payment_id]": str(payment.id)})
    assert intent.get("status") == "succeeded", intent

    report = sync.sync_stripe()
    db.session.commit()
    assert report.exceptions == 1
    lost = db.session.scalar(sa.select(StripeBalanceTransaction).where(StripeBalanceTransaction.status == MatchStatus.UNKNOWN_CHARGE))
    assert lost.payment_intent_id == intent["id"]

    client.login(paid["staff"].email)
    assert client.submit(f"/treasury/transactions/{lost.id}/recover", {}, form_url="/treasury/").status_code == 302
    again = client.submit(f"/treasury/transactions/{lost.id}/recover", {}, form_url="/treasury/")
    db.session.expire_all()
    assert payment.status is PaymentStatus.SUCCEEDED and order.fulfilled_at is not None
    assert db.session.get(StripeBalanceTransaction, lost.id).status is MatchStatus.RECOVERED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
        LedgerEntry.kind == LedgerKind.CHARGE, LedgerEntry.payment_id == payment.id)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.order_id == order.id)) == 1
    assert "already been recovered" in again.get_data(as_text=True) or again.status_code in (302, 400)


def test_a_refund_made_in_stripes_dashboard_is_recorded_and_flagged(paid):
    stripe_api(paid["peer"], "/v1/refunds", {"payment_intent": paid["second"].stripe_payment_intent_id, "amount": "1000"})
    report = sync.sync_stripe()
    db.session.commit()
    flagged = db.session.scalar(sa.select(StripeBalanceTransaction).where(StripeBalanceTransaction.status == MatchStatus.DASHBOARD_REFUND))
    assert report.exceptions == 1 and flagged.payment_id == paid["second"].id
    refund = db.session.get(Refund, flagged.refund_id)
    assert refund.amount_cents == 1000 and paid["second"].refunded_cents == 1000
    assert "decide what happens to the term" in flagged.note and refund.term_decision_needed and refund.from_dashboard


def test_a_closed_month_refuses_a_new_entry_and_the_correction_lands_in_the_next_open_month(paid):
    staff = paid["staff"]
    charge = _entries(LedgerKind.CHARGE)[0]
    month = charge.booked_on.replace(day=1)
    ledger.close_month(month, actor=staff)
    db.session.commit()
    with pytest.raises(ledger.PeriodClosed):
        ledger.record_offline_payment(amount_cents=1000, currency="USD", booked_on=month, reference="CHK 12",
                                      description="Check", actor=staff)
    correction = ledger.correct_entry(charge, amount_cents=-100, reason="Overstated", actor=staff, day=month)
    assert correction.corrects_id == charge.id
    assert correction.booked_on == ledger.next_month(month)
    ledger.reopen_month(month, actor=staff)
    db.session.commit()
    assert not ledger.is_closed(month)


def test_an_amount_mismatch_is_listed(paid):
    db.session.execute(sa.update(Payment).where(Payment.id == paid["second"].id).values(amount_cents=100))
    db.session.commit()
    report = sync.sync_stripe()
    db.session.commit()
    mismatch = db.session.scalar(sa.select(StripeBalanceTransaction).where(StripeBalanceTransaction.status == MatchStatus.MISMATCH))
    assert report.exceptions == 1 and mismatch.payment_id == paid["second"].id
    assert "our payment is $1.00" in mismatch.note


def test_a_payment_here_with_no_stripe_charge_is_listed(paid):
    from datetime import timedelta

    first = paid["first"]
    ghost = Payment(order_id=first.order_id, amount_cents=first.amount_cents, currency=first.currency,
                    status=PaymentStatus.SUCCEEDED, stripe_payment_intent_id="pi_never_at_stripe",
                    stripe_charge_id="ch_never_at_stripe", succeeded_at=first.succeeded_at - timedelta(days=1))
    db.session.add(ghost)
    db.session.commit()
    sync.sync_stripe()
    db.session.commit()
    assert [p.id for p in db.session.scalars(reports.payments_without_charge_statement())] == [ghost.id]
