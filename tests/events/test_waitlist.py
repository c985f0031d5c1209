"""The waitlist: a freed seat is offered to the first on the list by mail for EVENT_WAITLIST_OFFER_HOURS, then
to the next when the offer runs out (the event_offers periodic task); an unpaid hold gives its seat back."""
from __future__ import annotations

from datetime import timedelta

from chapter.core.models import utcnow
from chapter.events import registration as registrations
from chapter.events.models import RegistrationStatus
from chapter.events.tasks import event_offers
from chapter.extensions import db
from tests import factories
from tests.conftest import run_jobs
from tests.events import factories as events


def _people(chapter, n):
    return [factories.member(home=chapter, with_user=True) for _ in range(n)]


def test_a_freed_seat_goes_to_the_first_waiting_then_to_the_next_when_the_offer_runs_out(app, clock, smtp_server):
    app.config["EVENT_WAITLIST_OFFER_HOURS"] = 24
    chapter = factories.chapter()
    meeting = events.event(chapter, capacity=1, starts_at=utcnow() + timedelta(days=20))
    holder, first, second = _people(chapter, 3)
    seat = registrations.register(meeting, user=holder.user)
    waiting_1 = registrations.register(meeting, user=first.user)
    waiting_2 = registrations.register(meeting, user=second.user)
    assert [r.status for r in (seat, waiting_1, waiting_2)] == [
        RegistrationStatus.PENDING, RegistrationStatus.WAITLISTED, RegistrationStatus.WAITLISTED]
    assert (waiting_1.waitlist_position, waiting_2.waitlist_position) == (1, 2)
    db.session.commit()
    order = seat.order
    # The holder never pays: after the payment window their seat is offered to the first waiting.
    clock((utcnow() + timedelta(minutes=31)).isoformat())
    summary = registrations.expire_holds_and_offers(utcnow())
    db.session.commit()
    assert (summary.holds, summary.offered) == (1, 1)
    assert (seat.status, waiting_1.status, waiting_2.status) == (
        RegistrationStatus.EXPIRED, RegistrationStatus.OFFERED, RegistrationStatus.WAITLISTED)
    assert order.status.value == "cancelled" and seat.order_id is None
    run_jobs()
    assert any(m["To"] == first.email and "within 24 hours" in m["Subject"] for m in smtp_server)
    # 23 hours later the offer still holds; at 24 it runs out and the next is offered.
    clock((utcnow() + timedelta(hours=23)).isoformat())
    assert registrations.expire_holds_and_offers(utcnow()).offers == 0
    clock((utcnow() + timedelta(hours=1, minutes=1)).isoformat())
    summary = registrations.expire_holds_and_offers(utcnow())
    db.session.commit()
    assert (summary.offers, summary.offered) == (1, 1)
    assert (waiting_1.status, waiting_2.status) == (RegistrationStatus.EXPIRED, RegistrationStatus.OFFERED)
    run_jobs()
    assert any(m["To"] == second.email and "A seat is yours" in m["Subject"] for m in smtp_server)


def test_the_offered_person_pays_within_the_offer_and_gets_the_seat(app, client, stripe_peer):
    import re

    from tests.payments.helpers import pay_order

    chapter = factories.chapter()
    meeting = events.event(chapter, capacity=1)
    holder, waiting = _people(chapter, 2)
    seat = registrations.register(meeting, user=holder.user)
    offered = registrations.register(meeting, user=waiting.user)
    db.session.commit()
    registrations.cancel_registration(seat, actor=holder.user)
    db.session.commit()
    assert offered.status is RegistrationStatus.OFFERED
    client.login(waiting.email)
    page = client.get("/my/events").get_data(as_text=True)
    assert "A seat is offered to you until" in page
    response = client.submit(f"/my/events/{offered.id}/pay", {}, form_url="/my/events")
    order_id = int(re.search(r"/pay/(\d+)", response.headers["Location"]).group(1))
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert db.session.get(type(offered), offered.id).status is RegistrationStatus.PAID


def test_the_periodic_task_expires_holds_and_records_its_run(app, clock):
    chapter = factories.chapter()
    meeting = events.event(chapter, capacity=1)
    holder, waiting = _people(chapter, 2)
    registrations.register(meeting, user=holder.user)
    queued = registrations.register(meeting, user=waiting.user)
    db.session.commit()
    clock((utcnow() + timedelta(hours=1)).isoformat())
    event_offers.call_local()
    db.session.expire_all()
    assert db.session.get(type(queued), queued.id).status is RegistrationStatus.OFFERED


def test_a_held_seat_of_a_cancelled_event_can_no_longer_be_paid(app):
    import pytest

    from chapter.core.errors import DomainError
    from chapter.events.models import EventStatus
    from chapter.payments import fulfilment

    chapter = factories.chapter()
    meeting = events.event(chapter)
    holder = _people(chapter, 1)[0]
    held = registrations.register(meeting, user=holder.user)
    from chapter.payments.models import Order

    order = db.session.get(Order, held.order_id)
    assert fulfilment.price_on(order, utcnow().date()) == 2500
    meeting.status = EventStatus.CANCELLED
    assert fulfilment.price_on(order, utcnow().date()) == fulfilment.STALE
    with pytest.raises(DomainError, match="no longer taking payments"):
        fulfilment.reprice(order, utcnow().date())
