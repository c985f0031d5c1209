"""Deliveries: one row per event and matching endpoint, written in the event's transaction; the worker
posts it, signed, and retries with back-off until it is answered 2xx or its 3 days are up.

The row is the record, the job only a prompt (docs/jobs.md): a delivery is *claimed* by one conditional
UPDATE, so a second prompt or a second worker does nothing, and a periodic sweep queues again the due
ones whose prompt was lost. An endpoint failing for WEBHOOK_DISABLE_AFTER_SECONDS is disabled and its
owner told by mail.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from chapter.core import audit, domain_events
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.outgoing import signing, transport
from chapter.outgoing.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

# Payload keys that name the chapters an event concerns (a transfer concerns both).
CHAPTER_KEYS = ("chapter_id", "from_chapter_id", "to_chapter_id")
SWEEP_GRACE = timedelta(minutes=2)


def _seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=int(current_app.config.get(name, default)))


def event_id(name: str, payload: dict) -> str:
    """The event's id, derived from what happened: the same fact published twice has the same id."""
    canonical = json.dumps([name, payload], sort_keys=True, separators=(",", ":"), default=str)
    return "evt_" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def matching_endpoints(name: str, payload: dict) -> list[WebhookEndpoint]:
    """Enabled endpoints subscribed to `name` for a chapter the event concerns, or for every chapter."""
    chapter_ids = [payload[key] for key in CHAPTER_KEYS if payload.get(key) is not None]
    return list(db.session.scalars(sa.select(WebhookEndpoint).where(
        WebhookEndpoint.is_enabled.is_(True), WebhookEndpoint.events.contains(f",{name},"),
        sa.or_(WebhookEndpoint.chapter_id.is_(None), WebhookEndpoint.chapter_id.in_(chapter_ids)),
    ).order_by(WebhookEndpoint.id)))


def record_deliveries(name: str, payload: dict) -> list[int]:
    """The domain-event subscriber: a delivery row per matching endpoint, queued when the transaction commits."""
    from chapter.jobs import queue
    from chapter.outgoing import tasks

    endpoints = matching_endpoints(name, payload)
    if not endpoints:
        return []
    identifier, now = event_id(name, payload), utcnow()
    body = json.dumps({"id": identifier, "type": name, "timestamp": now.isoformat(timespec="seconds") + "Z",
                       "data": payload}, separators=(",", ":"), default=str)
    already = set(db.session.scalars(sa.select(WebhookDelivery.endpoint_id).where(
        WebhookDelivery.event_id == identifier, WebhookDelivery.endpoint_id.in_([e.id for e in endpoints]))))
    made = []
    for endpoint in endpoints:
        if endpoint.id in already:
            continue
        # ON CONFLICT DO NOTHING, not a savepoint: a parallel transaction that recorded the same event first
        # wins, and this one goes on (pysqlite would commit a savepoint opened before any write).
        delivery_id = db.session.execute(_insert().values(
            endpoint_id=endpoint.id, event_id=identifier, webhook_id=f"msg_{secrets.token_hex(16)}", event_name=name,
            body=body, status=DeliveryStatus.PENDING.value, attempts=0, created_at=now, next_attempt_at=now,
            give_up_at=now + _seconds("WEBHOOK_RETRY_FOR_SECONDS", 259200),
        ).on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"]).returning(WebhookDelivery.id)).scalar()
        if delivery_id is not None:
            queue.enqueue_after_commit(tasks.deliver_webhook, delivery_id)
            made.append(delivery_id)
    return made


def _insert():
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(WebhookDelivery)
    return sqlite.insert(WebhookDelivery)


domain_events.subscribe_all(record_deliveries)


def retry_delay(attempts: int) -> int:
    """Seconds before attempt `attempts + 1`: WEBHOOK_RETRY_BASE_SECONDS, four times longer each time, at most 6 h."""
    base = int(current_app.config.get("WEBHOOK_RETRY_BASE_SECONDS", 30))
    return int(min(base * 4 ** max(attempts - 1, 0), 6 * 3600))


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for this worker: due and pending, or sending with a lease run out."""
    claimable = sa.or_(
        sa.and_(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now),
        sa.and_(WebhookDelivery.status == DeliveryStatus.SENDING, WebhookDelivery.lease_expires_at < now))
    claimed = db.session.execute(
        sa.update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, claimable)
        .values(status=DeliveryStatus.SENDING, attempts=WebhookDelivery.attempts + 1, last_attempt_at=now,
                lease_expires_at=now + _seconds("WEBHOOK_LEASE_SECONDS", 60))
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return claimed == 1


def deliver(delivery_id: int) -> str:
    """Post one delivery, signed, and record the outcome (delivered, retry later, or failed for good)."""
    from chapter.jobs import queue
    from chapter.outgoing import tasks

    if not _claim(delivery_id, utcnow()):
        return "skipped (not due, or another worker has it)"
    sending = db.session.execute(
        sa.select(WebhookDelivery.webhook_id, WebhookDelivery.body, WebhookEndpoint.url, WebhookEndpoint.is_enabled,
                  WebhookEndpoint.secret_encrypted)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id == delivery_id)).one_or_none()
    db.session.rollback()  # no transaction stays open while the endpoint takes its time
    if sending is None:
        return "skipped (the endpoint was deleted)"
    if not sending.is_enabled:
        answer = None
    else:
        try:
            secret = signing.decrypt_secret(sending.secret_encrypted)
        except signing.SecretUnreadable as error:
            answer = transport.Answer(None, str(error))
        else:
            timestamp = int(time.time())
            answer = transport.post(sending.url, sending.body, {
                "Webhook-Id": sending.webhook_id, "Webhook-Timestamp": str(timestamp),
                "Webhook-Signature": signing.signature(secret, sending.webhook_id, timestamp, sending.body)})
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return "sent, but the endpoint was deleted meanwhile"
    endpoint = delivery.endpoint
    if answer is None:
        _finish(delivery, DeliveryStatus.FAILED, None, "Not sent: the endpoint is disabled.")
        db.session.commit()
        return "not sent: endpoint disabled"
    now = utcnow()
    if answer.ok:
        _finish(delivery, DeliveryStatus.DELIVERED, answer.status, None)
        delivery.delivered_at = now
        endpoint.failing_since = None
        db.session.commit()
        return f"delivered ({answer.status})"
    retry_for = _seconds("WEBHOOK_RETRY_FOR_SECONDS", 259200)
    # Failing since the start of the oldest retry window not yet answered (the event, or its Redeliver).
    endpoint.failing_since = endpoint.failing_since or (delivery.give_up_at - retry_for)
    if now - endpoint.failing_since >= _seconds("WEBHOOK_DISABLE_AFTER_SECONDS", 259200):
        disable_failing(endpoint, now)
    if not endpoint.is_enabled or now >= delivery.give_up_at:
        _finish(delivery, DeliveryStatus.FAILED, answer.status, answer.error)
        db.session.commit()
        return f"failed for good after {delivery.attempts} attempt(s): {answer.error}"
    # The last attempt is made when the retry window closes, so an endpoint down all along is disabled then.
    next_attempt = min(now + timedelta(seconds=retry_delay(delivery.attempts)), delivery.give_up_at)
    delay = max(1, int((next_attempt - now).total_seconds()))
    _finish(delivery, DeliveryStatus.PENDING, answer.status, answer.error)
    delivery.next_attempt_at = next_attempt
    db.session.commit()
    queue.enqueue_safely(tasks.deliver_webhook, delivery_id, delay=delay)
    return f"attempt {delivery.attempts} failed, retrying in {delay} s: {answer.error}"


def _finish(delivery: WebhookDelivery, status: DeliveryStatus, code: int | None, error: str | None) -> None:
    delivery.status, delivery.response_code, delivery.last_error = status, code, error
    delivery.lease_expires_at = None


def disable_failing(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Switch off an endpoint that has failed for days, give up its waiting deliveries, and tell its owner."""
    from chapter.core.links import public_url
    from chapter.core.mail import send_mail

    endpoint.is_enabled = False
    endpoint.disabled_reason = (f"Disabled automatically on {now:%d %b %Y %H:%M} UTC: every delivery failed "
                                f"since {endpoint.failing_since:%d %b %Y %H:%M} UTC.")
    db.session.execute(sa.update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, last_error="Not sent: the endpoint was disabled.")
        .execution_options(synchronize_session=False))
    audit.record("webhooks.endpoint_disabled", actor=None, chapter_id=endpoint.chapter_id,
                 summary=f"Webhook endpoint {endpoint.url} disabled after failing since {endpoint.failing_since:%Y-%m-%d %H:%M}")
    owner = endpoint.created_by
    if owner is not None and owner.email:
        send_mail(owner.email, "Your webhook endpoint was disabled", "webhook_disabled", endpoint=endpoint,
                  link=public_url("outgoing.endpoint", endpoint_id=endpoint.id))
    log.warning("webhook endpoint %s (%s) disabled: failing since %s", endpoint.id, endpoint.url, endpoint.failing_since)


def sweep(now: datetime | None = None) -> int:
    """Queue again deliveries whose prompt was lost: pending and overdue, or claimed by a worker that died."""
    from chapter.jobs import queue
    from chapter.outgoing import tasks

    now = now or utcnow()
    due = db.session.scalars(sa.select(WebhookDelivery.id).where(sa.or_(
        sa.and_(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at < now - SWEEP_GRACE),
        sa.and_(WebhookDelivery.status == DeliveryStatus.SENDING, WebhookDelivery.lease_expires_at < now),
    )).order_by(WebhookDelivery.id).limit(5000)).all()
    db.session.rollback()
    for delivery_id in due:
        queue.enqueue_safely(tasks.deliver_webhook, delivery_id)
    return len(due)


class NotRedeliverable(DomainError):
    """A delivery being sent (or waiting for its next attempt) is not sent again by hand."""


def redeliver(delivery: WebhookDelivery, *, actor) -> WebhookDelivery:
    """Send a delivery again (same body, same Webhook-Id), with a fresh 3 days of retries."""
    from chapter.jobs import queue
    from chapter.outgoing import tasks

    if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
        raise NotRedeliverable("This delivery is already waiting to be sent.")
    if not delivery.endpoint.is_enabled:
        raise NotRedeliverable("Enable the endpoint first: a disabled endpoint receives nothing.")
    now = utcnow()
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now
    delivery.give_up_at = now + _seconds("WEBHOOK_RETRY_FOR_SECONDS", 259200)
    audit.record("webhooks.redelivered", actor=actor, chapter_id=delivery.endpoint.chapter_id,
                 summary=f"Delivery {delivery.webhook_id} ({delivery.event_name}) to {delivery.endpoint.url} sent again")
    db.session.flush()
    queue.enqueue_after_commit(tasks.deliver_webhook, delivery.id)
    return delivery
