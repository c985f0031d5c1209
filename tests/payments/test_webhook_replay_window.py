"""A signed webhook is accepted only while its signature is fresh: Stripe's 300-second tolerance. An event
signed 301 seconds ago (a replay of an old delivery) is refused; one signed 299 seconds ago is accepted.
The clock is stopped, so the seconds are exact however slow the machine is."""
import hashlib
import hmac
import json
import time

import sqlalchemy as sa

from chapter.extensions import db
from chapter.payments.models import StripeEvent
from tests.conftest import WEBHOOK_SECRET


def _deliver(client, event: dict, signed_seconds_ago: int):
    body = json.dumps(event).encode()
    timestamp = int(time.time()) - signed_seconds_ago
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return client.client.post("/stripe/webhook", data=body, headers={
        "Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"})


def _event(event_id: str) -> dict:
    return {"id": event_id, "object": "event", "type": "customer.created", "created": int(time.time()),
            "data": {"object": {"id": "cus_1", "object": "customer"}}}


def _stored() -> list[str]:
    return db.session.scalars(sa.select(StripeEvent.id).order_by(StripeEvent.id)).all()


def test_a_webhook_signed_301_seconds_ago_is_refused_and_not_stored(app, client, clock):
    clock("2026-06-15T10:00:00", tick=False)
    response = _deliver(client, _event("evt_old"), signed_seconds_ago=301)
    assert response.status_code == 400 and response.get_json() == {"error": "invalid signature"}
    assert _stored() == []


def test_a_webhook_signed_299_seconds_ago_is_accepted(app, client, clock):
    clock("2026-06-15T10:00:00", tick=False)
    response = _deliver(client, _event("evt_recent"), signed_seconds_ago=299)
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    assert _stored() == ["evt_recent"]


def test_an_hour_old_replay_is_refused_while_a_fresh_event_passes(app, client, clock):
    clock("2026-06-15T10:00:00", tick=False)
    assert _deliver(client, _event("evt_now"), signed_seconds_ago=0).status_code == 200
    assert _deliver(client, _event("evt_replayed_old"), signed_seconds_ago=3600).status_code == 400
    db.session.expire_all()
    assert _stored() == ["evt_now"]
