"""Join, renew and change type through the Stripe card flow, against localstripe."""
from datetime import timedelta

import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import MembershipStatus, MembershipTerm
from chapter.payments.models import Order, OrderStatus, Payment, PaymentStatus
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.payments.helpers import (
    CARD_3DS, CARD_DECLINED_ON_CHARGE, CARD_OK, authenticate_payment, pay_order, post_json,
)


def _member(status="pending", **kwargs):
    home = factories.chapter(40, name="Schuylkill Valley")
    member = factories.member(home=home, status=status, email="ada@example.org", with_user=True, first_name="Ada", **kwargs)
    db.session.commit()
    return member


def _start(client, url, type_code="professional"):
    response = client.submit(url, {"membership_type_id": factories.membership_type(type_code).id})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_joining_with_a_good_card_starts_the_membership_today(app, client, stripe_peer, smtp_server):
    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    answer = pay_order(client, stripe_peer, order_id, CARD_OK)
    assert answer.status_code == 200 and answer.get_json()["status"] == "succeeded", answer.get_json()
    db.session.expire_all()
    assert member.status_on(today()) is MembershipStatus.ACTIVE
    from chapter.members.services import add_months
    assert member.joined_on == today() and member.paid_through == add_months(today(), 12) - timedelta(days=1)
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_cents == 21000
    assert (payment.association_share_cents, payment.chapter_share_cents) == (17500, 3500)
    assert payment.card_last4 == "4242" and payment.stripe_payment_intent_id.startswith("pi_")
    assert db.session.get(Order, order_id).status is OrderStatus.PAID
    # The receipt: a page and an e-mail.
    receipt = client.get(answer.get_json()["redirect"]).get_data(as_text=True)
    assert "$210.00" in receipt and "Visa •••• 4242" in receipt and "Succeeded" in receipt
    run_jobs()
    assert len(smtp_server) == 1 and smtp_server[0]["To"] == "ada@example.org"
    assert f"ORD-{order_id:06d}" in smtp_server[0]["Subject"]
    assert "$210.00" in text_of(smtp_server[0])


def test_a_declined_card_changes_nothing_and_says_why(app, client, stripe_peer):
    member = _member()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    answer = pay_order(client, stripe_peer, order_id, CARD_DECLINED_ON_CHARGE)
    assert answer.status_code == 402
    assert "Your card was declined." in answer.get_json()["message"]
    db.session.expire_all()
    assert member.status_on(today()) is MembershipStatus.PENDING
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipTerm)) == 0
    assert db.session.get(Order, order_id).status is OrderStatus.OPEN
    assert "Your last attempt did not go through: Your card was declined." in client.get(f"/pay/{order_id}").get_data(as_text=True)
    # Another card then works on the same order.
    answer = pay_order(client, stripe_peer, order_id, CARD_OK)
    assert answer.get_json()["status"] == "succeeded"
    assert [p.status for p in db.session.scalars(sa.select(Payment).order_by(Payment.id))] == [
        PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]


def test_three_d_secure_is_completed_in_the_browser_then_fulfilled(app, client, stripe_peer):
    member = _member(status="active")
    _end_current_term_in(member, days=20)
    client.login("ada@example.org")
    order_id = _start(client, "/membership/renew")
    body = pay_order(client, stripe_peer, order_id, CARD_3DS).get_json()
    assert body["status"] == "requires_action" and body["client_secret"].startswith("pi_")
    db.session.expire_all()
    assert member.paid_through == today() + timedelta(days=20)  # nothing yet
    authenticate_payment(stripe_peer, body["client_secret"], success=True)
    refreshed = post_json(client, body["refresh_url"], client.csrf_token("/chapters"), {})
    assert refreshed.get_json()["status"] == "succeeded"
    db.session.expire_all()
    newest = db.session.scalar(sa.select(MembershipTerm).order_by(MembershipTerm.id.desc()))
    assert newest.starts_on == today() + timedelta(days=21) and member.paid_through == newest.ends_on


def test_failed_three_d_secure_leaves_the_membership_unchanged(app, client, stripe_peer):
    member = _member(status="active")
    _end_current_term_in(member, days=20)
    client.login("ada@example.org")
    order_id = _start(client, "/membership/renew")
    body = pay_order(client, stripe_peer, order_id, CARD_3DS).get_json()
    authenticate_payment(stripe_peer, body["client_secret"], success=False)
    refreshed = post_json(client, body["refresh_url"], client.csrf_token("/chapters"), {})
    assert refreshed.status_code == 402 and refreshed.get_json()["status"] == "failed"
    db.session.expire_all()
    assert member.paid_through == today() + timedelta(days=20)
    assert db.session.get(Order, order_id).status is OrderStatus.OPEN


def _end_current_term_in(member, days):
    from chapter.members.services import refresh_membership_dates

    db.session.execute(sa.update(MembershipTerm).where(MembershipTerm.member_id == member.id)
                       .values(ends_on=today() + timedelta(days=days)))
    refresh_membership_dates(member)
    db.session.commit()


def test_renewal_starts_the_day_after_the_current_term_ends(app, client, stripe_peer):
    member = _member(status="active")
    _end_current_term_in(member, days=45)
    client.login("ada@example.org")
    order_id = _start(client, "/membership/renew")
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    terms = db.session.scalars(sa.select(MembershipTerm).order_by(MembershipTerm.starts_on)).all()
    assert terms[-1].starts_on == today() + timedelta(days=46)
    assert len(terms) == 2


def test_renewal_in_grace_continues_without_a_gap(app, client, stripe_peer):
    member = _member(status="grace")
    ended = member.paid_through
    client.login("ada@example.org")
    order_id = _start(client, "/membership/renew")
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    newest = db.session.scalar(sa.select(MembershipTerm).order_by(MembershipTerm.id.desc()))
    assert newest.starts_on == ended + timedelta(days=1)


def test_renewal_is_refused_before_the_window_opens(app, client):
    _member(status="active")  # ends in about 265 days
    client.login("ada@example.org")
    response = client.get("/membership/renew", follow_redirects=True)
    assert "Renewal opens on" in response.get_data(as_text=True)


def test_a_lapsed_member_rejoins_from_today(app, client, stripe_peer):
    member = _member(status="lapsed")
    client.login("ada@example.org")
    assert "/membership/join" in client.get("/membership/renew").headers["Location"]
    order_id = _start(client, "/membership/join")
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    db.session.expire_all()
    newest = db.session.scalar(sa.select(MembershipTerm).order_by(MembershipTerm.id.desc()))
    assert newest.starts_on == today() and member.status_on(today()) is MembershipStatus.ACTIVE


def test_upgrade_is_prorated_by_day(app, client, stripe_peer):
    member = _member(status="active", type_code="student")  # started 100 days ago
    client.login("ada@example.org")
    order_id = _start(client, "/membership/change-type", "professional")
    order = db.session.get(Order, order_id)
    term = db.session.scalar(sa.select(MembershipTerm))
    days_in_term = (term.ends_on - term.starts_on).days + 1
    days_left = (term.ends_on - today()).days + 1
    assert order.total_cents == (21000 - 4500) * days_left // days_in_term
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert member.current_type.code == "professional"
    assert member.paid_through == term.original_ends_on  # the end date does not move


def test_downgrade_waits_for_renewal(app, client):
    _member(status="active")
    client.login("ada@example.org")
    response = client.submit("/membership/change-type", {"membership_type_id": factories.membership_type("student").id})
    assert response.status_code == 400
    assert "takes effect when you renew" in response.get_data(as_text=True)


def test_free_types_cannot_be_bought(app, client):
    _member()
    client.login("ada@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type("lifetime").id})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_nobody_else_can_open_or_pay_my_order(app, client, stripe_peer):
    _member()
    factories.member(email="eve@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    order_id = _start(client, "/membership/join")
    client.logout()
    client.login("eve@example.org")
    assert client.get(f"/pay/{order_id}").status_code == 403
    token = client.csrf_token("/chapters")
    assert post_json(client, f"/pay/{order_id}/charge", token, {"setup_intent_id": "seti_x"}).status_code == 403
    assert client.get("/pay/999999").status_code == 404
