"""What happens at Stripe reaches us: dashboard refunds, disputes, failed payouts, Stripe's dates in
the ledger; amounts per currency; offline payments recorded by staff; operator errors.

localstripe sends no dispute, payout or charge.refunded events that carry what real Stripe's do:
those tests post Stripe-shaped, signed events to /stripe/webhook (the same path real Stripe reaches),
and say so.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

from chapter.core.models import today, utcnow
from chapter.extensions import db
from chapter.members.models import MembershipStatus
from chapter.payments.models import Dispute, Order, OrderStatus, Payment, PaymentStatus, Refund, StripeEvent
from chapter.treasury import services as ledger, sync
from chapter.treasury.models import LedgerEntry, LedgerKind, StripePayout
from tests import factories
from tests.conftest import run_jobs
from tests.payments.helpers import pay_order, signed_event, stripe_api


def _post(client, event):
    body, signature = signed_event(event)
    answer = client.client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def _event(event_id, event_type, obj):
    return {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()), "data": {"object": obj}}


def _entries(kind, **where):
    statement = sa.select(LedgerEntry).where(LedgerEntry.kind == kind).order_by(LedgerEntry.id)
    for name, value in where.items():
        statement = statement.where(getattr(LedgerEntry, name) == value)
    return db.session.scalars(statement).all()


def test_a_full_refund_made_in_stripes_dashboard_reaches_us_by_webhook_with_the_same_effects(paid, client, smtp_server):
    """Stripe-shaped charge.refunded event (localstripe sends none with the refund list)."""
    second = paid["second"]
    refund = stripe_api(paid["peer"], "/v1/refunds", {"payment_intent": second.stripe_payment_intent_id})
    charge = {"id": second.stripe_charge_id, "object": "charge", "payment_intent": second.stripe_payment_intent_id,
              "amount": 21000, "amount_refunded": 21000, "currency": "usd",
              "refunds": {"object": "list", "data": [{"id": refund["id"], "amount": 21000, "currency": "usd",
                                                      "status": "succeeded", "created": refund["created"], "metadata": {}}]}}
    assert "1 refund(s) recorded" in _post(client, _event("evt_dash_refund", "charge.refunded", charge))["outcome"]
    assert _post(client, _event("evt_dash_refund", "charge.refunded", charge))["duplicate"] is True
    db.session.expire_all()
    payment = db.session.get(Payment, second.id)
    assert payment.status is PaymentStatus.REFUNDED and payment.order.status is OrderStatus.REFUNDED
    [made] = payment.refunds
    assert made.from_dashboard and made.term_decision_needed and made.chapter_share_cents == 3500
    assert [e.amount_cents for e in _entries(LedgerKind.REFUND, payment_id=payment.id)] == [-21000]
    run_jobs()
    assert any(m["Subject"] == f"Refund on {payment.order.reference}" for m in smtp_server)
    # The sync later finds the same refund: nothing is recorded twice.
    sync.sync_stripe()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund).where(Refund.payment_id == payment.id)) == 1
    # Staff see the term awaiting their decision, and decide.
    client.login(paid["staff"].email)
    assert payment.order.reference in client.get("/treasury/").get_data(as_text=True).split("awaiting a decision")[1][:2000]
    decided = client.submit(f"/payments/refunds/{made.id}/term-decision", {"term_action": "void"}, form_url="/treasury/")
    assert decided.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Refund, made.id).term_decision_needed
    assert payment.order.member.status_on(today()) is MembershipStatus.PENDING


def test_a_full_dashboard_refund_of_an_exam_fee_cancels_the_authorization_to_test(app, client, stripe_peer):
    from chapter.certifications import services as exams
    from chapter.certifications.models import ExamRegistration

    home = factories.chapter(40)
    factories.member(home=home, status="active", email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    exam = exams.exams_on_sale(today())[0]
    response = client.submit(f"/exams/{exam.code}/buy", {}, form_url="/exams")
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    payment = db.session.scalar(sa.select(Payment))
    stripe_api(stripe_peer, "/v1/refunds", {"payment_intent": payment.stripe_payment_intent_id})
    sync.sync_stripe()  # found by the sync this time
    db.session.commit()
    db.session.expire_all()
    registration = db.session.scalar(sa.select(ExamRegistration))
    assert registration.order.status is OrderStatus.REFUNDED
    assert registration.state_on(today()) == "refunded" and not registration.is_usable_on(today())
    assert not db.session.get(Payment, payment.id).refunds[0].term_decision_needed  # no term to decide for an exam
    from chapter.core.audit import AuditEntry

    line = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "payment.refunded")).one()
    assert line.summary == f"Refund of {payment.amount_cents / 100:.2f} USD on {payment.order.reference} found at Stripe"
    [cancelled] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "exam.att_cancelled")).all()
    assert registration.att_code and cancelled.summary == \
        f"ATT {registration.att_code} cancelled: the fee of {payment.order.reference} was refunded"


def test_a_dispute_is_recorded_booked_with_its_fee_and_listed_with_the_evidence_deadline(paid, client):
    """Stripe-shaped charge.dispute.created/closed events with their balance transactions."""
    second = paid["second"]
    due = int(time.time()) + 10 * 86400
    withdrawn = {"id": "txn_dp_withdrawn", "object": "balance_transaction", "amount": -21000, "fee": 1500,
                 "currency": "usd", "created": int(time.time()), "type": "adjustment", "source": "dp_1"}
    dispute = {"id": "dp_1", "object": "dispute", "charge": second.stripe_charge_id,
               "payment_intent": second.stripe_payment_intent_id, "amount": 21000, "currency": "usd",
               "reason": "fraudulent", "status": "needs_response", "created": int(time.time()),
               "evidence_details": {"due_by": due}, "balance_transactions": [withdrawn]}
    _post(client, _event("evt_dp_created", "charge.dispute.created", dispute))
    _post(client, _event("evt_dp_updated", "charge.dispute.updated", {**dispute, "status": "under_review"}))
    db.session.expire_all()
    payment = db.session.get(Payment, second.id)
    assert payment.status_label == "Disputed"
    assert [e.amount_cents for e in _entries(LedgerKind.DISPUTE)] == [-21000]
    assert [e.amount_cents for e in _entries(LedgerKind.STRIPE_FEE, stripe_balance_transaction_id="txn_dp_withdrawn")] == [-1500]
    client.login(paid["staff"].email)
    page = client.get("/treasury/").get_data(as_text=True)
    listed = page.split('data-testid="open-disputes"')[1].split("</ul>")[0]
    assert payment.order.reference in listed and "fraudulent" in listed
    assert datetime.utcfromtimestamp(due).strftime("%d %b %Y").lstrip("0") in listed or \
        datetime.utcfromtimestamp(due).strftime("%d %b %Y") in listed
    receipt = client.get(f"/payments/{payment.id}/receipt").get_data(as_text=True)
    assert "Disputed" in receipt
    # Won: the reversal and the returned fee are booked once, the dispute closed.
    reversal = {"id": "txn_dp_reversal", "object": "balance_transaction", "amount": 21000, "fee": -1500,
                "currency": "usd", "created": int(time.time()), "type": "adjustment", "source": "dp_1"}
    closed = {**dispute, "status": "won", "balance_transactions": [withdrawn, reversal]}
    _post(client, _event("evt_dp_closed", "charge.dispute.closed", closed))
    db.session.expire_all()
    assert db.session.get(Dispute, "dp_1").is_open is False
    assert [e.amount_cents for e in _entries(LedgerKind.DISPUTE)] == [-21000, 21000]
    assert sum(e.amount_cents for e in _entries(LedgerKind.STRIPE_FEE) if e.stripe_balance_transaction_id
               in ("txn_dp_withdrawn", "txn_dp_reversal")) == 0
    assert db.session.get(Payment, second.id).status_label == "Succeeded"
    # The sync meets the same balance transactions: it lists them and books nothing twice.
    sync.ingest_balance_transactions([withdrawn, reversal])
    db.session.commit()
    assert len(_entries(LedgerKind.DISPUTE)) == 2


def test_a_failed_payout_reverses_its_ledger_entry_and_shows_as_failed(paid, client):
    """Stripe-shaped payout.created then payout.failed events (localstripe's payouts never fail)."""
    created = int(time.time())
    payout = {"id": "po_fail_1", "object": "payout", "amount": 30000, "currency": "usd", "status": "in_transit",
              "created": created, "arrival_date": created + 2 * 86400}
    _post(client, _event("evt_po_created", "payout.created", payout))
    failed = {**payout, "status": "failed", "failure_code": "account_closed",
              "failure_message": "The bank account has been closed."}
    _post(client, _event("evt_po_failed", "payout.failed", failed))
    _post(client, _event("evt_po_failed_again", "payout.failed", failed))  # a second delivery: reversed once
    db.session.expire_all()
    assert db.session.get(StripePayout, "po_fail_1").status == "failed"
    entries = _entries(LedgerKind.PAYOUT, stripe_payout_id="po_fail_1")
    assert [e.amount_cents for e in entries] == [-30000, 30000] and entries[1].corrects_id == entries[0].id
    client.login(paid["staff"].email)
    assert "failed" in client.get("/treasury/payouts").get_data(as_text=True)
    assert "The bank account has been closed." in client.get("/treasury/").get_data(as_text=True)


def test_payouts_are_re_read_until_final(paid, monkeypatch):
    """The sync re-reads a payout still in transit (Stripe's answer fed as Stripe's payout object)."""
    created = int(time.time())
    sync.apply_payout({"id": "po_transit", "amount": 1000, "currency": "usd", "status": "in_transit", "created": created,
                       "arrival_date": created})
    db.session.commit()
    monkeypatch.setattr(sync.gateway, "retrieve_payout", lambda payout_id: {
        "id": payout_id, "amount": 1000, "currency": "usd", "status": "paid", "created": created, "arrival_date": created})
    assert sync.refresh_open_payouts() == 1
    db.session.commit()
    assert db.session.get(StripePayout, "po_transit").status == "paid"
    assert sync.refresh_open_payouts() == 0  # final: no longer re-read


def test_the_ledger_is_dated_on_stripes_day_and_a_closed_month_books_it_in_the_first_open_one(paid):
    staff = paid["staff"]
    last_month = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    ledger.close_month(last_month, actor=staff)
    db.session.commit()
    second = paid["second"]
    stripe_day = last_month + timedelta(days=14)
    # A refund Stripe made on a day of the closed month, heard of today.
    refund = Refund(payment_id=second.id, amount_cents=100, chapter_share_cents=0, association_share_cents=100,
                    reason="late", refunded_at=datetime.combine(stripe_day, datetime.min.time()))
    db.session.add(refund)
    db.session.flush()
    ledger.record_refund(refund)
    db.session.commit()
    [entry] = _entries(LedgerKind.REFUND, refund_id=refund.id)
    assert entry.occurred_on == stripe_day and entry.booked_on == ledger.next_month(last_month)
    assert f"of {stripe_day:%d %b %Y}, a closed month" in entry.description
    # In an open month it is booked on Stripe's day itself, not the day we heard of it.
    ledger.reopen_month(last_month, actor=staff)
    payment = Payment(order_id=second.order_id, amount_cents=5, currency="USD", status=PaymentStatus.SUCCEEDED,
                      charged_at=datetime.combine(stripe_day, datetime.min.time()), succeeded_at=utcnow())
    db.session.add(payment)
    db.session.flush()
    ledger.record_payment(payment)
    assert _entries(LedgerKind.CHARGE, payment_id=payment.id)[0].booked_on == stripe_day


def test_a_charge_whose_payment_here_is_not_paid_is_an_exception_and_recovering_it_fulfils_the_order(paid, client):
    """Our attempt was recorded as failed, but Stripe charged: the sync does not call that 'matched'."""
    second = paid["second"]
    db.session.execute(sa.update(Order).where(Order.id == second.order_id).values(status=OrderStatus.OPEN, fulfilled_at=None))
    db.session.execute(sa.update(Payment).where(Payment.id == second.id).values(status=PaymentStatus.FAILED))
    db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.payment_id == second.id))
    db.session.commit()
    report = sync.sync_stripe()
    db.session.commit()
    from chapter.treasury.models import MatchStatus, StripeBalanceTransaction

    lost = db.session.scalar(sa.select(StripeBalanceTransaction).where(StripeBalanceTransaction.source_id == second.stripe_charge_id))
    assert lost.status is MatchStatus.UNKNOWN_CHARGE and report.exceptions >= 1
    client.login(paid["staff"].email)
    answer = client.submit(f"/treasury/transactions/{lost.id}/recover", {}, form_url="/treasury/", follow_redirects=True)
    assert "Recovered the payment" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Payment, second.id).status is PaymentStatus.SUCCEEDED
    assert db.session.get(Order, second.order_id).status is OrderStatus.PAID
    assert db.session.get(StripeBalanceTransaction, lost.id).status is MatchStatus.RECOVERED


# --- 6. Currencies and offline money -----------------------------------------------------------------

def test_a_chapters_amounts_are_kept_per_currency_and_never_netted(paid, client):
    from chapter.treasury import reports

    chapter = paid["first"].order.chapter
    ledger.add_entry(LedgerKind.CHAPTER_SHARE, amount_cents=2000, currency="CAD", booked_on=today(),
                     description="CAD share", chapter_id=chapter.id)
    ledger.add_entry(LedgerKind.REMITTANCE, amount_cents=1500, currency="CAD", booked_on=today(),
                     description="CAD remittance", chapter_id=chapter.id)
    db.session.commit()
    usd, cad = reports.remittance_reports(chapter, today().replace(day=1), today())
    assert usd.currency == "USD" and cad.currency == "CAD"
    assert cad.share_owed_cents == 2000 and cad.remitted_cents == 1500 and cad.balance_cents == 500
    owed_usd = 3500 + 3500 - 3500 * 5000 // 21000
    assert usd.balance_cents == owed_usd  # the CAD remittance is not taken off the USD share
    client.login(paid["staff"].email)
    page = client.get(f"/treasury/chapters/{chapter.number}").get_data(as_text=True)
    assert 'data-testid="remittance-CAD"' in page and "CAD 5.00" in page  # the code, as it is not the site's currency


def test_staff_record_a_cheque_against_an_open_order_which_is_fulfilled_receipted_and_booked(app, client, smtp_server):
    home = factories.chapter(40)
    member = factories.member(home=home, status="pending", email="ada@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.logout()
    client.login(staff.email)
    wrong = client.submit("/treasury/order-payments", {"order_reference": f"ORD-{order_id:06d}", "amount_cents": "200.00",
                                                       "received_on": today().isoformat(), "reference": "CHK 1001"},
                          form_url="/treasury/")
    assert wrong.status_code == 400 and "The order is for $210.00: record exactly that amount" in wrong.get_data(as_text=True)
    answer = client.submit("/treasury/order-payments", {"order_reference": f"ORD-{order_id:06d}", "amount_cents": "210.00",
                                                        "received_on": today().isoformat(), "reference": "CHK 1001"},
                           form_url="/treasury/", follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "Receipt" in page and "CHK 1001" in page and "$210.00" in page
    db.session.expire_all()
    assert member.status_on(today()) is MembershipStatus.ACTIVE
    payment = db.session.scalar(sa.select(Payment))
    assert payment.method.value == "offline" and payment.status is PaymentStatus.SUCCEEDED
    assert [e.amount_cents for e in _entries(LedgerKind.OFFLINE_PAYMENT, payment_id=payment.id)] == [21000]
    assert [e.amount_cents for e in _entries(LedgerKind.CHAPTER_SHARE, payment_id=payment.id)] == [3500]
    assert _entries(LedgerKind.CHARGE) == []
    run_jobs()
    assert any(m["Subject"].startswith("Receipt for") and m["To"] == "ada@example.org" for m in smtp_server)


# --- Errors an operator sees ----------------------------------------------------------------------

def test_stripe_sync_on_a_network_error_prints_one_line_and_exits_non_zero(app, stripe_peer):
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    result = app.test_cli_runner().invoke(args=["stripe", "sync"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: Stripe sync failed, nothing was saved: No answer")
    assert "Traceback" not in result.output


def test_the_ledger_csv_without_a_valid_month_answers_400_with_a_message(app, client):
    client.login(factories.staff().email) if db.session.commit() is None else None
    for query in ("", "?month=", "?month=2026-13", "?month=9999-99", "?month=2026-1", "?month=abc", "?month=2026-11-01"):
        answer = client.get(f"/treasury/ledger.csv{query}")
        assert answer.status_code == 400, query
        assert "Give the month as ?month=YYYY-MM" in answer.get_data(as_text=True)
    good = client.get("/treasury/ledger.csv?month=2026-11")
    assert good.status_code == 200 and good.mimetype == "text/csv"


def test_a_dispute_naming_only_its_charge_or_only_its_intent_is_tied_to_the_payment_and_one_without_id_is_not_kept(
        paid, client):
    """Stripe's dispute objects name the charge, and newer API versions the payment intent as well; either
    one alone finds the payment (disputed). The dispute keeps Stripe's amount, currency, status and date;
    what an event leaves out is the payment's currency, "needs_response" and now. An event whose dispute
    has no id records nothing."""
    first, second = paid["first"], paid["second"]
    opened = int(time.time()) - 3 * 86400
    by_charge = {"id": "dp_charge", "object": "dispute", "charge": {"id": second.stripe_charge_id}, "amount": 21000,
                 "currency": "usd", "reason": "fraudulent", "status": "warning_needs_response", "created": opened}
    by_intent = {"id": "dp_intent", "object": "dispute", "charge": None, "payment_intent": first.stripe_payment_intent_id,
                 "amount": 16000, "reason": "duplicate"}
    assert _post(client, _event("evt_dp_charge", "charge.dispute.created", by_charge))["outcome"] == \
        "dispute dp_charge: warning_needs_response"
    assert _post(client, _event("evt_dp_intent", "charge.dispute.created", by_intent))["outcome"] == \
        "dispute dp_intent: needs_response"
    assert _post(client, _event("evt_dp_no_id", "charge.dispute.created", {**by_charge, "id": None}))["outcome"] == \
        "dispute without id"
    # An update that names neither keeps what the dispute was tied to.
    _post(client, _event("evt_dp_charge_updated", "charge.dispute.updated",
                         {"id": "dp_charge", "object": "dispute", "status": "under_review"}))
    db.session.expire_all()
    on_charge, on_intent = db.session.get(Dispute, "dp_charge"), db.session.get(Dispute, "dp_intent")
    assert (on_charge.payment_id, on_charge.stripe_charge_id, on_charge.amount_cents, on_charge.currency,
            on_charge.status, on_charge.created) == (second.id, second.stripe_charge_id, 21000, "USD", "under_review",
                                                     datetime.utcfromtimestamp(opened))
    assert (on_intent.payment_id, on_intent.stripe_charge_id, on_intent.amount_cents, on_intent.currency,
            on_intent.status) == (first.id, None, 16000, "USD", "needs_response")
    assert abs(on_intent.created - utcnow()) < timedelta(minutes=5)
    # Still open: the reason of the first event kept, no closing date, the last event's object kept as sent.
    assert on_charge.reason == "fraudulent" and on_charge.closed_at is None and on_charge.is_open
    assert json.loads(on_charge.raw) == {"id": "dp_charge", "object": "dispute", "status": "under_review"}
    assert db.session.get(StripeEvent, "evt_dp_charge").payment_id == second.id
    assert db.session.get(StripeEvent, "evt_dp_no_id").payment_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dispute)) == 2
    assert db.session.get(Payment, second.id).status_label == "Disputed"
    assert db.session.get(Payment, first.id).status_label == "Disputed"


def test_refund_events_find_the_payment_by_charge_or_by_intent_and_record_only_good_refunds(paid, client):
    """charge.refunded (its object a charge with Stripe's list of refunds) and charge.refund.updated (its object
    one refund): the payment is found by the intent or by the charge alone; failed, canceled and malformed items
    are skipped; a charge we do not know, or a refund list that is not Stripe's list object, records nothing."""
    second, peer = paid["second"], paid["peer"]

    def refund_at_stripe(amount):
        made = stripe_api(peer, "/v1/refunds", {"payment_intent": second.stripe_payment_intent_id, "amount": amount})
        return {"id": made["id"], "object": "refund", "amount": amount, "currency": "usd", "status": "succeeded",
                "created": made["created"], "metadata": {}}

    def refunded_cents():
        db.session.expire_all()
        return sorted(r.amount_cents for r in db.session.get(Payment, second.id).refunds)

    now = int(time.time())
    unknown = {"id": "ch_not_ours", "object": "charge", "payment_intent": "pi_not_ours", "amount": 1000,
               "refunds": {"object": "list", "data": [{"id": "re_not_ours", "amount": 1000, "status": "succeeded",
                                                       "created": now}]}}
    assert _post(client, _event("evt_re_unknown", "charge.refunded", unknown))["outcome"] == "unknown payment"
    assert db.session.get(StripeEvent, "evt_re_unknown").payment_id is None
    assert db.session.scalar(sa.select(Refund.id).where(Refund.stripe_refund_id == "re_not_ours")) is None

    # By the charge alone (no intent in the object); only the good item of five is recorded.
    good = refund_at_stripe(2000)
    by_charge = {"id": second.stripe_charge_id, "object": "charge", "amount": 21000, "currency": "usd",
                 "refunds": {"object": "list", "data": [
                     {**good, "id": "re_failed", "status": "failed"}, {**good, "id": "re_canceled", "status": "canceled"},
                     {**good, "id": None}, "re_just_an_id", good]}}
    assert _post(client, _event("evt_re_by_charge", "charge.refunded", by_charge))["outcome"] == \
        f"payment {second.id}: 1 refund(s) recorded from Stripe"
    assert refunded_cents() == [2000]
    assert db.session.get(StripeEvent, "evt_re_by_charge").payment_id == second.id

    # Stripe's list object is required: a bare list records nothing (and is answered, not a 500).
    as_list = {**by_charge, "refunds": [refund_at_stripe(500)]}
    assert _post(client, _event("evt_re_as_list", "charge.refunded", as_list))["outcome"] == \
        f"payment {second.id}: 0 refund(s) recorded from Stripe"
    assert refunded_cents() == [2000]

    # By the intent alone (a charge id we do not have).
    by_intent = {"id": "ch_other", "object": "charge", "payment_intent": {"id": second.stripe_payment_intent_id},
                 "refunds": {"object": "list", "data": [refund_at_stripe(3000)]}}
    assert _post(client, _event("evt_re_by_intent", "charge.refunded", by_intent))["outcome"] == \
        f"payment {second.id}: 1 refund(s) recorded from Stripe"
    assert refunded_cents() == [2000, 3000]

    # charge.refund.updated carries the refund itself, naming its charge; a failed one is not recorded.
    updated = {**refund_at_stripe(1500), "charge": second.stripe_charge_id}
    assert _post(client, _event("evt_re_updated", "charge.refund.updated", updated))["outcome"] == \
        f"payment {second.id}: 1 refund(s) recorded from Stripe"
    failed = {**refund_at_stripe(700), "status": "failed", "charge": {"id": second.stripe_charge_id}}
    assert _post(client, _event("evt_re_failed", "charge.refund.updated", failed))["outcome"] == \
        f"payment {second.id}: 0 refund(s) recorded from Stripe"
    assert refunded_cents() == [1500, 2000, 3000]
    db.session.expire_all()
    assert db.session.get(Payment, second.id).status is PaymentStatus.PARTIALLY_REFUNDED


def test_a_dispute_event_missing_or_malforming_fields_is_stored_plainly_booked_to_its_dispute_and_closes_once(
        paid, client, clock):
    """What a dispute event leaves out: no amount is 0, no reason is none, a reason is cut at 100 characters, an
    `evidence_details` that is not an object is ignored; Stripe's currency is kept, and USD when nothing says one.
    Its balance transactions are booked against the dispute's payment and chapter; a dispute closes once, and
    later events keep the day it closed."""
    second = paid["second"]
    opened = datetime.utcnow().replace(microsecond=0) + timedelta(hours=1)
    clock(opened, tick=False)
    withdrawn = {"id": "txn_bare", "object": "balance_transaction", "amount": -21000, "fee": 1500, "currency": "eur",
                 "created": int(time.time()), "type": "adjustment", "source": "du_not_the_dispute"}
    bare = {"id": "dp_bare", "object": "dispute", "charge": second.stripe_charge_id, "currency": "eur",
            "evidence_details": "soon", "balance_transactions": [withdrawn]}
    assert _post(client, _event("evt_dp_bare", "charge.dispute.created", bare))["outcome"] == \
        "dispute dp_bare: needs_response"
    stranger = {"id": "dp_stranger", "object": "dispute", "charge": "ch_not_ours", "amount": 500, "reason": "x" * 101}
    _post(client, _event("evt_dp_stranger", "charge.dispute.created", stranger))
    db.session.expire_all()
    on_ours, on_none = db.session.get(Dispute, "dp_bare"), db.session.get(Dispute, "dp_stranger")
    assert (on_ours.payment_id, on_ours.amount_cents, on_ours.currency, on_ours.reason, on_ours.evidence_due_by) == \
        (second.id, 0, "EUR", None, None)
    assert (on_none.payment_id, on_none.amount_cents, on_none.currency, on_none.reason) == (None, 500, "USD", "x" * 100)
    assert db.session.get(StripeEvent, "evt_dp_stranger").payment_id is None
    [booked] = _entries(LedgerKind.DISPUTE, stripe_balance_transaction_id="txn_bare")
    [fee] = _entries(LedgerKind.STRIPE_FEE, stripe_balance_transaction_id="txn_bare")
    assert (booked.payment_id, booked.chapter_id, booked.currency, booked.amount_cents) == \
        (second.id, second.chapter_id, "EUR", -21000)
    assert "dp_bare" in booked.description and "dp_bare" in fee.description and fee.payment_id == second.id

    clock(opened + timedelta(days=20), tick=False)
    _post(client, _event("evt_dp_won", "charge.dispute.closed", {**bare, "status": "won", "balance_transactions": []}))
    clock(opened + timedelta(days=21), tick=False)
    _post(client, _event("evt_dp_after", "charge.dispute.updated", {"id": "dp_bare", "object": "dispute", "status": "won"}))
    db.session.expire_all()
    closed = db.session.get(Dispute, "dp_bare")
    assert not closed.is_open and closed.closed_at == opened + timedelta(days=20)


def test_refund_events_keep_stripes_date_our_reason_and_count_each_refund(paid, client):
    """A refund of ours whose answer was lost (its metadata names our payment and reason) keeps that reason and is
    not a dashboard refund; each refund keeps Stripe's date; two in one event are both counted; an item without
    amount records nothing; charge.refund.updated naming only its intent finds the payment."""
    second, peer = paid["second"], paid["peer"]

    def refund_at_stripe(amount, **fields):
        made = stripe_api(peer, "/v1/refunds", {"payment_intent": second.stripe_payment_intent_id, "amount": amount})
        return {"id": made["id"], "object": "refund", "amount": amount, "currency": "usd", "status": "succeeded",
                "created": made["created"], "metadata": {}, **fields}

    def recorded(stripe_refund_id):
        db.session.expire_all()
        return db.session.scalar(sa.select(Refund).where(Refund.stripe_refund_id == stripe_refund_id))

    ours = refund_at_stripe(1000, created=1767225600,  # 2026-01-01 00:00 UTC
                            metadata={"payment_id": str(second.id), "reason": "Joined twice by mistake"})
    dashboard = refund_at_stripe(2000, created=1767312000)  # 2026-01-02 00:00 UTC
    charge = {"id": second.stripe_charge_id, "object": "charge", "payment_intent": second.stripe_payment_intent_id,
              "refunds": {"object": "list", "data": [ours, dashboard, {**dashboard, "id": "re_no_amount", "amount": None}]}}
    assert _post(client, _event("evt_two_refunds", "charge.refunded", charge))["outcome"] == \
        f"payment {second.id}: 2 refund(s) recorded from Stripe"
    mine = recorded(ours["id"])
    assert (mine.amount_cents, mine.reason, mine.from_dashboard, mine.refunded_at) == \
        (1000, "Joined twice by mistake", False, datetime(2026, 1, 1))
    theirs = recorded(dashboard["id"])
    assert (theirs.amount_cents, theirs.reason, theirs.from_dashboard, theirs.refunded_at) == \
        (2000, "Refunded in Stripe's dashboard", True, datetime(2026, 1, 2))
    assert recorded("re_no_amount") is None

    by_intent_only = refund_at_stripe(1500, payment_intent=second.stripe_payment_intent_id)
    assert "charge" not in by_intent_only
    assert _post(client, _event("evt_updated_by_intent", "charge.refund.updated", by_intent_only))["outcome"] == \
        f"payment {second.id}: 1 refund(s) recorded from Stripe"
    assert recorded(by_intent_only["id"]).amount_cents == 1500


def test_a_dispute_without_currency_takes_its_payments_and_keeps_at_most_20000_characters_of_stripes_object(
        paid, client):
    """A dispute naming no currency, on a payment in euros, is in EUR; a 25,000-character object is kept cut to
    20,000 characters (the column's size)."""
    second = paid["second"]
    db.session.execute(sa.update(Payment).where(Payment.id == second.id).values(currency="EUR"))
    db.session.commit()
    dispute = {"id": "dp_no_currency", "object": "dispute", "charge": second.stripe_charge_id, "amount": 1000,
               "status": "needs_response", "reason": "fraudulent", "metadata": {"note": "x" * 25000}}
    assert _post(client, _event("evt_dp_no_currency", "charge.dispute.created", dispute))["outcome"] == \
        "dispute dp_no_currency: needs_response"
    db.session.expire_all()
    stored = db.session.get(Dispute, "dp_no_currency")
    assert (stored.currency, stored.payment_id, len(stored.raw)) == ("EUR", second.id, 20000)
    assert stored.raw == json.dumps(dispute)[:20000]
