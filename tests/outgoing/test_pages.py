"""The webhook pages: who may use each route, the secret shown once, messages by the field, Redeliver."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from chapter.core import domain_events
from chapter.extensions import db
from chapter.outgoing import signing
from chapter.outgoing.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.conftest import run_jobs
from tests.outgoing.helpers import endpoint_for

ROLES = ["president", "secretary", "other_president", "district_manager", "member", "anonymous", "staff"]
ALLOWED = {"president": "chapter", "staff": "all"}


def _world(receiver_url: str) -> dict:
    first, second = factories.chapter(1), factories.chapter(2)
    people = {
        "president": factories.officer(first, "president"),
        "secretary": factories.officer(first, "secretary"),
        "other_president": factories.officer(second, "president"),
        "district_manager": factories.district_manager(first.district),
        "member": factories.member(home=first, with_user=True).user,
        "staff": factories.staff(),
    }
    endpoint, _secret = endpoint_for(first, receiver_url, ["member.joined"], owner=people["president"])
    domain_events.publish("member.joined", {"member_id": 1, "chapter_id": first.id})
    db.session.commit()
    run_jobs()
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    return {"people": people, "endpoint": endpoint.id, "delivery": delivery.id}


def _routes(world: dict, url: str) -> list[tuple[str, str, dict]]:
    e, d = world["endpoint"], world["delivery"]
    new = {"url": url, "events": ["member.joined"], "description": "Site"}
    return [
        ("GET", "/chapters/1/webhooks", {}),
        ("POST", "/chapters/1/webhooks", new),
        ("GET", "/admin/webhooks", {}),
        ("POST", "/admin/webhooks", {**new, "chapter_id": ""}),
        ("GET", f"/webhooks/{e}", {}),
        ("POST", f"/webhooks/{e}", new),
        ("POST", f"/webhooks/{e}/secret", {}),
        ("POST", f"/webhooks/{e}/enabled", {"enabled": "1"}),
        ("POST", f"/webhooks/{e}/deliveries/{d}/redeliver", {}),
        ("POST", f"/webhooks/{e}/delete", {}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_webhook_route_answers_each_role_as_its_rights_say(app, client, receiver, role):
    hook = receiver()
    world = _world(hook.url)
    if role != "anonymous":
        client.login(world["people"][role].email)
    for method, path, data in _routes(world, hook.url):
        allowed = ALLOWED.get(role) == "all" or (ALLOWED.get(role) == "chapter" and not path.startswith("/admin/"))
        if method == "GET":
            response = client.get(path)
        else:
            response = client.submit(path, data, form_url="/login" if role == "anonymous" else "/chapters")
        where = f"{role} {method} {path}"
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], where
        elif allowed:
            assert response.status_code in (200, 302), f"{where}: {response.status_code}"
            assert "/login" not in response.headers.get("Location", ""), where
        else:
            assert response.status_code == 403, f"{where}: {response.status_code}"
    remaining = db.session.get(WebhookEndpoint, world["endpoint"])
    assert (remaining is None) == (role in ALLOWED)  # only those allowed could delete it


def test_a_president_registers_an_endpoint_and_sees_its_secret_once(app, client, receiver):
    hook = receiver()
    chapter = factories.chapter(1)
    president = factories.officer(chapter, "president")
    db.session.commit()
    client.login(president.email)
    page = client.get("/chapters/1/webhooks").get_data(as_text=True)
    assert 'type="checkbox"' in page and "member.lapsed" in page and '<label class="form-label" for="url">URL</label>' in page

    response = client.submit("/chapters/1/webhooks", {"url": hook.url, "events": ["member.joined", "payment.succeeded"],
                                                     "description": "Chapter site"})
    shown = re.search(r'value="(whsec_[^"]+)"', response.get_data(as_text=True)).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    endpoint = db.session.scalar(sa.select(WebhookEndpoint))
    assert endpoint.event_names == ["member.joined", "payment.succeeded"] and endpoint.chapter_id == chapter.id
    assert shown not in endpoint.secret_encrypted and signing.decrypt_secret(endpoint.secret_encrypted) == shown
    assert shown not in client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert shown not in client.get("/chapters/1/webhooks").get_data(as_text=True)

    rolled = client.submit(f"/webhooks/{endpoint.id}/secret", form_url=f"/webhooks/{endpoint.id}")
    new = re.search(r'value="(whsec_[^"]+)"', rolled.get_data(as_text=True)).group(1)
    db.session.refresh(endpoint)
    assert new != shown and signing.decrypt_secret(endpoint.secret_encrypted) == new


def test_an_endpoint_without_events_or_with_a_bad_url_is_refused_with_a_message_by_the_field(app, client):
    chapter = factories.chapter(1)
    president = factories.officer(chapter, "president")
    db.session.commit()
    client.login(president.email)
    no_events = client.submit("/chapters/1/webhooks", {"url": "https://example.org/in"})
    assert no_events.status_code == 400 and 'id="events-error"' in no_events.get_data(as_text=True)
    assert "Choose at least one event." in no_events.get_data(as_text=True)
    bad = client.submit("/chapters/1/webhooks", {"url": "ftp:/nowhere", "events": ["member.joined"]})
    assert bad.status_code == 400 and 'id="url-error"' in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0


def test_staff_register_an_endpoint_for_every_chapter(app, client, receiver):
    hook = receiver()
    factories.chapter(1)
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    response = client.submit("/admin/webhooks", {"url": hook.url, "events": ["certification.awarded"], "chapter_id": ""})
    assert response.status_code == 200 and "whsec_" in response.get_data(as_text=True)
    endpoint = db.session.scalar(sa.select(WebhookEndpoint))
    assert endpoint.chapter_id is None
    assert "Every chapter" in client.get("/admin/webhooks").get_data(as_text=True)


def test_redeliver_needs_the_forms_csrf_token_and_then_sends_again(app, client, receiver):
    hook = receiver()
    world = _world(hook.url)
    client.login(world["people"]["president"].email)
    path = f"/webhooks/{world['endpoint']}/deliveries/{world['delivery']}/redeliver"
    assert client.client.post(path).status_code == 400
    assert len(hook.received) == 1
    response = client.submit(path, form_url=f"/webhooks/{world['endpoint']}")
    assert response.status_code == 302
    run_jobs()
    assert len(hook.received) == 2
    delivery = db.session.get(WebhookDelivery, world["delivery"])
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_the_roster_shows_the_webhooks_button_only_to_those_with_the_right(app, client):
    chapter = factories.chapter(1)
    president, secretary = factories.officer(chapter, "president"), factories.officer(chapter, "secretary")
    db.session.commit()
    client.login(president.email)
    assert 'href="/chapters/1/webhooks"' in client.get("/chapters/1/roster").get_data(as_text=True)
    client.logout()
    client.login(secretary.email)
    assert 'href="/chapters/1/webhooks"' not in client.get("/chapters/1/roster").get_data(as_text=True)


@pytest.mark.parametrize("url", ["https://[::1", "https://example.org:99999/", "https://xn--/in", "https://exa mple.org/",
                                 "x" * 3000, "https://" + "a" * 300 + ".org/", "javascript:alert(1)", "\u2028"])
def test_a_hostile_url_or_event_is_a_400_with_a_message_never_a_500(production_targets, client, url):
    factories.chapter(1)
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    response = client.submit("/admin/webhooks", {"url": url, "events": ["member.joined", "nope"], "chapter_id": "999"})
    assert response.status_code == 400
    response = client.submit("/admin/webhooks", {"url": url, "events": ["member.joined"], "chapter_id": ""})
    assert response.status_code == 400 and 'id="url-error"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0
