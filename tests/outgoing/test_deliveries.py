"""Deliveries: signed (checked by an independent implementation), retried with back-off, de-duplicated,
an endpoint failing for 3 days disabled with its owner told; jobs run with the real worker code."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import sqlalchemy as sa

from chapter.core import domain_events
from chapter.extensions import db
from chapter.jobs.models import OutboxMail
from chapter.outgoing import deliveries
from chapter.outgoing.models import DeliveryStatus, WebhookDelivery
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.outgoing.helpers import endpoint_for


def verify_standard_webhook(secret: str, headers: dict[str, str], body: str, tolerance: int = 300) -> bool:
    """The receiver's side, written from the Standard Webhooks specification (not the app's code)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) <= tolerance
    return fresh and any(hmac.compare_digest(expected, part.split(",", 1)[1])
                         for part in headers["webhook-signature"].split() if part.startswith("v1,"))


def _joined(member_id: int = 7, chapter_id: int | None = None) -> dict:
    return {"member_id": member_id, "member_number": "1000007", "chapter_id": chapter_id, "chapter_number": 1,
            "term_id": 3, "membership_type": "professional", "starts_on": "2026-12-01", "ends_on": "2027-11-30",
            "order_id": 9}


def test_a_delivery_is_signed_so_that_an_independent_check_accepts_it_and_a_wrong_secret_does_not(app, receiver):
    chapter = factories.chapter(1)
    hook = receiver()
    endpoint, secret = endpoint_for(chapter, hook.url, ["member.joined"])
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.commit()
    run_jobs()

    [request] = hook.received
    assert verify_standard_webhook(secret, request.headers, request.body)
    assert not verify_standard_webhook("whsec_" + base64.b64encode(b"x" * 24).decode(), request.headers, request.body)
    assert not verify_standard_webhook(secret, request.headers, request.body.replace("1000007", "1000008"))
    body = json.loads(request.body)
    assert body["type"] == "member.joined" and body["data"]["member_number"] == "1000007"
    assert request.headers["content-type"] == "application/json"
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    assert request.headers["webhook-id"] == delivery.webhook_id
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.DELIVERED, 1, 200)


def test_an_endpoint_that_fails_twice_gets_the_third_attempt_and_the_log_shows_it(app, receiver, client, clock):
    clock("2026-12-01T10:00:00")
    chapter = factories.chapter(1)
    president = factories.officer(chapter, "president")
    hook = receiver([500, 503])
    endpoint, secret = endpoint_for(chapter, hook.url, ["member.joined"], owner=president)
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.commit()

    run_jobs()
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.PENDING, 1, 500)
    assert 30 <= (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() < 31
    clock(delivery.next_attempt_at + timedelta(seconds=1))  # the scheduled retry falls due
    run_jobs()
    db.session.refresh(delivery)
    assert (delivery.attempts, delivery.response_code) == (2, 503)
    assert 120 <= (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() < 121  # four times longer
    clock(delivery.next_attempt_at + timedelta(seconds=1))
    run_jobs()
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.DELIVERED, 3, 200)
    assert len(hook.received) == 3
    assert len({r.headers["webhook-id"] for r in hook.received}) == 1  # the same id on every attempt
    assert all(verify_standard_webhook(secret, r.headers, r.body) for r in hook.received)

    client.login(president.email)
    page = client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "member.joined" in page and "Delivered" in page and "1000007" in page
    assert '<td class="text-end">3</td>' in page


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_owner_told_by_mail(app, receiver, clock, smtp_server):
    clock("2026-12-01T10:00:00")
    chapter = factories.chapter(1)
    president = factories.officer(chapter, "president")
    hook = receiver([500] * 100)
    endpoint, _secret = endpoint_for(chapter, hook.url, ["member.joined"], owner=president)
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.commit()
    run_jobs()
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    while delivery.status is DeliveryStatus.PENDING and delivery.attempts < 50:
        clock(delivery.next_attempt_at + timedelta(seconds=1))
        deliveries.sweep()  # the sweep finds the due delivery whatever became of its scheduled job
        run_jobs()
        db.session.refresh(delivery)
    db.session.refresh(endpoint)

    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_attempt_at - delivery.created_at >= timedelta(days=3)
    assert delivery.last_attempt_at - delivery.created_at < timedelta(days=3, hours=1)
    assert 10 < delivery.attempts < 25 and len(hook.received) == delivery.attempts  # back-off, not a flood
    assert not endpoint.is_enabled and "Disabled automatically" in endpoint.disabled_reason
    [mail] = [m for m in smtp_server if m["To"] == president.email]
    assert mail["Subject"] == "Your webhook endpoint was disabled"
    assert hook.url in text_of(mail) and f"/webhooks/{endpoint.id}" in text_of(mail)

    domain_events.publish("member.joined", _joined(member_id=8, chapter_id=chapter.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 1  # disabled: nothing new


def test_an_event_published_twice_is_delivered_once(app, receiver):
    chapter = factories.chapter(1)
    hook = receiver()
    endpoint_for(chapter, hook.url, ["member.joined"])
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.commit()
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.commit()
    run_jobs()
    deliveries.sweep()
    run_jobs()

    assert len(hook.received) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 1


def test_a_second_prompt_for_a_delivered_delivery_sends_nothing(app, receiver):
    from chapter.outgoing import tasks

    chapter = factories.chapter(1)
    hook = receiver()
    endpoint_for(chapter, hook.url, ["member.joined"])
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.commit()
    delivery_id = db.session.scalar(sa.select(WebhookDelivery.id))
    tasks.deliver_webhook(delivery_id)
    run_jobs()
    assert len(hook.received) == 1


def test_a_rolled_back_change_delivers_nothing(app, receiver):
    chapter = factories.chapter(1)
    hook = receiver()
    endpoint_for(chapter, hook.url, ["member.joined"])
    db.session.commit()
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.rollback()
    run_jobs()
    assert hook.received == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0


def test_an_endpoint_receives_only_the_events_it_chose_for_its_own_chapter(app, receiver):
    first, second = factories.chapter(1), factories.chapter(2)
    mine, everyone, payments = receiver(), receiver(), receiver()
    endpoint_for(first, mine.url, ["member.joined"])
    endpoint_for(None, everyone.url, ["member.joined", "member.transferred"])
    endpoint_for(first, payments.url, ["payment.succeeded"])
    domain_events.publish("member.joined", _joined(member_id=1, chapter_id=first.id))
    domain_events.publish("member.joined", _joined(member_id=2, chapter_id=second.id))
    domain_events.publish("member.transferred", {"transfer_id": 5, "member_id": 3, "chapter_id": second.id,
                                                 "from_chapter_id": first.id, "to_chapter_id": second.id})
    db.session.commit()
    run_jobs()

    assert [json.loads(r.body)["data"]["member_id"] for r in mine.received] == [1]
    assert sorted(json.loads(r.body)["data"]["member_id"] for r in everyone.received) == [1, 2, 3]
    assert payments.received == []


def test_a_redelivered_delivery_is_sent_again_with_the_same_id(app, receiver):
    chapter = factories.chapter(1)
    staff = factories.staff()
    hook = receiver()
    endpoint_for(chapter, hook.url, ["member.joined"], owner=staff)
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.commit()
    run_jobs()
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    deliveries.redeliver(delivery, actor=staff)
    db.session.commit()
    run_jobs()

    assert len(hook.received) == 2
    assert hook.received[0].headers["webhook-id"] == hook.received[1].headers["webhook-id"]
    assert hook.received[0].body == hook.received[1].body
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_an_endpoint_that_answers_again_is_no_longer_failing(app, receiver, clock):
    chapter = factories.chapter(1)
    hook = receiver([500])
    endpoint, _ = endpoint_for(chapter, hook.url, ["member.joined"])
    domain_events.publish("member.joined", _joined(chapter_id=chapter.id))
    db.session.commit()
    run_jobs()
    db.session.refresh(endpoint)
    assert endpoint.failing_since is not None
    clock(db.session.scalar(sa.select(WebhookDelivery.next_attempt_at)) + timedelta(seconds=1))
    run_jobs()
    db.session.refresh(endpoint)
    assert endpoint.failing_since is None and endpoint.is_enabled
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 0
