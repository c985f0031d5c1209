"""Corporate money that survives failure (issue 9): a seat price changed since the contact saw the order is
refused at charge time, a seat named mid-term owes its chapter a share prorated by day, and an automatic
renewal charge Stripe never got is sent again by the next run with the same idempotency key."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.extensions import db
from chapter.members import corporate, corporate_renewals
from chapter.payments import attempts, renewals
from chapter.payments.models import Order, Payment, PaymentStatus
from chapter.treasury.models import LedgerEntry, LedgerKind
from tests import factories
from tests.payments.helpers import (
    CARD_OK, confirm_card_setup, page_quote, pay_page, post_json, stripe_api, told_of_corporate_charge,
)
from tests.payments.test_corporate import _contact, _order_from, _organization
from tests.payments.test_corporate_renewals import _save_card, _term


def _intents(peer):
    return stripe_api(peer, "/v1/payment_intents", None, method="GET")["data"]


def test_a_corporate_order_whose_seat_price_changed_is_refused_at_charge_and_priced_again(app, client, stripe_peer):
    organization = _organization(_contact())
    client.login("carol@example.org")
    order_id = _order_from(client.submit(f"/organizations/{organization.id}/buy", {"seats": 5}))
    quote = page_quote(client, order_id)  # 5 × $185.00 = $925.00, as the contact saw it
    setup_intent, token = pay_page(client, order_id)
    confirm_card_setup(stripe_peer, setup_intent, CARD_OK)
    factories.membership_type("corporate_seat").join_price_cents = 19500  # the association's new seat price
    db.session.commit()

    answer = post_json(client, f"/pay/{order_id}/charge", token, {"setup_intent_id": setup_intent, "quote": quote})

    assert answer.status_code == 409 and answer.get_json()["message"] == "The price changed: review and pay again."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
    assert _intents(stripe_peer) == []  # nothing reached Stripe
    db.session.expire_all()
    assert db.session.get(Order, order_id).total_cents == 5 * 19500
    assert "$975.00" in client.get(f"/pay/{order_id}").get_data(as_text=True)


def test_added_seats_quoted_on_another_day_are_priced_again_for_the_day_of_the_charge(app):
    contact = _contact()
    organization = _organization(contact)
    _term(organization, date(2026, 1, 1), date(2026, 12, 31))
    order = corporate.start_add_seats(organization, 2, actor=contact, day=date(2026, 7, 1))
    assert order.total_cents == 2 * 9326  # 184 of 365 days
    db.session.commit()
    with pytest.raises(attempts.PriceChanged):
        attempts.open_payment(order, day=date(2026, 7, 2))  # charged the next day: one day less to pay for
    db.session.rollback()
    from chapter.payments import fulfilment

    fulfilment.reprice(order, date(2026, 7, 2))
    assert order.total_cents == 2 * (18500 * 183 // 365)
    assert attempts.open_payment(order, day=date(2026, 7, 2)).amount_cents == order.total_cents


def test_a_seat_named_mid_term_owes_its_chapter_the_share_prorated_by_day(app):
    contact = _contact()
    organization = _organization(contact)
    bought = _term(organization, date(2026, 1, 1), date(2026, 12, 31))
    later = _term(organization, date(2027, 1, 1), date(2027, 12, 31))  # already renewed: the seat carries over
    home = factories.chapter(40, name="Schuylkill Valley")
    db.session.commit()

    corporate.assign_seat(bought, actor=contact, email="pat@example.org", first_name="Pat", last_name="Lee",
                          home_chapter_id=home.id, day=date(2026, 7, 1))
    db.session.commit()

    shares = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.CHAPTER_SHARE,
                                                             LedgerEntry.chapter_id == home.id)
                                .order_by(LedgerEntry.id)).all()
    # 184 of the term's 365 days: $35.00 × 184 / 365 = $17.64 (rounded down); the renewed term is held whole.
    assert [(e.amount_cents, e.reference.split(":")[1]) for e in shares] == [(1764, str(bought.id)), (3500, str(later.id))]
    assert "184 of 365 days" in shares[0].description


def test_a_corporate_renewal_charge_stripe_never_got_is_sent_again_by_the_next_run_with_its_key(
        app, stripe_peer, smtp_server, clock):
    day = clock("2026-06-01")
    organization = corporate_renewals_organization()
    current = _term(organization, day - timedelta(days=355), day + timedelta(days=10))
    _save_card(stripe_peer, organization)
    told_of_corporate_charge(organization, current.ends_on, on=day - timedelta(days=7))
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there: Stripe is down for this run

    first = corporate_renewals.auto_renew_organizations(day)

    assert (first.renewed, first.failed) == (0, 0) and first.errors
    payment = db.session.scalar(sa.select(Payment))
    key = payment.idempotency_key
    assert payment.status is PaymentStatus.UNKNOWN  # never "failed": Stripe may have charged
    # The next morning Stripe is back; the individual run goes first and settles lost answers (it must
    # leave this one to the corporate run), then the corporate run sends it again with its own key.
    app.config["STRIPE_API_BASE"] = stripe_peer
    next_day = clock("2026-06-02")
    renewals.auto_renew(next_day)
    second = corporate_renewals.auto_renew_organizations(next_day)

    db.session.expire_all()
    assert (second.renewed, second.failed) == (1, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
    assert payment.idempotency_key == key and payment.status is PaymentStatus.SUCCEEDED
    assert [i["metadata"]["payment_id"] for i in _intents(stripe_peer)] == [str(payment.id)]
    renewed = corporate.latest_corporate_membership(organization)
    assert renewed.starts_on == current.ends_on + timedelta(days=1) and organization.auto_renew is True
    assert corporate_renewals.auto_renew_organizations(next_day).renewed == 0  # charged once


def corporate_renewals_organization():
    from tests.payments.test_corporate_renewals import _organization as organization_with_contact

    return organization_with_contact()


def test_a_seat_held_the_whole_term_owes_the_whole_share_once_linked_to_the_paid_order(app):
    """A seat named before its term owes the full share (no proration note), booked once however often the seat is
    saved again, and pointing at the corporate order's paid payment; a seat type without a share of its own owes the
    chapter's dues share; one that owes nothing books nothing."""
    from chapter.treasury import services as ledger

    contact = _contact()
    organization = _organization(contact)
    term = _term(organization, date(2026, 1, 1), date(2026, 12, 31))
    home = factories.chapter(40, name="Schuylkill Valley")
    home.dues_share_cents = 1234  # not this: the seat type's own share comes first
    db.session.commit()
    seat = corporate.assign_seat(term, actor=contact, email="kim@example.org", first_name="Kim", last_name="Ng",
                                 home_chapter_id=home.id, day=date(2025, 12, 1))
    db.session.commit()
    member = seat.member
    entry, = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.CHAPTER_SHARE)).all()
    assert entry.amount_cents == 3500 and entry.chapter_id == home.id and entry.booked_on == date(2025, 12, 1)
    assert entry.description == f"Chapter share of a corporate seat: Kim Ng, {organization.name}"
    assert entry.reference == f"seat:{term.id}:{member.id}" and entry.payment_id is None  # no order behind this term
    assert ledger.record_seat_share(term, member, day=date(2026, 2, 1)) is None  # once per term and person
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 1

    seat_type = term.membership_type
    seat_type.chapter_share_cents = None  # the type has no share of its own: the chapter's dues share
    home.dues_share_cents = 2000
    other = factories.member(home=home, first_name="Lee", last_name="Park")
    # Booked in July for a seat held since January: the whole term's share, dated the day it is booked.
    share = ledger.record_seat_share(term, other, day=date(2026, 7, 1), starts_on=date(2026, 1, 1))
    assert share.amount_cents == 2000 and "days)" not in share.description and share.booked_on == date(2026, 7, 1)
    home.dues_share_cents = 0
    assert ledger.record_seat_share(term, factories.member(home=home), day=date(2026, 1, 1)) is None
    assert ledger.record_seat_share(term, factories.member(home=None), day=date(2026, 1, 1)) is None
    # Named on the term's last day: one day's share (a cent is still owed), prorated and said so.
    home.dues_share_cents = 36500
    last = ledger.record_seat_share(term, factories.member(home=home, last_name="Last"), day=date(2026, 12, 31))
    assert last.amount_cents == 100 and "(1 of 365 days)" in last.description
    home.dues_share_cents = 365  # a cent a day: one day's share is one cent, still owed
    cent = ledger.record_seat_share(term, factories.member(home=home, last_name="Cent"), day=date(2026, 12, 31))
    assert cent.amount_cents == 1
    # Named after the term ended: nothing is owed, nothing booked.
    assert ledger.record_seat_share(term, factories.member(home=home, last_name="After"), day=date(2027, 1, 2)) is None
    db.session.rollback()
