"""Money that survives failure: lost answers, abandoned 3-D Secure, Stripe's errors told apart,
prices that change under the member, ownership of cards and customers, explicit time-outs.

localstripe cannot time out mid-call, drop a connection after charging, or answer amount_too_small:
those tests replace the Stripe library's PaymentIntent create with one that does what real Stripe
does (charges at localstripe, then the answer is lost; or raises Stripe's own error class), so the
same gateway code path real Stripe reaches runs. Each such test says so.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import stripe
from stripe._payment_intent_service import PaymentIntentService

from chapter.core.models import today, utcnow
from chapter.extensions import db
from chapter.members.models import MembershipStatus, MembershipTerm
from chapter.payments import attempts, gateway
from chapter.payments.models import Order, OrderStatus, Payment, PaymentStatus
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.payments.helpers import (
    CARD_3DS, CARD_OK, confirm_card_setup, intent_event, page_quote, pay_order, pay_page, post_json, signed_event,
    stripe_api,
)

REAL_CREATE = PaymentIntentService.create


def _member(status="pending", type_code="professional"):
    """Ada of chapter #40, who has declared what makes her eligible for the Student and Retired types."""
    from datetime import date

    from chapter.members import eligibility

    home = factories.chapter(40, name="Schuylkill Valley")
    member = factories.member(home=home, status=status, email="ada@example.org", with_user=True, first_name="Ada",
                              type_code=type_code)
    eligibility.declare_eligibility(member, factories.membership_type("student"), day=today(), school="Penn State",
                                    expected_graduation=today() + timedelta(days=365))
    eligibility.declare_eligibility(member, factories.membership_type("retired"), day=today(),
                                    date_of_birth=date(1950, 1, 1), retirement_declared=True)
    db.session.commit()
    return member


def _start(client, url, type_code="professional"):
    response = client.submit(url, {"membership_type_id": factories.membership_type(type_code).id})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _age(payment_id: int, minutes: int) -> None:
    """Let time pass for an attempt (as if the member came back later)."""
    moment = utcnow() - timedelta(minutes=minutes)
    db.session.execute(sa.update(Payment).where(Payment.id == payment_id).values(created_at=moment, updated_at=moment))
    db.session.commit()


def _intents(peer):
    return stripe_api(peer, "/v1/payment_intents", None, method="GET")["data"]


# --- 1. An attempt whose answer was lost is never "failed" -------------------------------------

def test_a_charge_whose_answer_was_lost_is_unknown_and_the_pages_next_check_finds_it_paid(app, client, stripe_peer,
                                                                                          monkeypatch, smtp_server):
    """Stripe charges, then the connection drops before its answer reaches us (fed to the gateway as
    Stripe's own APIConnectionError after the real create at localstripe)."""
    def charge_then_lose_the_answer(self, *args, **kwargs):
        REAL_CREATE(self, *args, **kwargs)
        raise stripe.APIConnectionError("Read timed out.")

    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    monkeypatch.setattr(PaymentIntentService, "create", charge_then_lose_the_answer)
    answer = pay_order(client, stripe_peer, order_id, CARD_OK)
    monkeypatch.setattr(PaymentIntentService, "create", REAL_CREATE)

    assert answer.status_code == 202 and answer.get_json()["status"] == "unknown"
    assert "Do not pay again" in answer.get_json()["message"]
    db.session.expire_all()
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status is PaymentStatus.UNKNOWN and payment.stripe_payment_intent_id is None
    assert [i["status"] for i in _intents(stripe_peer)] == ["succeeded"]  # Stripe did charge
    # The page asks again by itself: Stripe's answer (the intent found by its metadata) settles it.
    _, token = pay_page(client, order_id)
    settled = post_json(client, answer.get_json()["refresh_url"], token, {})
    assert settled.get_json()["status"] == "succeeded"
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.stripe_payment_intent_id.startswith("pi_")
    assert member.status_on(today()) is MembershipStatus.ACTIVE
    assert db.session.get(Order, order_id).status is OrderStatus.PAID
    run_jobs()
    assert any(m["Subject"].startswith("Receipt for") for m in smtp_server)


def test_a_member_coming_back_after_a_lost_answer_sees_the_payment_settled(app, client, stripe_peer, monkeypatch):
    """Same lost answer (Stripe's APIConnectionError after a real create); the member leaves and opens the pay page later."""
    def charge_then_lose_the_answer(self, *args, **kwargs):
        REAL_CREATE(self, *args, **kwargs)
        raise stripe.APIConnectionError("Connection reset by peer.")

    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    monkeypatch.setattr(PaymentIntentService, "create", charge_then_lose_the_answer)
    pay_order(client, stripe_peer, order_id, CARD_OK)
    monkeypatch.setattr(PaymentIntentService, "create", REAL_CREATE)
    payment_id = db.session.scalar(sa.select(Payment.id))
    # Coming back at once: the attempt still holds the order (nobody can pay a second time).
    assert "waiting for the payment service" in client.get(f"/pay/{order_id}").get_data(as_text=True)
    _age(payment_id, 3)
    back = client.get(f"/pay/{order_id}", follow_redirects=True).get_data(as_text=True)
    assert "Receipt" in back and "Succeeded" in back
    db.session.expire_all()
    assert member.status_on(today()) is MembershipStatus.ACTIVE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


def test_a_worker_that_died_between_the_charge_and_the_commit_leaves_an_attempt_stripe_settles(app, client, stripe_peer):
    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    setup_intent, _ = pay_page(client, order_id)
    confirmed = confirm_card_setup(stripe_peer, setup_intent, CARD_OK)
    payment = attempts.open_payment(db.session.get(Order, order_id), payment_method_id=confirmed["payment_method"])
    db.session.commit()  # the claim, as the pay view commits it
    attempts.charge_payment(payment)  # Stripe charges...
    db.session.rollback()  # ...and the worker dies before recording anything
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PENDING
    _age(payment.id, 3)
    client.get(f"/pay/{order_id}")  # the member's next visit asks Stripe
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    assert member.status_on(today()) is MembershipStatus.ACTIVE


def test_the_treasury_sync_settles_an_attempt_whose_answer_was_lost(app, client, stripe_peer):
    from chapter.treasury import sync

    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    setup_intent, _ = pay_page(client, order_id)
    confirmed = confirm_card_setup(stripe_peer, setup_intent, CARD_OK)
    payment = attempts.open_payment(db.session.get(Order, order_id), payment_method_id=confirmed["payment_method"])
    db.session.commit()
    attempts.charge_payment(payment)
    db.session.rollback()
    _age(payment.id, 3)
    sync.sync_stripe()
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    assert member.status_on(today()) is MembershipStatus.ACTIVE


def test_a_charge_that_never_reached_stripe_stays_unknown_until_stripe_says_it_has_none(app, client, stripe_peer, monkeypatch):
    """The request dies before Stripe (Stripe's APIConnectionError, nothing created at localstripe)."""
    def never_arrives(self, *args, **kwargs):
        raise stripe.APIConnectionError("Connection refused.")

    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    monkeypatch.setattr(PaymentIntentService, "create", never_arrives)
    answer = pay_order(client, stripe_peer, order_id, CARD_OK)
    monkeypatch.setattr(PaymentIntentService, "create", REAL_CREATE)
    assert answer.get_json()["status"] == "unknown"
    payment_id = db.session.scalar(sa.select(Payment.id))
    _age(payment_id, 3)
    # Stripe has no intent for it: only now is it failed, and the member may pay at once.
    page = client.get(f"/pay/{order_id}").get_data(as_text=True)
    assert "never reached the payment service; nothing was charged" in page
    db.session.expire_all()
    assert db.session.get(Payment, payment_id).status is PaymentStatus.FAILED
    assert pay_order(client, stripe_peer, order_id, CARD_OK).get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert member.status_on(today()) is MembershipStatus.ACTIVE


def test_a_success_for_an_attempt_we_had_given_up_on_fulfils_the_unpaid_order(app, client, stripe_peer):
    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    setup_intent, _ = pay_page(client, order_id)
    confirmed = confirm_card_setup(stripe_peer, setup_intent, CARD_OK)
    order = db.session.get(Order, order_id)
    payment = attempts.open_payment(order, payment_method_id=confirmed["payment_method"])
    db.session.commit()
    result = attempts.charge_payment(payment)
    payment.stripe_payment_intent_id = result.id
    payment.status = PaymentStatus.FAILED  # what an older version wrote for an attempt without answer
    db.session.commit()
    body, signature = signed_event(intent_event("evt_late_success", {
        "id": result.id, "object": "payment_intent", "status": "succeeded", "amount": 21000, "currency": "usd",
        "metadata": {"order_id": str(order_id), "payment_id": str(payment.id)}}))
    answer = client.client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature})
    assert "fulfilled" in answer.get_json()["outcome"]
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    assert member.status_on(today()) is MembershipStatus.ACTIVE


def test_a_success_for_an_order_already_paid_is_refunded_at_once_and_the_member_told(app, client, stripe_peer, smtp_server):
    _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    assert pay_order(client, stripe_peer, order_id, CARD_OK).get_json()["status"] == "succeeded"
    first = db.session.scalar(sa.select(Payment))
    # A second charge that slipped past every guard (inserted directly, as an old race would).
    second = Payment(order_id=order_id, amount_cents=21000, currency="USD", status=PaymentStatus.UNKNOWN,
                     stripe_customer_id=first.stripe_customer_id, stripe_payment_method_id=first.stripe_payment_method_id)
    db.session.add(second)
    db.session.commit()
    attempts.apply_intent_result(second, attempts.charge_payment(second))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Payment, second.id).status is PaymentStatus.REFUNDED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 1
    # The order stays paid (by the first payment, untouched); the refund says why.
    order = db.session.get(Order, order_id)
    assert order.status is OrderStatus.PAID and db.session.get(Payment, first.id).status is PaymentStatus.SUCCEEDED
    [refund] = db.session.get(Payment, second.id).refunds
    assert (refund.amount_cents, refund.reason) == (21000, f"Duplicate payment: {order.reference} was already paid")
    run_jobs()
    mail = [m for m in smtp_server if "Second payment" in m["Subject"]]
    assert mail and "refunded in full at once" in text_of(mail[0])


# --- 2. Nobody is blocked for good -----------------------------------------------------------------

def test_an_abandoned_three_d_secure_is_cancelled_at_stripe_when_the_member_returns_and_another_card_pays(
        app, client, stripe_peer):
    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    answer = pay_order(client, stripe_peer, order_id, CARD_3DS)
    assert answer.get_json()["status"] == "requires_action"
    payment = db.session.scalar(sa.select(Payment))
    # While it is still valid, My payments and the pay page offer to complete it.
    assert "Complete authentication" in client.get("/my/payments").get_data(as_text=True)
    page = client.get(f"/pay/{order_id}").get_data(as_text=True)
    assert "Complete authentication" in page and 'id="pay-button" class="btn btn-primary w-100 mt-3" disabled' in page
    _, token = pay_page(client, order_id)
    resumed = post_json(client, f"/pay/{order_id}/payments/{payment.id}/authenticate", token, {})
    assert resumed.get_json()["client_secret"].startswith(payment.stripe_payment_intent_id)
    # The member goes away; coming back later, the attempt is cancelled at Stripe first.
    _age(payment.id, 6)
    page = client.get(f"/pay/{order_id}").get_data(as_text=True)
    assert "Complete authentication" not in page
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.CANCELED
    intent = stripe_api(stripe_peer, f"/v1/payment_intents/{payment.stripe_payment_intent_id}", None, method="GET")
    assert intent["status"] == "canceled"  # it can never succeed later
    assert pay_order(client, stripe_peer, order_id, CARD_OK).get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert member.status_on(today()) is MembershipStatus.ACTIVE


@pytest.mark.parametrize("event_type, status", [("payment_intent.canceled", PaymentStatus.CANCELED),
                                                ("payment_intent.payment_failed", PaymentStatus.FAILED)])
def test_an_intent_stripe_closed_settles_the_attempt_and_frees_the_order(app, client, stripe_peer, event_type, status):
    _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    pay_order(client, stripe_peer, order_id, CARD_3DS)
    payment = db.session.scalar(sa.select(Payment))
    body, signature = signed_event(intent_event(f"evt_{status.value}", {
        "id": payment.stripe_payment_intent_id, "object": "payment_intent",
        "status": "canceled" if status is PaymentStatus.CANCELED else "requires_payment_method",
        "amount": 21000, "currency": "usd", "metadata": {"payment_id": str(payment.id)},
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."}}, event_type))
    client.client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature})
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is status
    order = db.session.get(Order, order_id)
    assert order.status is OrderStatus.OPEN and attempts.attempt_in_flight(order) is None
    assert pay_order(client, stripe_peer, order_id, CARD_OK).get_json()["status"] == "succeeded"


def test_a_request_stripe_refuses_is_a_failed_attempt_with_a_message_a_person_understands(app, client, stripe_peer, monkeypatch):
    """Stripe answers amount_too_small (localstripe cannot: its own InvalidRequestError is raised in the library's create)."""
    def too_small(self, *args, **kwargs):
        raise stripe.InvalidRequestError("Amount must be at least $0.50 usd", "amount", code="amount_too_small")

    _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    monkeypatch.setattr(PaymentIntentService, "create", too_small)
    answer = pay_order(client, stripe_peer, order_id, CARD_OK)
    monkeypatch.setattr(PaymentIntentService, "create", REAL_CREATE)
    assert answer.status_code == 402
    assert "below the smallest card payment" in answer.get_json()["message"]
    db.session.expire_all()
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status is PaymentStatus.FAILED and payment.failure_code == "amount_too_small"


def test_stripe_refusing_the_request_itself_fails_the_attempt_instead_of_leaving_it_unknown(app, client, stripe_peer, monkeypatch):
    """Stripe answers 401 (a revoked key): its own AuthenticationError raised in the library's create."""
    def refused(self, *args, **kwargs):
        raise stripe.AuthenticationError("Invalid API Key provided")

    _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    monkeypatch.setattr(PaymentIntentService, "create", refused)
    answer = pay_order(client, stripe_peer, order_id, CARD_OK)
    monkeypatch.setattr(PaymentIntentService, "create", REAL_CREATE)
    assert answer.status_code == 402 and "refused this payment" in answer.get_json()["message"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(Payment)).status is PaymentStatus.FAILED


def test_a_saved_card_stripe_no_longer_has_is_refused_with_a_reason_not_left_unknown(app, client, stripe_peer):
    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    pay_page(client, order_id)  # makes the Stripe customer
    member.saved_payment_method_id, member.saved_card_brand, member.saved_card_last4 = "pm_gone_1234", "visa", "4242"
    db.session.commit()
    _, token = pay_page(client, order_id)
    answer = post_json(client, f"/pay/{order_id}/charge", token, {"use_saved_card": True})
    assert answer.status_code == 402 and "Nothing was charged" in answer.get_json()["message"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(Payment)).status is PaymentStatus.FAILED


# --- 3. The amount shown is the amount charged -----------------------------------------------------

def test_a_charge_for_an_order_changed_in_another_tab_is_refused_as_the_price_changed(app, client, stripe_peer):
    from datetime import timedelta

    from chapter.core.models import today
    from chapter.members.eligibility import declare_eligibility

    member = _member()
    # Student asks for eligibility first (issue 11): declared already, so the other tab goes straight to paying.
    declare_eligibility(member, factories.membership_type("student"), day=today(), school="Penn State",
                        expected_graduation=today() + timedelta(days=400))
    db.session.commit()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")  # Professional, $210
    quote = page_quote(client, order_id)
    setup_intent, token = pay_page(client, order_id)
    confirm_card_setup(stripe_peer, setup_intent, CARD_OK)
    assert _start(client, "/membership/join", "student") == order_id  # another tab: Student, $45
    answer = post_json(client, f"/pay/{order_id}/charge", token, {"setup_intent_id": setup_intent, "quote": quote})
    assert answer.status_code == 409 and answer.get_json()["message"] == "The price changed: review and pay again."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
    assert _intents(stripe_peer) == []  # nothing reached Stripe
    assert "$45.00" in client.get(f"/pay/{order_id}").get_data(as_text=True)


def test_the_exam_member_price_needs_an_active_membership_on_the_day_it_is_charged(app):
    from chapter.certifications import services as exams

    member = factories.member(home=factories.chapter(40), status="active")
    db.session.commit()
    term = db.session.scalar(sa.select(MembershipTerm))
    exam = exams.exams_on_sale(today())[0]
    day = term.ends_on  # the last day of the membership: the member price
    order = exams.start_exam_purchase(member, exam, actor=None, day=day)
    assert order.total_cents == exam.member_fee_cents
    db.session.commit()
    with pytest.raises(attempts.PriceChanged):
        attempts.open_payment(order, day=day + timedelta(days=1))  # charged the day after: membership ended
    db.session.rollback()
    assert attempts.open_payment(order, day=day).amount_cents == exam.member_fee_cents


def test_an_upgrade_quote_holds_for_its_day_only(app):
    from chapter.payments import dues

    member = factories.member(home=factories.chapter(40), status="active", type_code="student")
    db.session.commit()
    order = dues.start_type_change(member, factories.membership_type("professional"), actor=None, day=today())
    db.session.commit()
    with pytest.raises(attempts.PriceChanged):
        attempts.open_payment(order, day=today() + timedelta(days=1))
    db.session.rollback()
    assert attempts.open_payment(order, day=today()).amount_cents == order.total_cents


def test_a_second_upgrade_is_prorated_over_the_whole_term_being_upgraded(app, client, stripe_peer):
    from chapter.payments import dues

    member = _member(status="active", type_code="student")  # a 12-month term that started 100 days ago
    [term] = db.session.scalars(sa.select(MembershipTerm)).all()
    days_in_term, ends_on = (term.ends_on - term.starts_on).days + 1, term.ends_on
    client.login("ada@example.org")
    order_id = _start(client, "/membership/change-type", "retired")
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    db.session.expire_all()
    # The second upgrade, the same day: over the whole term (not over the days left after the first).
    quote = dues.quote_type_change(member, factories.membership_type("professional"), today())
    days_left = (ends_on - today()).days + 1
    assert quote.days_in_term == days_in_term
    assert quote.amount_cents == (21000 - 9500) * days_left // days_in_term


def test_an_upgrade_under_the_minimum_card_payment_is_refused_with_the_reason(app):
    from chapter.core.errors import DomainError
    from chapter.payments import dues

    member = factories.member(home=factories.chapter(40), status="active", type_code="retired")
    db.session.commit()
    term = db.session.scalar(sa.select(MembershipTerm))
    last_day = term.ends_on  # one day left: (210 - 95) / 365 = 31 cents
    with pytest.raises(DomainError) as refused:
        dues.start_type_change(member, factories.membership_type("professional"), actor=None, day=last_day)
    assert "below the smallest card payment ($0.50)" in refused.value.message


def test_an_upgrades_chapter_share_is_the_difference_of_the_two_shares_prorated(app):
    from chapter.payments import dues
    from chapter.members import services as member_services

    member = factories.member(home=factories.chapter(40), status="pending")
    term = member_services.grant_term(member, factories.membership_type("student"), starts_on=today(),
                                      source=member_services.TermSource.PAYMENT, actor=None)
    db.session.commit()
    first_day = dues.start_type_change(member, factories.membership_type("professional"), actor=None, day=today())
    assert first_day.total_cents == 21000 - 4500
    assert first_day.chapter_share_cents == 3500 - 1000  # with the student share already paid: 35.00, no more
    later = term.starts_on + timedelta(days=100)
    quote = dues.quote_type_change(member, factories.membership_type("professional"), later)
    assert quote.chapter_share_cents == (3500 - 1000) * quote.days_left // quote.days_in_term


def _upgraded(client, stripe_peer, upgraded_on_first_day: bool):
    """Ada, a student member (since today, or for 100 days), pays an upgrade to professional by card: her payment."""
    from chapter.members import services as member_services

    member = _member(status="pending")
    starts_on = today() if upgraded_on_first_day else today() - timedelta(days=100)
    member_services.grant_term(member, factories.membership_type("student"), starts_on=starts_on,
                               source=member_services.TermSource.PAYMENT, actor=None)
    db.session.commit()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/change-type", "professional")
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert member.current_type.code == "professional"
    return member, db.session.scalar(sa.select(Payment))


@pytest.mark.parametrize("upgraded_on_first_day", [False, True])
def test_voiding_an_upgrade_takes_away_only_what_it_bought(app, client, stripe_peer, upgraded_on_first_day):
    member, payment = _upgraded(client, stripe_peer, upgraded_on_first_day)
    paid_through = member.paid_through
    staff = factories.staff()
    db.session.commit()
    from chapter.core.permissions import roles_of
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    from chapter.core.audit import AuditEntry
    from chapter.core.errors import DomainError

    with pytest.raises(DomainError) as refused:  # an upgrade is kept or voided whole
        refunds.refund_payment(payment, amount_cents=100, reason="Part", term_action=TermAction.SHORTEN,
                               new_term_end=today(), actor=staff, roles=roles_of(staff, today()))
    assert (refused.value.message, refused.value.field) == (
        "An upgrade's refund keeps or voids the upgrade; the term under it stays as paid.", "term_action")
    db.session.rollback()
    refunds.refund_payment(payment, amount_cents=payment.amount_cents, reason="Upgrade by mistake",
                           term_action=TermAction.VOID, new_term_end=None, actor=staff, roles=roles_of(staff, today()))
    db.session.commit()
    db.session.expire_all()
    assert member.paid_through == paid_through  # the paid term under the upgrade is whole
    assert member.status_on(today()) is MembershipStatus.ACTIVE
    assert member.current_type.code == "student"
    line = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "term.voided"))
    assert line.summary == f"Upgrade {payment.order.reference} voided by its refund; the term under it is kept as paid"
    assert (line.actor_id, line.member_id, line.chapter_id) == (staff.id, member.id, member.home_chapter_id)
    assert line.before["voided"] is False and line.after["changed_term"] is not None
    # Mid-term, the upgrade had cut the student term at the day before it: its refund gives the term its end back.
    cut_at = paid_through if upgraded_on_first_day else today() - timedelta(days=1)
    assert (line.before["ends_on"], line.after["ends_on"]) == (cut_at.isoformat(), paid_through.isoformat())


def test_a_dashboard_refund_of_an_upgrade_is_decided_as_kept_or_voided_whole_never_shortened(app, client, stripe_peer):
    """A refund made in Stripe's dashboard for an upgrade waits for staff: shortening is refused by the field (an upgrade
    is kept or voided whole), voiding gives the member back the type under it for the term they paid."""
    from chapter.core.audit import AuditEntry
    from chapter.core.errors import DomainError
    from chapter.core.permissions import roles_of
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    member, payment = _upgraded(client, stripe_peer, upgraded_on_first_day=False)
    paid_through = member.paid_through
    refund = refunds.record_stripe_refund(payment, stripe_refund_id="re_dashboard_upgrade", amount_cents=1000, created=None)
    staff = factories.staff()
    db.session.commit()
    assert refund.term_decision_needed and payment.refundable_cents == payment.amount_cents - 1000

    with pytest.raises(DomainError) as refused:
        refunds.decide_term(refund, term_action=TermAction.SHORTEN, new_term_end=today(), actor=staff,
                            roles=roles_of(staff, today()))
    assert (refused.value.message, refused.value.field) == (
        "An upgrade's refund keeps or voids the upgrade; the term under it stays as paid.", "term_action")
    db.session.rollback()
    assert refund.term_decision_needed and member.current_type.code == "professional"  # nothing changed

    refunds.decide_term(refund, term_action=TermAction.VOID, new_term_end=None, actor=staff, roles=roles_of(staff, today()))
    db.session.commit()
    db.session.expire_all()
    assert (refund.term_action, refund.term_decision_needed) == (TermAction.VOID, False)
    assert member.current_type.code == "student" and member.paid_through == paid_through
    line = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "term.voided"))
    assert line.actor_id == staff.id and line.after["ends_on"] == paid_through.isoformat()


# --- 7. Ownership and keys -------------------------------------------------------------------------

def test_a_card_saved_for_another_customer_cannot_pay_my_order(app, client, stripe_peer):
    _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    _, token = pay_page(client, order_id)
    stranger = stripe_api(stripe_peer, "/v1/customers", {"email": "eve@example.org"})
    theirs = stripe_api(stripe_peer, "/v1/setup_intents", {"customer": stranger["id"], "payment_method_types[]": "card",
                                                           "usage": "off_session"})
    confirm_card_setup(stripe_peer, theirs["id"], CARD_OK)
    answer = post_json(client, f"/pay/{order_id}/charge", token, {"setup_intent_id": theirs["id"]})
    assert answer.status_code == 400 and "not saved for you" in answer.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
    assert _intents(stripe_peer) == []


def test_opening_the_pay_page_makes_no_stripe_object_and_writes_nothing(app, client, stripe_peer):
    _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    for _ in range(3):
        assert client.get(f"/pay/{order_id}").status_code == 200
    assert stripe_api(stripe_peer, "/v1/customers", None, method="GET")["data"] == []
    assert stripe_api(stripe_peer, "/v1/setup_intents", None, method="GET")["data"] == []


def test_two_tabs_pressing_pay_at_once_make_one_stripe_customer(app, client, stripe_peer, live_server):
    import json
    import threading
    import urllib.request

    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    page = client.get(f"/pay/{order_id}").get_data(as_text=True)
    import re

    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    cookie = client.client.get_cookie("session").value
    answers, start = [], threading.Barrier(2)

    def press():
        request = urllib.request.Request(f"{live_server}/pay/{order_id}/setup", method="POST", data=b"{}", headers={
            "Content-Type": "application/json", "X-CSRFToken": token, "Cookie": f"session={cookie}", "Referer": live_server})
        start.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append(json.loads(response.read()))

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a["status"] for a in answers] == ["ok", "ok"]
    customers = stripe_api(stripe_peer, "/v1/customers", None, method="GET")["data"]
    assert len(customers) == 1
    db.session.expire_all()
    assert member.stripe_customer_id == customers[0]["id"]
    setups = stripe_api(stripe_peer, "/v1/setup_intents", None, method="GET")["data"]
    assert {s["customer"] for s in setups} == {customers[0]["id"]}


def test_idempotency_keys_are_random_per_attempt_and_stored_with_it(app):
    from chapter.payments.models import Payment as PaymentRow

    member = factories.member(home=factories.chapter(40), status="pending")
    db.session.commit()
    order = Order(member_id=member.id, purpose="join", currency="USD", total_cents=100, association_share_cents=100,
                  description="x")
    db.session.add(order)
    db.session.flush()
    made = []
    for status in (PaymentStatus.FAILED, PaymentStatus.FAILED, PaymentStatus.PENDING):
        made.append(PaymentRow(order_id=order.id, amount_cents=100, currency="USD", status=status))
        db.session.add(made[-1])
        db.session.commit()
    keys = [p.idempotency_key for p in made]
    # A restored copy of the database or a demo reset makes payment 1 again: its key is new, never "payment-1".
    assert len(set(keys)) == 3 and all(k.startswith("chapter-pay-") and len(k) == len("chapter-pay-") + 32 for k in keys)
    db.session.expire_all()
    assert db.session.scalars(sa.select(PaymentRow.idempotency_key).order_by(PaymentRow.id)).all() == keys


def test_stripe_calls_have_explicit_timeouts_and_retries_that_end_inside_the_worker_timeout(app):
    app.config.update(STRIPE_SECRET_KEY="sk_test_x")
    client = gateway._client()
    requests_client = client._requestor._client
    seconds, retries = gateway.timeouts()
    assert requests_client._timeout == seconds == app.config["STRIPE_TIMEOUT_SECONDS"]
    assert client._requestor._options.max_network_retries == retries
    # The pay request makes at most 3 Stripe calls (SetupIntent read, charge, card read), each with
    # its retries and the library's back-off (at most 2 s each): inside gunicorn's --timeout.
    worst = 3 * ((retries + 1) * seconds + retries * 2)
    assert worst < app.config["WEB_WORKER_TIMEOUT_SECONDS"]


# --- 8. Exams are not memberships ------------------------------------------------------------------

def test_paying_for_an_exam_shows_no_membership_choices_and_its_receipt_names_the_exam_and_att(
        app, client, stripe_peer, smtp_server):
    from chapter.certifications import services as exams
    from chapter.certifications.models import ExamRegistration

    member = _member(status="active")
    client.login("ada@example.org")
    exam = exams.exams_on_sale(today())[0]
    response = client.submit(f"/exams/{exam.code}/buy", {}, form_url="/exams")
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/pay/{order_id}").get_data(as_text=True)
    assert "Renew automatically" not in page and "Member price" in page
    answer = pay_order(client, stripe_peer, order_id, CARD_OK, auto_renew=True)
    assert answer.get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert member.auto_renew is False  # an exam never switches automatic renewal on
    registration = db.session.scalar(sa.select(ExamRegistration))
    receipt = client.get(answer.get_json()["redirect"]).get_data(as_text=True)
    assert exam.name in receipt and "Member price" in receipt and registration.att_code in receipt
    assert "Membership now runs until" not in receipt and "association dues" not in receipt
    run_jobs()
    mail = text_of([m for m in smtp_server if m["Subject"].startswith("Receipt")][0])
    assert registration.att_code in mail and f"{registration.expires_on:%d %b %Y}" in mail and "Schedule your exam" in mail
    assert "membership now runs until" not in mail.lower()


def test_an_upgrade_refunded_in_full_from_the_dashboard_and_voided_gives_back_the_type_under_it(app, client, stripe_peer):
    """Nothing is left to refund, so the decision finds the upgrade by its order: voided, the member is back on the
    type they paid for, to the end they paid for."""
    from chapter.core.permissions import roles_of
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    member, payment = _upgraded(client, stripe_peer, upgraded_on_first_day=False)
    paid_through = member.paid_through
    refund = refunds.record_stripe_refund(payment, stripe_refund_id="re_dashboard_whole_upgrade",
                                          amount_cents=payment.amount_cents, created=None)
    staff = factories.staff()
    db.session.commit()
    assert payment.refundable_cents == 0 and refund.term_decision_needed
    refunds.decide_term(refund, term_action=TermAction.VOID, new_term_end=None, actor=staff, roles=roles_of(staff, today()))
    db.session.commit()
    db.session.expire_all()
    assert member.current_type.code == "student" and member.paid_through == paid_through
    assert (refund.term_action, refund.term_decision_needed) == (TermAction.VOID, False)
