"""Registering and paying with the real card flow (localstripe), the chapter's share in the ledger, cancelling
from My events with the policy's refund shown first, free events, guests."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from chapter.core.models import utcnow
from chapter.events.models import PriceCategory, Registration, RegistrationStatus
from chapter.extensions import db
from chapter.payments.models import Order, OrderStatus, Payment
from chapter.treasury.models import LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.events import factories as events
from tests.payments.helpers import pay_order


def _member(chapter, **kw):
    member = factories.member(home=chapter, with_user=True, **kw)
    db.session.commit()
    return member


def test_a_member_registers_pays_by_card_and_the_chapter_gets_its_share_in_the_ledger(app, client, stripe_peer,
                                                                                        smtp_server):
    chapter = factories.chapter()
    meeting = events.event(chapter, title="Lean in the warehouse", chapter_share_percent=80)
    member = _member(chapter)
    client.login(member.email)
    response = client.submit(f"/events/{meeting.id}/register", {}, form_url=f"/events/{meeting.id}")
    assert response.status_code == 302 and "/pay/" in response.headers["Location"]
    order_id = int(re.search(r"/pay/(\d+)", response.headers["Location"]).group(1))
    page = client.get(f"/pay/{order_id}").get_data(as_text=True)
    assert "Lean in the warehouse" in page and "$25.00" in page
    answer = pay_order(client, stripe_peer, order_id)
    assert answer.get_json()["status"] == "succeeded", answer.get_json()
    registration = db.session.scalar(sa.select(Registration).where(Registration.event_id == meeting.id))
    assert registration.status is RegistrationStatus.PAID and registration.category is PriceCategory.MEMBER
    shares = db.session.execute(sa.select(LedgerEntry.kind, LedgerEntry.amount_cents, LedgerEntry.chapter_id).where(
        LedgerEntry.kind.in_([LedgerKind.CHARGE, LedgerKind.CHAPTER_SHARE]))).all()
    assert sorted(shares) == sorted([(LedgerKind.CHARGE, 2500, chapter.id), (LedgerKind.CHAPTER_SHARE, 2000, chapter.id)])
    my_events = client.get("/my/events").get_data(as_text=True)
    assert "Lean in the warehouse" in my_events and "Hilton Garden Inn" in my_events and "Confirmed" in my_events
    run_jobs()
    subjects = [m["Subject"] for m in smtp_server]
    assert "You are registered: Lean in the warehouse" in subjects


def test_cancelling_shows_the_policy_refund_first_and_refunds_half_within_two_weeks(app, client, stripe_peer,
                                                                                    smtp_server):
    chapter = factories.chapter()
    meeting = events.event(chapter, starts_at=utcnow() + timedelta(days=10), capacity=1)
    member = _member(chapter)
    waiting = _member(chapter)
    client.login(member.email)
    response = client.submit(f"/events/{meeting.id}/register", {}, form_url=f"/events/{meeting.id}")
    order_id = int(re.search(r"/pay/(\d+)", response.headers["Location"]).group(1))
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    other = app.test_client()
    from tests.conftest import Browserish
    second = Browserish(other)
    second.login(waiting.email)
    second.submit(f"/events/{meeting.id}/register", {}, form_url=f"/events/{meeting.id}")
    registration = db.session.scalar(sa.select(Registration).where(Registration.user_id == member.user.id))
    page = client.get(f"/my/events/{registration.id}/cancel").get_data(as_text=True)
    assert "gives back 50% today: $12.50 to your card" in page
    assert db.session.scalar(sa.select(Payment.refunded_cents)) == 0  # nothing moved on GET
    response = client.submit(f"/my/events/{registration.id}/cancel", {"confirmed": "yes"},
                             form_url=f"/my/events/{registration.id}/cancel")
    assert response.status_code == 302
    db.session.expire_all()
    payment = db.session.scalar(sa.select(Payment))
    assert payment.refunded_cents == 1250
    assert db.session.get(Registration, registration.id).status is RegistrationStatus.CANCELLED
    offered = db.session.scalar(sa.select(Registration).where(Registration.user_id == waiting.user.id))
    assert offered.status is RegistrationStatus.OFFERED
    assert offered.offer_expires_at - utcnow() > timedelta(hours=47)
    chapter_share = db.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount_cents)).where(
        LedgerEntry.kind == LedgerKind.CHAPTER_SHARE))
    assert chapter_share == 2500 - 1250
    run_jobs()
    offer = next(m for m in smtp_server if m["To"] == waiting.email and "A seat is yours" in m["Subject"])
    assert "within 48 hours" in offer["Subject"] and "/my/events" in text_of(offer)


def test_a_free_event_confirms_at_once_with_guests_and_needs_no_payment(app, client):
    chapter = factories.chapter()
    meeting = events.event(chapter, prices={PriceCategory.MEMBER: 0, PriceCategory.NON_MEMBER: 0,
                                            PriceCategory.GUEST: 0})
    member = _member(chapter)
    client.login(member.email)
    response = client.submit(f"/events/{meeting.id}/register", {"guest_1": "Robin Guest"},
                             form_url=f"/events/{meeting.id}")
    assert response.headers["Location"].endswith("/my/events")
    rows = db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()
    assert [(r.name, r.status, r.category) for r in rows] == [
        (member.full_name, RegistrationStatus.PAID, PriceCategory.MEMBER),
        ("Robin Guest", RegistrationStatus.PAID, PriceCategory.GUEST)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert "Guest: Robin Guest" in client.get("/my/events").get_data(as_text=True)


def test_a_member_pays_the_guest_price_for_each_guest_in_one_order(app, client):
    chapter = factories.chapter()
    meeting = events.event(chapter)
    member = _member(chapter)
    client.login(member.email)
    client.submit(f"/events/{meeting.id}/register", {"guest_1": "Robin", "guest_2": "Sam"},
                  form_url=f"/events/{meeting.id}")
    order = db.session.scalar(sa.select(Order))
    assert order.total_cents == 2500 + 2 * 3000 and order.status is OrderStatus.OPEN
    assert [line.amount_cents for line in order.lines] == [2500, 3000, 3000]


def test_a_confirmed_registration_publishes_event_registration_created_once_per_person(app, monkeypatch):
    from chapter.core import domain_events
    from chapter.events import registration as registrations

    published = []
    monkeypatch.setattr(domain_events, "publish", lambda name, payload: published.append((name, payload)))
    chapter = factories.chapter()
    free = events.event(chapter, prices={PriceCategory.MEMBER: 0, PriceCategory.GUEST: 0})
    paid = events.event(chapter)
    member = factories.member(home=chapter, with_user=True)
    registrations.register(paid, user=member.user)  # held for payment: nothing confirmed yet
    assert published == []
    host = registrations.register(free, user=member.user, guest_names=["Robin"])
    assert [(name, p["event_id"], p["guest_of_id"]) for name, p in published] == [
        ("event.registration.created", free.id, None), ("event.registration.created", free.id, host.id)]
