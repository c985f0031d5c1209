"""Every payment fulfilled once and only once: repeated and forged webhooks, races, double submissions."""
import threading

import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import MembershipStatus, MembershipTerm
from chapter.payments.models import Order, OrderStatus, Payment, PaymentStatus, StripeEvent
from tests import factories
from tests.payments.helpers import CARD_OK, confirm_card_setup, intent_event, pay_order, pay_page, signed_event


def _joining_member_with_order(client):
    home = factories.chapter(40)
    member = factories.member(home=home, status="pending", email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    return member, int(response.headers["Location"].rsplit("/", 1)[1])


def _post_event(client, event, secret=None):
    body, signature = signed_event(event, secret) if secret else signed_event(event)
    return client.client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature,
                                                                      "Content-Type": "application/json"})


def _pending_payment(client, stripe_peer, order_id):
    """A payment that reached Stripe but whose success we have not recorded yet (the browser went away)."""
    from chapter.payments import services

    setup_intent, _ = pay_page(client, order_id)
    confirmed = confirm_card_setup(stripe_peer, setup_intent, CARD_OK)
    order = db.session.get(Order, order_id)
    payment = services.open_payment(order)
    db.session.commit()
    result = services.charge_payment(payment, payment_method_id=confirmed["payment_method"])
    payment.stripe_payment_intent_id = result.id
    db.session.commit()
    return payment, result


def _intent(payment, **overrides):
    data = {"id": payment.stripe_payment_intent_id, "object": "payment_intent", "status": "succeeded",
            "amount": payment.amount_cents, "currency": payment.currency.lower(),
            "metadata": {"order_id": str(payment.order_id), "payment_id": str(payment.id)}}
    data.update(overrides)
    return data


def test_the_same_webhook_delivered_five_times_fulfils_once(app, client, stripe_peer):
    member, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    event = intent_event("evt_repeat_1", _intent(payment))
    answers = [_post_event(client, event).get_json() for _ in range(5)]
    assert [a["duplicate"] for a in answers] == [False, True, True, True, True]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 1
    assert db.session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    assert member.status_on(today()) is MembershipStatus.ACTIVE


def test_a_second_event_for_an_already_fulfilled_payment_changes_nothing(app, client, stripe_peer):
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    _post_event(client, intent_event("evt_a", _intent(payment)))
    answer = _post_event(client, intent_event("evt_b", _intent(payment))).get_json()
    assert answer["duplicate"] is False and "fulfilled" not in answer["outcome"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 1


def test_a_forged_webhook_gets_400_and_changes_nothing(app, client, stripe_peer):
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    event = intent_event("evt_forged", _intent(payment))
    assert _post_event(client, event, secret="whsec_wrong").status_code == 400
    body, _ = signed_event(event)
    assert client.client.post("/stripe/webhook", data=body).status_code == 400  # no signature at all
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 0
    assert db.session.get(Order, order_id).status is OrderStatus.OPEN


def test_an_event_with_another_amount_is_recorded_not_fulfilled(app, client, stripe_peer):
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    answer = _post_event(client, intent_event("evt_amount", _intent(payment, amount=100))).get_json()
    assert answer["outcome"].startswith("amount mismatch")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 0


def test_an_event_for_an_unknown_payment_is_recorded_without_crashing(app, client):
    answer = _post_event(client, intent_event("evt_unknown", {"id": "pi_nobody", "status": "succeeded", "amount": 500,
                                                             "currency": "usd", "metadata": {}}))
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "unknown payment"
    assert db.session.get(StripeEvent, "evt_unknown").outcome == "unknown payment"


def test_other_event_types_are_stored_and_ignored(app, client):
    answer = _post_event(client, {"id": "evt_customer", "type": "customer.created", "data": {"object": {"id": "cus_1"}}})
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "ignored"


def test_the_webhook_can_arrive_before_we_stored_the_intent_id(app, client, stripe_peer):
    _, order_id = _joining_member_with_order(client)
    payment, result = _pending_payment(client, stripe_peer, order_id)
    payment.stripe_payment_intent_id = None  # as if the webhook beat our own write
    db.session.commit()
    answer = _post_event(client, intent_event("evt_early", _intent(payment, id=result.id))).get_json()
    assert "fulfilled" in answer["outcome"]
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).stripe_payment_intent_id == result.id


def test_a_failed_payment_event_marks_the_payment_failed(app, client, stripe_peer):
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    db.session.execute(sa.update(Payment).values(status=PaymentStatus.PROCESSING))
    db.session.commit()
    _post_event(client, intent_event("evt_fail", _intent(payment, status="requires_payment_method",
                                                          last_payment_error={"code": "card_declined", "message": "Declined."}),
                                     "payment_intent.payment_failed"))
    db.session.expire_all()
    refreshed = db.session.get(Payment, payment.id)
    assert refreshed.status is PaymentStatus.FAILED and refreshed.failure_message == "Declined."


def test_synchronous_confirmation_and_real_webhook_race_to_one_term(app, client, stripe_webhooks, stripe_peer):
    """localstripe really calls the live app's webhook while the browser's request fulfils the order.
    The test waits for the webhook request itself to finish (Flask's request_finished signal), not a sleep."""
    from flask import request_finished

    delivered = threading.Condition()
    outcomes: list[str] = []

    def webhook_finished(sender, response, **extra):
        from flask import request

        if request.path == "/stripe/webhook":
            with delivered:
                outcomes.append(response.get_data(as_text=True))
                delivered.notify_all()

    request_finished.connect(webhook_finished, app)
    try:
        _, order_id = _joining_member_with_order(client)
        answer = pay_order(client, stripe_peer, order_id, CARD_OK)
        assert answer.get_json()["status"] == "succeeded"
        payment = db.session.scalar(sa.select(Payment))
        ours = f"payment {payment.id}:"
        with delivered:
            # localstripe may still deliver events of earlier tests' intents: wait for this payment's.
            assert delivered.wait_for(lambda: any(ours in o for o in outcomes), timeout=30), outcomes
    finally:
        request_finished.disconnect(webhook_finished, app)
    db.session.expire_all()
    event = db.session.scalar(sa.select(StripeEvent).where(StripeEvent.type == "payment_intent.succeeded",
                                                           StripeEvent.payment_id == payment.id))
    assert event is not None and event.processed_at is not None, event.outcome if event else outcomes
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


def test_an_event_whose_processing_fails_leaves_no_row_so_stripes_retry_applies_it(app, client, stripe_peer, monkeypatch):
    """The event row is written in the request's own transaction: no savepoint commits it before it is applied."""
    from chapter.payments import webhooks

    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    event = intent_event("evt_dies_half_way", _intent(payment))

    def dies(*args, **kwargs):
        raise RuntimeError("the worker died while applying the event")

    monkeypatch.setattr(webhooks, "apply_intent_result", dies)
    try:
        _post_event(client, event)
    except RuntimeError:
        pass
    db.session.rollback()
    monkeypatch.undo()
    with db.engine.connect() as other:  # what another connection sees: nothing committed
        assert other.execute(sa.text("SELECT count(*) FROM stripe_events")).scalar() == 0
    answer = _post_event(client, event).get_json()  # Stripe's retry
    assert answer["duplicate"] is False and "fulfilled" in answer["outcome"]


def test_two_payment_submissions_in_parallel_charge_once(app, client, stripe_peer, live_server):
    """Two tabs press Pay at the same moment: one payment, one term; the other is told to wait."""
    import json
    import urllib.request

    _, order_id = _joining_member_with_order(client)
    setup_a, token = pay_page(client, order_id)
    setup_b, _ = pay_page(client, order_id)
    confirm_card_setup(stripe_peer, setup_a, CARD_OK)
    confirm_card_setup(stripe_peer, setup_b, CARD_OK)
    session_cookie = client.client.get_cookie("session").value
    results = []

    def press_pay(setup_intent):
        request = urllib.request.Request(
            f"{live_server}/pay/{order_id}/charge", method="POST",
            data=json.dumps({"setup_intent_id": setup_intent}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token, "Cookie": f"session={session_cookie}",
                     "Referer": live_server})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                results.append((response.status, json.loads(response.read())))
        except urllib.error.HTTPError as error:
            results.append((error.code, json.loads(error.read() or b"{}")))

    threads = [threading.Thread(target=press_pay, args=(s,)) for s in (setup_a, setup_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(code for code, _ in results)
    assert statuses in ([200, 409], [200, 400]), results
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment).where(
        Payment.status == PaymentStatus.SUCCEEDED)) == 1
    from chapter.payments.models import Refund
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 0  # no second charge at all


def test_double_clicked_join_reuses_the_open_order(app, client):
    from datetime import timedelta

    from chapter.core.models import today
    from chapter.members.eligibility import declare_eligibility

    home = factories.chapter(40)
    member = factories.member(home=home, status="pending", email="ada@example.org", with_user=True)
    # Student asks for eligibility first (school, graduation): declared already, so the join goes straight on.
    declare_eligibility(member, factories.membership_type("student"), day=today(), school="Penn State",
                        expected_graduation=today() + timedelta(days=400))
    db.session.commit()
    client.login("ada@example.org")
    first = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    second = client.submit("/membership/join", {"membership_type_id": factories.membership_type("student").id})
    assert first.headers["Location"] == second.headers["Location"]
    order = db.session.scalar(sa.select(Order))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    assert order.total_cents == 4500  # repriced to the last choice


def test_a_second_successful_payment_for_a_paid_order_is_refunded_at_once(app, client, stripe_peer):
    """Belt and braces behind the row lock: if two charges ever succeed, the second is given back."""
    from chapter.payments import services
    from chapter.payments.models import Refund

    _, order_id = _joining_member_with_order(client)
    first, _ = _pending_payment(client, stripe_peer, order_id)
    services.apply_intent_result(first, services.gateway.retrieve_payment_intent(first.stripe_payment_intent_id))
    db.session.commit()
    # A second charge that slipped past every guard (inserted directly, as a race would).
    second = Payment(order_id=order_id, amount_cents=first.amount_cents, currency="USD", status=PaymentStatus.PROCESSING)
    db.session.add(second)
    db.session.commit()
    result = services.charge_payment(second, payment_method_id=first.stripe_payment_method_id)
    services.apply_intent_result(second, result)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Payment, second.id).status is PaymentStatus.REFUNDED
    refund = db.session.scalar(sa.select(Refund))
    assert refund.amount_cents == 21000 and "Duplicate payment" in refund.reason and refund.stripe_refund_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 1


def test_an_event_stored_but_not_processed_is_processed_on_redelivery(app, client, stripe_peer):
    """If the first delivery died after storing the event, Stripe's retry must still take effect."""
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    event = intent_event("evt_half_done", _intent(payment))
    db.session.add(StripeEvent(id="evt_half_done", type=event["type"], payload="{}"))
    db.session.commit()
    answer = _post_event(client, event).get_json()
    assert answer["duplicate"] is False and "fulfilled" in answer["outcome"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 1
    assert _post_event(client, event).get_json()["duplicate"] is True


def _terms() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm))


def test_an_intent_event_without_metadata_is_matched_by_the_intent_id_we_stored(app, client, stripe_peer):
    """Stripe's own retries and dashboard-made events carry the intent id; the payment is found by it."""
    member, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    answer = _post_event(client, intent_event("evt_no_metadata", _intent(payment, metadata={}))).get_json()
    assert answer["outcome"] == f"payment {payment.id}: succeeded, fulfilled"
    db.session.expire_all()
    assert db.session.get(StripeEvent, "evt_no_metadata").payment_id == payment.id
    assert _terms() == 1 and member.status_on(today()) is MembershipStatus.ACTIVE


def test_an_event_naming_our_payment_in_its_metadata_but_another_intent_changes_nothing(app, client, stripe_peer):
    """Metadata can name any payment: a second intent claiming an already charged payment is not applied."""
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    answer = _post_event(client, intent_event("evt_other_intent", _intent(payment, id="pi_someone_else"))).get_json()
    assert answer["outcome"] == "unknown payment"
    for bad_id in ("not-a-number", "", None):
        forged = _intent(payment, id="pi_unknown", metadata={"payment_id": bad_id})
        assert _post_event(client, intent_event(f"evt_bad_{bad_id}", forged)).get_json()["outcome"] == "unknown payment"
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is not PaymentStatus.SUCCEEDED
    assert db.session.get(StripeEvent, "evt_other_intent").payment_id is None
    assert _terms() == 0


def test_an_event_in_another_currency_is_recorded_not_fulfilled(app, client, stripe_peer):
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    answer = _post_event(client, intent_event("evt_currency", _intent(payment, currency="eur"))).get_json()
    assert answer["outcome"] == f"amount mismatch: event {payment.amount_cents} eur, payment {payment.amount_cents} USD"
    db.session.expire_all()
    assert db.session.get(StripeEvent, "evt_currency").payment_id == payment.id
    assert _terms() == 0
    # The same amount and currency without case (Stripe writes "usd") is ours: fulfilled.
    same = _post_event(client, intent_event("evt_currency_ok", _intent(payment, currency="USD"))).get_json()
    assert same["outcome"] == f"payment {payment.id}: succeeded, fulfilled" and same["duplicate"] is False
    assert _terms() == 1


def test_a_canceled_intent_event_marks_the_payment_canceled(app, client, stripe_peer):
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    db.session.execute(sa.update(Payment).values(status=PaymentStatus.PROCESSING))
    db.session.commit()
    answer = _post_event(client, intent_event("evt_cancel", _intent(payment, status="canceled"),
                                              "payment_intent.canceled")).get_json()
    assert answer["outcome"] == f"payment {payment.id}: canceled"
    db.session.expire_all()
    refreshed = db.session.get(Payment, payment.id)
    assert refreshed.status is PaymentStatus.CANCELED and refreshed.failure_code == "canceled"
    stored = db.session.get(StripeEvent, "evt_cancel")
    assert stored.processed_at is not None and stored.outcome == answer["outcome"] and stored.payment_id == payment.id
    assert _terms() == 0


def test_an_event_without_an_id_is_refused_and_a_long_type_is_cut_to_fit(app, client):
    """The page refuses a malformed event before the service; the service keeps its own guard (an event
    without a string id is refused) and stores a type cut to the column's 100 characters."""
    import pytest

    from chapter.core.errors import DomainError
    from chapter.payments import webhooks

    answer = _post_event(client, {"object": "event", "type": "customer.created", "data": {"object": {}}})
    assert answer.status_code == 400 and answer.get_json() == {"error": "invalid signature"}
    for event in ({"type": "customer.created", "data": {"object": {}}}, {"id": 42, "type": "customer.created"},
                  {"id": "", "type": "customer.created"}):
        with pytest.raises(DomainError, match="event without id"):
            webhooks.receive_webhook(event)
    long_type = "customer." + "x" * 200
    outcome = webhooks.receive_webhook({"id": "evt_long", "type": long_type})
    db.session.commit()
    assert (outcome.duplicate, outcome.outcome, outcome.fulfilled_payment_id) == (False, "ignored", None)
    db.session.expire_all()
    stored = db.session.get(StripeEvent, "evt_long")
    assert stored.type == long_type[:100] and stored.outcome == "ignored" and stored.processed_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 1
    assert webhooks.receive_webhook({"id": "evt_long", "type": long_type}).duplicate is True


def _receipts(payment) -> list[str]:
    from chapter.jobs.models import OutboxMail

    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMail.subject).where(OutboxMail.template == "receipt")
                                   .order_by(OutboxMail.id)))


def test_the_event_that_fulfils_a_payment_sends_one_receipt_and_a_later_event_none(app, client, stripe_peer):
    """The receipt goes with the fulfilling event only: a second succeeded event and a repeat write no mail."""
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    reference = db.session.get(Order, order_id).reference
    assert _receipts(payment) == []
    _post_event(client, intent_event("evt_receipt_1", _intent(payment)))
    assert _receipts(payment) == [f"Receipt for {reference}"]
    _post_event(client, intent_event("evt_receipt_2", _intent(payment)))
    _post_event(client, intent_event("evt_receipt_1", _intent(payment)))
    assert _receipts(payment) == [f"Receipt for {reference}"]


def test_a_failed_event_records_stripes_reason_and_intent_even_before_we_stored_the_intent(app, client, stripe_peer):
    """payment_intent.payment_failed (the intent back at requires_payment_method, no status of "failed" in it):
    the payment fails with Stripe's code and message, learns its intent id from the event and keeps its raw object."""
    import json

    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    intent_id = payment.stripe_payment_intent_id
    db.session.execute(sa.update(Payment).values(status=PaymentStatus.PROCESSING, stripe_payment_intent_id=None))
    db.session.commit()
    error = {"code": "insufficient_funds", "message": "Your card has insufficient funds."}
    intent = _intent(payment, id=intent_id, status="requires_payment_method", last_payment_error=error)
    answer = _post_event(client, intent_event("evt_failed_reason", intent, "payment_intent.payment_failed")).get_json()
    assert answer == {"received": True, "duplicate": False, "outcome": f"payment {payment.id}: failed"}
    db.session.expire_all()
    failed = db.session.get(Payment, payment.id)
    assert (failed.status, failed.failure_code, failed.failure_message, failed.stripe_payment_intent_id) == \
        (PaymentStatus.FAILED, "insufficient_funds", "Your card has insufficient funds.", intent_id)
    assert json.loads(failed.raw)["last_payment_error"] == error
    assert _receipts(payment) == []


def test_a_canceled_event_says_canceled_whatever_error_the_intent_last_had(app, client, stripe_peer):
    """An intent declined once, then canceled: the payment is canceled with the code "canceled", the last message
    Stripe gave, its intent id learnt from the event and the canceled intent as its raw object."""
    import json

    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    intent_id = payment.stripe_payment_intent_id
    db.session.execute(sa.update(Payment).values(status=PaymentStatus.PROCESSING, stripe_payment_intent_id=None))
    db.session.commit()
    intent = _intent(payment, id=intent_id, status="canceled", cancellation_reason="abandoned",
                     last_payment_error={"code": "card_declined", "message": "Your card was declined."})
    answer = _post_event(client, intent_event("evt_canceled_after_decline", intent, "payment_intent.canceled"))
    assert answer.get_json()["outcome"] == f"payment {payment.id}: canceled"
    db.session.expire_all()
    canceled = db.session.get(Payment, payment.id)
    assert (canceled.status, canceled.failure_code, canceled.failure_message, canceled.stripe_payment_intent_id) == \
        (PaymentStatus.CANCELED, "canceled", "Your card was declined.", intent_id)
    assert json.loads(canceled.raw)["cancellation_reason"] == "abandoned"


def test_an_event_without_a_type_is_kept_whole_with_an_empty_type_and_answered_exactly(app):
    """The service's own answers: an event of no type is stored as typed "" with its whole payload, ignored;
    its repeat is a duplicate of the same id; an event without id is refused with the exact message."""
    import json

    import pytest

    from chapter.core.errors import DomainError
    from chapter.payments import webhooks

    event = {"id": "evt_no_type", "object": "event", "data": {"object": {"id": "obj_1"}}}
    assert webhooks.receive_webhook(event) == webhooks.WebhookOutcome("evt_no_type", False, "ignored", None)
    stored = db.session.get(StripeEvent, "evt_no_type")
    assert (stored.type, json.loads(stored.payload), stored.outcome) == ("", event, "ignored")
    assert webhooks.receive_webhook(event) == webhooks.WebhookOutcome("evt_no_type", True, "duplicate", None)
    with pytest.raises(DomainError) as refused:
        webhooks.receive_webhook({"type": "customer.created"})
    assert (refused.value.message, refused.value.field) == ("event without id", None)


def test_a_long_outcome_is_stored_cut_to_300_characters(app, client, stripe_peer):
    """An amount mismatch naming a 400-character currency: the answer says it all, the row keeps 300 characters."""
    _, order_id = _joining_member_with_order(client)
    payment, _ = _pending_payment(client, stripe_peer, order_id)
    answer = _post_event(client, intent_event("evt_long_outcome", _intent(payment, currency="x" * 400))).get_json()
    expected = f"amount mismatch: event {payment.amount_cents} {'x' * 400}, payment {payment.amount_cents} USD"
    assert answer["outcome"] == expected[:300]
    db.session.expire_all()
    assert db.session.get(StripeEvent, "evt_long_outcome").outcome == expected[:300]
