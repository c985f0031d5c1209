"""The refund limit is what remains of the payment after earlier refunds, not the amount first paid.
Real payment and refunds through localstripe; the staff refund form as people use it."""
import pytest
import sqlalchemy as sa

from chapter.extensions import db
from chapter.payments.models import OrderStatus, Payment, PaymentStatus, Refund
from tests import factories
from tests.payments.helpers import pay_order, stripe_api


@pytest.fixture
def paid_210(app, client, stripe_peer):
    """Ada paid $210 by card; staff then refunded $50 of it."""
    factories.member(home=factories.chapter(40), status="pending", email="ada@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    client.logout()
    payment = db.session.scalar(sa.select(Payment))
    client.login(staff.email)
    assert _refund(client, payment, "50.00").status_code == 302
    return payment


def _refund(client, payment, amount: str):
    """Fill the refund form and confirm on the page that follows, as staff do."""
    form = {"term_action": "keep", "amount_cents": amount, "reason": "Partly paid by the employer"}
    first = client.submit(f"/payments/{payment.id}/refund", form)
    if first.status_code != 200 or "Confirm the refund" not in first.get_data(as_text=True):
        return first
    return client.submit(f"/payments/{payment.id}/refund", {**form, "confirmed": "yes"})


def _stripe_refunds(peer) -> list[int]:
    return sorted(r["amount"] for r in stripe_api(peer, "/v1/refunds", None, method="GET")["data"])


def test_after_a_partial_refund_only_what_remains_can_be_refunded(paid_210, client, stripe_peer):
    too_much = _refund(client, paid_210, "160.01")

    assert too_much.status_code == 400
    assert "At most $160.00 can be refunded." in too_much.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1
    assert db.session.get(Payment, paid_210.id).refunded_cents == 5000
    assert _stripe_refunds(stripe_peer) == [5000]


def test_the_rest_can_be_refunded_and_then_nothing_more(paid_210, client, stripe_peer):
    assert _refund(client, paid_210, "160.00").status_code == 302
    db.session.expire_all()
    payment = db.session.get(Payment, paid_210.id)
    assert (payment.status, payment.refunded_cents, payment.refundable_cents) == (PaymentStatus.REFUNDED, 21000, 0)
    assert payment.order.status is OrderStatus.REFUNDED
    assert _stripe_refunds(stripe_peer) == [5000, 16000]

    again = _refund(client, paid_210, "0.01")
    assert again.status_code == 400 and "At most $0.00 can be refunded." in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 2
    assert _stripe_refunds(stripe_peer) == [5000, 16000]


def test_the_refund_form_offers_what_is_left(paid_210, client):
    form = client.get(f"/payments/{paid_210.id}/refund").get_data(as_text=True)
    assert 'value="160.00"' in form and 'value="210.00"' not in form
    db.session.expire_all()
    payment = db.session.get(Payment, paid_210.id)
    assert (payment.amount_cents, payment.refunded_cents, payment.refundable_cents) == (21000, 5000, 16000)


def test_what_a_refund_is_refused_for_word_for_word_and_at_which_field(paid_210):
    """check_refund's refusals are what the refund form shows by its fields: each at its edge (an amount of one cent
    and of all that remains pass; a term shortened to its first day or the day before its end passes)."""
    from datetime import timedelta

    from chapter.core.errors import DomainError, NotAllowed
    from chapter.core.permissions import roles_of
    from chapter.members.models import MembershipTerm
    from chapter.payments.models import TermAction
    from chapter.payments.refunds import check_refund

    staff = roles_of(factories.staff())
    member = roles_of(db.session.scalar(sa.select(Payment)).order.member.user)
    term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.order_id == paid_210.order_id))

    def refused(error_class=DomainError, **changes):
        asked = dict(amount_cents=100, reason="Employer paid", term_action=TermAction.KEEP, new_term_end=None,
                     roles=staff)
        with pytest.raises(error_class) as caught:
            check_refund(paid_210, **{**asked, **changes})
        return caught.value.message, caught.value.field

    def allowed(**changes):
        asked = dict(amount_cents=100, reason="Employer paid", term_action=TermAction.KEEP, new_term_end=None, roles=staff)
        return check_refund(paid_210, **{**asked, **changes})

    assert refused(NotAllowed, roles=member) == ("You may not refund this payment.", None)
    for amount in (None, 0, -1):
        assert refused(amount_cents=amount) == ("Enter an amount above zero.", "amount_cents")
    assert refused(amount_cents=16001) == ("At most $160.00 can be refunded.", "amount_cents")  # $50 refunded already
    assert allowed(amount_cents=1) is None and allowed(amount_cents=16000) is None
    assert refused(reason="   ") == ("Say why the money is refunded.", "reason")

    assert allowed(term_action=TermAction.VOID) == term
    last_day = term.ends_on - timedelta(days=1)
    assert allowed(term_action=TermAction.SHORTEN, new_term_end=term.starts_on) == term
    assert allowed(term_action=TermAction.SHORTEN, new_term_end=last_day) == term
    # The end asked for is checked, not the day of the refund (which lies after the term here).
    assert allowed(term_action=TermAction.SHORTEN, new_term_end=last_day, day=term.ends_on + timedelta(days=40)) == term
    expected = (f"Choose an end between {term.starts_on:%d %b %Y} and the day before {term.ends_on:%d %b %Y}.",
                "new_term_end")
    for end in (term.starts_on - timedelta(days=1), term.ends_on, term.ends_on + timedelta(days=1)):
        assert refused(term_action=TermAction.SHORTEN, new_term_end=end) == expected
    assert refused(term_action=TermAction.SHORTEN, day=term.ends_on) == expected  # no end given: the refund's day
    # An earlier refund voided the term: a second one can keep it as it is, not void or shorten it again.
    from chapter.core.models import utcnow

    term.voided_at = utcnow()
    nothing_to_change = ("This payment paid for no membership term to change.", "term_action")
    assert refused(term_action=TermAction.VOID) == nothing_to_change
    assert refused(term_action=TermAction.SHORTEN, new_term_end=term.starts_on) == nothing_to_change
    assert allowed(term_action=TermAction.KEEP) is None
    term.voided_at = None
    paid_210.currency = "CAD"  # a chapter abroad: the limit is said in the payment's currency
    assert refused(amount_cents=16001) == ("At most CAD 160.00 can be refunded.", "amount_cents")
    db.session.rollback()


def _audit_lines(action: str):
    from chapter.core.audit import AuditEntry

    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def test_a_refund_that_voids_or_shortens_the_term_says_so_in_the_audit_log_with_before_and_after(paid_210, stripe_peer):
    from datetime import timedelta

    from chapter.core.permissions import roles_of
    from chapter.members.models import MembershipTerm
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    staff = factories.staff()
    term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.order_id == paid_210.order_id))
    member, ends = paid_210.order.member, term.ends_on
    new_end = term.starts_on + timedelta(days=30)
    refund = refunds.refund_payment(paid_210, amount_cents=1000, reason="Left the profession", term_action=TermAction.SHORTEN,
                                    new_term_end=new_end, actor=staff, roles=roles_of(staff))
    db.session.commit()
    assert refund.new_term_end == new_end and term.ends_on == new_end and term.original_ends_on == ends
    assert (refund.actor_id, refund.term_action) == (staff.id, TermAction.SHORTEN)
    assert _audit_lines("payment.refunded")[-1].actor_id == staff.id
    line, = _audit_lines("term.shortened")
    assert (line.actor_id, line.chapter_id, line.member_id) == (staff.id, member.home_chapter_id, member.id)
    assert line.summary == f"Professional term shortened by the refund of {paid_210.order.reference}"
    assert str(line.before["ends_on"]).startswith(ends.isoformat()) and line.before["voided"] is False
    assert str(line.after["ends_on"]).startswith(new_end.isoformat())
    assert line.after["voided"] is False

    refunds.refund_payment(paid_210, amount_cents=1000, reason="Duplicate", term_action=TermAction.VOID,
                           new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    assert term.voided_at is not None and term.original_ends_on == ends  # the first end is kept
    line, = _audit_lines("term.voided")
    assert line.summary == f"Professional term voided by the refund of {paid_210.order.reference}"
    assert line.before["voided"] is False and line.after["voided"] is True and line.actor_id == staff.id
    assert (line.chapter_id, line.member_id) == (member.home_chapter_id, member.id)


def test_a_refund_found_at_stripe_is_recorded_once_flagged_for_a_decision_and_staff_decide_it(paid_210, stripe_peer):
    """What the webhook and the sync hand over for a refund made in Stripe's dashboard (Stripe's own fields)."""
    from datetime import datetime, timedelta, timezone

    from chapter.core.errors import DomainError, NotAllowed
    from chapter.core.permissions import roles_of
    from chapter.members.models import MembershipTerm
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    created = int(datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc).timestamp())
    found = refunds.record_stripe_refund(paid_210, stripe_refund_id="re_dashboard_1", amount_cents=1500, created=created)
    db.session.commit()
    assert (found.amount_cents, found.stripe_refund_id, found.from_dashboard, found.term_decision_needed, found.reason) == (
        1500, "re_dashboard_1", True, True, "Refunded in Stripe's dashboard")
    assert found.refunded_at.replace(tzinfo=None) == datetime(2026, 11, 20, 15, 30) and found.raw == "{}"
    line = _audit_lines("payment.refunded")[-1]
    assert line.actor_id is None and line.chapter_id == paid_210.chapter_id and line.member_id == paid_210.order.member_id
    assert line.summary == (f"Refund of 15.00 USD on {paid_210.order.reference} found at Stripe; "
                            "the membership term awaits a staff decision")
    assert refunds.record_stripe_refund(paid_210, stripe_refund_id="re_dashboard_1", amount_cents=1500, created=created) is None
    ours = refunds.record_stripe_refund(paid_210, stripe_refund_id="re_ours_2", amount_cents=500, created=created,
                                        metadata={"payment_id": str(paid_210.id), "reason": "Answer lost"})
    assert (ours.from_dashboard, ours.reason) == (False, "Answer lost") and '"reason": "Answer lost"' in ours.raw
    # A reason alone does not make a refund ours; a cent is a refund; more than what remains is cut to it.
    theirs = refunds.record_stripe_refund(paid_210, stripe_refund_id="re_note_3", amount_cents=1, created=created,
                                          metadata={"reason": "Customer asked"})
    assert (theirs.amount_cents, theirs.from_dashboard, theirs.reason) == (1, True, "Refunded in Stripe's dashboard")
    remaining = paid_210.amount_cents - paid_210.refunded_cents
    assert remaining == 21000 - 5000 - 1500 - 500 - 1
    rest = refunds.record_stripe_refund(paid_210, stripe_refund_id="re_rest_4", amount_cents=99999, created=created)
    assert rest.amount_cents == remaining and paid_210.refunded_cents == 21000
    assert refunds.record_stripe_refund(paid_210, stripe_refund_id="re_more_5", amount_cents=100, created=created) is None

    staff, treasurer = factories.staff(), factories.officer(paid_210.order.member.home_chapter, "treasurer")
    db.session.commit()
    term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.order_id == paid_210.order_id))
    with pytest.raises(NotAllowed) as refused:
        refunds.decide_term(found, term_action=TermAction.VOID, new_term_end=None, actor=treasurer, roles=roles_of(treasurer))
    assert refused.value.message == "Only staff decide what a refund does to a term."
    new_end = term.starts_on + timedelta(days=60)
    refunds.decide_term(found, term_action=TermAction.SHORTEN, new_term_end=new_end, actor=staff, roles=roles_of(staff))
    db.session.commit()
    assert (found.term_action, found.term_decision_needed, term.ends_on) == (TermAction.SHORTEN, False, new_end)
    assert _audit_lines("term.shortened")[-1].actor_id == staff.id
    with pytest.raises(DomainError) as again:
        refunds.decide_term(found, term_action=TermAction.VOID, new_term_end=None, actor=staff, roles=roles_of(staff))
    assert again.value.message == "This refund needs no decision."


def test_a_refund_a_features_rule_owes_is_capped_at_what_remains_and_nothing_when_nothing_can_go_back(
        paid_210, stripe_peer):
    """refund_by_rule (an event's cancellation policy): a cent goes back in the name of who acted; zero gives nothing;
    more than remains gives what remains ($159.99 after $50 and 1 cent); then nothing is left; a failed payment
    gives nothing."""
    from chapter.payments import refunds

    officer = factories.staff()
    payment = db.session.get(Payment, paid_210.id)
    cent = refunds.refund_by_rule(payment, amount_cents=1, reason="Event cancelled", actor=officer)
    assert (cent.amount_cents, cent.actor_id, cent.reason) == (1, officer.id, "Event cancelled")
    assert refunds.refund_by_rule(payment, amount_cents=0, reason="Event cancelled", actor=officer) is None
    rest = refunds.refund_by_rule(payment, amount_cents=50000, reason="Event cancelled", actor=None)
    assert (rest.amount_cents, rest.actor_id) == (15999, None)
    assert refunds.refund_by_rule(payment, amount_cents=100, reason="Event cancelled", actor=None) is None
    db.session.commit()
    assert _stripe_refunds(stripe_peer) == [1, 5000, 15999]
    from chapter.payments import services

    declined = services.open_payment(services.start_join(factories.member(status="pending"),
                                                         factories.membership_type(), actor=None))
    declined.status = PaymentStatus.FAILED
    db.session.flush()
    assert declined.amount_cents > 0
    assert refunds.refund_by_rule(declined, amount_cents=100, reason="Event cancelled", actor=None) is None
    assert _stripe_refunds(stripe_peer) == [1, 5000, 15999]


def test_a_whole_dashboard_refund_decided_shorten_without_a_day_ends_the_term_today(paid_210):
    """Shortening without a new end, on no given day, ends the term today (the decision's day)."""
    from chapter.core.models import today
    from chapter.core.permissions import roles_of
    from chapter.members.models import MembershipTerm
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    found = refunds.record_stripe_refund(paid_210, stripe_refund_id="re_dashboard_rest", amount_cents=16000, created=None)
    staff = factories.staff()
    db.session.commit()
    assert paid_210.refundable_cents == 0
    refunds.decide_term(found, term_action=TermAction.SHORTEN, new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.order_id == paid_210.order_id))
    assert (term.ends_on, found.term_action) == (today(), TermAction.SHORTEN)


def test_a_dashboard_refund_voided_by_staff_voids_that_payments_term_and_no_one_elses(paid_210, client, stripe_peer):
    """Another member joined after Ada: voiding Ada's refunded term leaves theirs, the latest term, untouched."""
    from chapter.core.permissions import roles_of
    from chapter.members.models import MembershipTerm
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    client.logout()
    factories.member(home=factories.chapter(41), status="pending", email="bo@example.org", with_user=True)
    db.session.commit()
    client.login("bo@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    assert pay_order(client, stripe_peer, int(response.headers["Location"].rsplit("/", 1)[1])).get_json()["status"] \
        == "succeeded"
    found = refunds.record_stripe_refund(paid_210, stripe_refund_id="re_dashboard_ada", amount_cents=16000, created=None)
    staff = factories.staff()
    db.session.commit()
    refunds.decide_term(found, term_action=TermAction.VOID, new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    terms = {t.order_id == paid_210.order_id: t for t in db.session.scalars(sa.select(MembershipTerm))}
    assert terms[True].voided_at is not None and terms[False].voided_at is None


def test_a_staff_refund_is_stored_audited_and_sent_to_stripe_with_what_explains_it(paid_210, stripe_peer):
    """The $50 refund of the fixture: its row (who, Stripe's id and day, the raw answer, not from the dashboard), its
    audit line (who, chapter, member, the amount and reason, refunded before and after) and Stripe's own refund
    (our payment id and the reason in its metadata, so a lost answer is recognised as ours)."""
    from datetime import datetime, timedelta

    from chapter.core.models import utcnow

    payment = db.session.get(Payment, paid_210.id)
    [refund] = payment.refunds
    [line] = _audit_lines("payment.refunded")
    staff_id = line.actor_id
    assert staff_id is not None and refund.actor_id == staff_id
    assert (refund.amount_cents, refund.reason, refund.from_dashboard, refund.stripe_refund_id.startswith("re_")) == \
        (5000, "Partly paid by the employer", False, True)
    assert refund.term_decision_needed is False  # staff chose the term's fate on the form
    assert refund.raw and refund.stripe_refund_id in refund.raw
    assert abs(refund.refunded_at - utcnow()) < timedelta(minutes=5) and isinstance(refund.refunded_at, datetime)
    member = payment.order.member
    assert (line.chapter_id, line.member_id) == (payment.chapter_id, member.id) and payment.chapter_id is not None
    assert line.summary == f"Refunded 50.00 USD of {payment.order.reference}: Partly paid by the employer"
    assert (line.before, line.after) == ({"refunded_cents": 0}, {"refunded_cents": 5000})
    [at_stripe] = stripe_api(stripe_peer, "/v1/refunds", None, method="GET")["data"]
    assert at_stripe["id"] == refund.stripe_refund_id
    assert at_stripe["metadata"] == {"payment_id": str(payment.id), "reason": "Partly paid by the employer"}


def test_recording_more_than_remains_or_nothing_is_refused_by_the_ledger_itself(paid_210):
    """record_refund's own guard (behind every caller's check: a race, a caller's bug): more than the $160 left, or
    zero, is refused with the amount left, on the amount field, and nothing is recorded."""
    import pytest

    from chapter.core.errors import DomainError
    from chapter.payments import refunds

    payment = db.session.get(Payment, paid_210.id)
    for amount in (16001, 0):
        with pytest.raises(DomainError) as refused:
            refunds.record_refund(payment, amount_cents=amount, reason="x", stripe_refund_id=None)
        assert (refused.value.message, refused.value.field) == ("At most $160.00 can be refunded.", "amount_cents")
    payment.currency = "CAD"  # a Canadian chapter's payment: the amount left is said in its own currency
    with pytest.raises(DomainError) as refused:
        refunds.record_refund(payment, amount_cents=16001, reason="x", stripe_refund_id=None)
    assert refused.value.message == "At most CAD 160.00 can be refunded."
    db.session.rollback()
    assert db.session.get(Payment, paid_210.id).refunded_cents == 5000
    assert refunds.record_refund(payment, amount_cents=16000, reason="The rest", stripe_refund_id=None).amount_cents \
        == 16000


# --- What Stripe is sent, and a refund whose answer is lost ----------------------------------------
# localstripe neither replays a request by its idempotency key nor drops a connection after refunding: these tests wrap
# the Stripe library's own Refund create (the real call to localstripe runs) to see the keys it is given, or to lose
# its answer as a time-out would, so the gateway code path real Stripe reaches runs.

def _second_payment(client, stripe_peer) -> Payment:
    """Bo of chapter #41 joins and pays $210 by card (whoever was logged in is logged out)."""
    from tests.payments.helpers import join_and_pay

    client.logout()
    return join_and_pay(client, stripe_peer, "bo@example.org", factories.chapter(41))


def _recording_refunds(monkeypatch, *, lose_next: list[bool] | None = None) -> list[tuple[str, str]]:
    """Replace Stripe's Refund create by one that calls it and records (intent, idempotency key); while
    `lose_next` holds True, the next call refunds at localstripe and then raises Stripe's APIConnectionError."""
    import stripe
    from stripe._refund_service import RefundService

    real_create, sent = RefundService.create, []

    def create(self, params=None, options=None):
        sent.append((params["payment_intent"], (options or {}).get("idempotency_key")))
        made = real_create(self, params, options)
        if lose_next and lose_next.pop(0):
            raise stripe.APIConnectionError("Read timed out.")
        return made

    monkeypatch.setattr(RefundService, "create", create)
    return sent


def test_each_refund_is_sent_with_a_key_of_its_own_and_a_retry_after_a_lost_answer_with_the_same_one(
        paid_210, client, stripe_peer, monkeypatch):
    """Stripe answers a repeated key with the refund it made for it, so: two refunds of the same amount of one
    payment, and refunds of two payments, never share a key (also for payments from before keys were stored, which
    have none); the retry of a refund whose answer was lost is sent with the key of the lost try."""
    from chapter.core.permissions import roles_of
    from chapter.payments import gateway, refunds
    from chapter.payments.models import TermAction

    ada = db.session.get(Payment, paid_210.id)
    bo = _second_payment(client, stripe_peer)
    staff = factories.staff()
    db.session.commit()
    lose = [False] * 5 + [True]
    sent = _recording_refunds(monkeypatch, lose_next=lose)

    def refund(payment, cents):
        return refunds.refund_payment(payment, amount_cents=cents, reason="Partly paid by the employer",
                                      term_action=TermAction.KEEP, new_term_end=None, actor=staff, roles=roles_of(staff))

    for payment, cents in ((ada, 1000), (ada, 1000), (bo, 5000), (bo, 1000), (bo, 1000)):
        refund(payment, cents)
        db.session.commit()
    # Two payments from before keys were stored.
    for payment in (ada, bo):
        payment.idempotency_key = None
    db.session.commit()
    with pytest.raises(gateway.NoAnswer):
        refund(ada, 700)
    db.session.rollback()
    refund(bo, 700)
    db.session.commit()
    # The lost try is retried: the same key, so real Stripe would answer with the refund it already made.
    ada = db.session.get(Payment, ada.id)
    assert ada.refunded_cents == 5000 + 2000  # the lost answer recorded nothing
    refund(ada, 700)
    db.session.commit()
    keys = [key for _, key in sent]
    assert len(keys) == 8 and all(keys)
    assert len(set(keys[:7])) == 7  # five refunds of two payments, then one of each without a stored key
    assert sent[7] == sent[5] == (ada.stripe_payment_intent_id, keys[5])


def test_a_refund_whose_answer_is_lost_tells_staff_not_to_refund_again_and_arrives_as_ours_with_our_reason(
        paid_210, client, stripe_peer, monkeypatch):
    """Stripe refunds, the answer never comes: the form keeps what was typed and says the refund may have been made;
    nothing is recorded. Stripe's own refund carries our payment and reason, so when its charge.refunded notice comes
    the refund is recorded as ours (not a dashboard refund) with our reason, once."""
    import time

    from tests.payments.helpers import signed_event

    payment = db.session.get(Payment, paid_210.id)
    _recording_refunds(monkeypatch, lose_next=[True])
    form = {"term_action": "keep", "amount_cents": "30.00", "reason": "Charged twice for the same month",
            "confirmed": "yes"}
    answer = client.submit(f"/payments/{payment.id}/refund", form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "may have been made" in page and "Do not refund it again" in page
    assert "Charged twice for the same month" in page and 'value="30.00"' in page
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).refunded_cents == 5000 and len(payment.refunds) == 1
    lost = [r for r in stripe_api(stripe_peer, "/v1/refunds", None, method="GET")["data"] if r["amount"] == 3000]
    assert [r["metadata"] for r in lost] == [{"payment_id": str(payment.id), "reason": "Charged twice for the same month"}]

    charge = {"id": payment.stripe_charge_id, "object": "charge", "payment_intent": payment.stripe_payment_intent_id,
              "refunds": {"object": "list", "data": [lost[0]]}}
    event = {"id": "evt_lost_refund", "object": "event", "type": "charge.refunded", "created": int(time.time()),
             "data": {"object": charge}}
    for _ in range(2):
        body, signature = signed_event(event)
        assert client.client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature}).status_code == 200
    db.session.expire_all()
    found = db.session.scalar(sa.select(Refund).where(Refund.stripe_refund_id == lost[0]["id"]))
    assert (found.amount_cents, found.reason, found.from_dashboard) == (3000, "Charged twice for the same month", False)
    assert db.session.get(Payment, payment.id).refunded_cents == 8000


def test_a_reason_longer_than_stripes_metadata_allows_is_sent_cut_to_450_characters_and_kept_whole_here(
        paid_210, stripe_peer):
    """Stripe takes at most 500 characters per metadata value: the reason goes at 450 (our limit is 500)."""
    from chapter.core.permissions import roles_of
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    staff = factories.staff()
    reason = ("The member was charged for the wrong chapter. " * 11)[:451]
    assert len(reason) == 451
    made = refunds.refund_payment(db.session.get(Payment, paid_210.id), amount_cents=100, reason=reason,
                                  term_action=TermAction.KEEP, new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    assert made.reason == reason.strip()
    at_stripe = stripe_api(stripe_peer, f"/v1/refunds/{made.stripe_refund_id}", None, method="GET")
    assert at_stripe["metadata"]["reason"] == reason[:450] and len(at_stripe["metadata"]["reason"]) == 450
    # A reason from elsewhere than the form (a feature's rule, Stripe) is kept at the column's 500 characters.
    longer = reason + " " + "x" * 80
    kept = refunds.refund_by_rule(db.session.get(Payment, paid_210.id), amount_cents=100, reason=longer, actor=None)
    db.session.commit()
    assert kept.reason == longer[:500] and len(kept.reason) == 500


def test_a_refund_of_an_organizations_seats_is_audited_without_a_member(app, client, stripe_peer):
    """A corporate seat order has no member: its refund is made, and its audit line names no member and no chapter."""
    from chapter.core.permissions import roles_of
    from chapter.payments import refunds
    from chapter.payments.models import TermAction
    from tests.payments.helpers import paid_seat_order

    staff = factories.staff()
    db.session.commit()
    payment = paid_seat_order(client, stripe_peer)
    assert payment.order.member is None
    made = refunds.refund_payment(payment, amount_cents=18500, reason="One seat too many", term_action=TermAction.KEEP,
                                  new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    assert (made.amount_cents, payment.status) == (18500, PaymentStatus.PARTIALLY_REFUNDED)
    assert (made.chapter_share_cents, made.association_share_cents) == (0, 18500)  # no chapter had a share of it
    line = _audit_lines("payment.refunded")[-1]
    assert (line.member_id, line.chapter_id, line.actor_id) == (None, None, staff.id)
    assert line.summary == f"Refunded 185.00 USD of {payment.order.reference}: One seat too many"


def test_staff_void_a_renewal_paid_ahead_whose_term_has_not_started_when_its_refund_comes_from_the_dashboard(
        app, client, stripe_peer):
    """Ada renews 30 days before her term ends: the new term starts after it. Refunded whole in Stripe's dashboard,
    staff void that term although today lies outside it (a void needs no day inside the term); she is back to the
    old end."""
    from datetime import timedelta

    from chapter.core.models import today
    from chapter.core.permissions import roles_of
    from chapter.members import services as member_services
    from chapter.members.models import MembershipTerm, TermSource
    from chapter.payments import refunds
    from chapter.payments.models import TermAction

    ada = factories.member(home=factories.chapter(40), status="pending", email="ada@example.org", with_user=True)
    old_end = today() + timedelta(days=30)
    member_services.grant_term(ada, factories.membership_type(), starts_on=old_end - timedelta(days=364), ends_on=old_end,
                               source=TermSource.PAYMENT, actor=None)
    staff = factories.staff()
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/membership/renew", {"membership_type_id": factories.membership_type().id})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    payment = db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))
    renewal = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.order_id == order_id))
    assert renewal.starts_on == old_end + timedelta(days=1) > today()
    found = refunds.record_stripe_refund(payment, stripe_refund_id="re_dashboard_renewal",
                                         amount_cents=payment.amount_cents, created=None)
    db.session.commit()
    refunds.decide_term(found, term_action=TermAction.VOID, new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(MembershipTerm, renewal.id).voided_at is not None
    assert db.session.get(type(ada), ada.id).paid_through == old_end


def test_the_chapters_part_of_a_refund_of_nothing_or_of_a_cent(app):
    """chapter_part at its smallest: a payment of nothing gives nothing back; a one-cent payment that was all the
    chapter's gives its cent back; a refund of a payment the chapter had no share of gives the chapter nothing."""
    from chapter.payments.refunds import chapter_part

    assert chapter_part(Payment(amount_cents=0, chapter_share_cents=0), 0, 0, 0) == 0
    assert chapter_part(Payment(amount_cents=1, chapter_share_cents=1), 1, 0, 0) == 1
    assert chapter_part(Payment(amount_cents=21000, chapter_share_cents=0), 21000, 0, 0) == 0
    # $210 with $35 to the chapter, refunded $100 then the rest: 16.66 (rounded down), then 18.34.
    share = Payment(amount_cents=21000, chapter_share_cents=3500)
    assert chapter_part(share, 10000, 0, 0) == 1666
    assert chapter_part(share, 11000, 10000, 1666) == 1834
