"""Where webhooks may go under production settings: https only, public addresses only, checked at save
and at every send (DNS rebinding), no redirects followed."""
from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from chapter.core import domain_events
from chapter.extensions import db
from chapter.outgoing import addresses, transport
from chapter.outgoing.models import DeliveryStatus, WebhookDelivery
from tests import factories
from tests.conftest import run_jobs
from tests.outgoing.helpers import endpoint_for

PUBLIC = "93.184.215.14"


def _resolving(monkeypatch, answers: dict[str, str]) -> None:
    """The DNS as the test says: host name -> address (others resolve for real)."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hooks", "https://10.1.2.3/hooks", "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hooks", "https://localhost/hooks", "https://192.168.0.10/", "https://172.16.5.4/",
    "https://224.0.0.1/", "https://0.0.0.0/", "https://[::ffff:127.0.0.1]/", "https://[fd00::1]/",
])
def test_private_loopback_and_link_local_targets_are_refused_in_production(production_targets, url):
    with pytest.raises(addresses.TargetRefused) as refused:
        addresses.check_target(url)
    assert refused.value.field == "url" and "public addresses" in refused.value.message


def test_a_host_name_resolving_to_loopback_is_refused_in_production(production_targets, monkeypatch):
    _resolving(monkeypatch, {"hooks.example.org": "127.0.0.1"})
    with pytest.raises(addresses.TargetRefused, match="resolves to 127.0.0.1"):
        addresses.check_target("https://hooks.example.org/in")


def test_plain_http_and_credentials_in_the_url_are_refused_in_production(production_targets, monkeypatch):
    _resolving(monkeypatch, {"hooks.example.org": PUBLIC})
    with pytest.raises(addresses.TargetRefused, match="only sent to https://"):
        addresses.check_target("http://hooks.example.org/in")
    with pytest.raises(addresses.TargetRefused, match="no user name or password"):
        addresses.check_target("https://user:pw@hooks.example.org/in")
    addresses.check_target("https://hooks.example.org/in")  # a public https URL is fine


def test_an_endpoint_whose_host_now_resolves_to_loopback_is_not_contacted(production_targets, monkeypatch, receiver):
    """Saved while public, the name later answers 127.0.0.1 (DNS rebinding): the send is refused, nothing connects."""
    hook = receiver()
    chapter = factories.chapter(1)
    _resolving(monkeypatch, {"hooks.example.org": PUBLIC})
    endpoint_for(chapter, f"https://hooks.example.org:{hook.port}/hooks", ["member.joined"])
    db.session.commit()
    _resolving(monkeypatch, {"hooks.example.org": "127.0.0.1"})
    domain_events.publish("member.joined", {"member_id": 1, "chapter_id": chapter.id})
    db.session.commit()
    run_jobs()

    delivery = db.session.scalar(sa.select(WebhookDelivery))
    assert hook.received == []
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_error.startswith("Refused:") and "127.0.0.1" in delivery.last_error


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(app, monkeypatch, receiver):
    """The address checked is the one connected to: a resolver answering differently the second time is not asked."""
    hook = receiver()
    lookups = []
    real = socket.getaddrinfo

    def counting(host, port, *args, **kwargs):
        lookups.append(host)
        return real("127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    answer = transport.post(f"http://receiver.test:{hook.port}/hooks", "{}", {})
    assert answer.ok
    assert [host for host in lookups if host != "127.0.0.1"] == ["receiver.test"]  # the name once; then the address
    assert hook.received[0].headers["host"] == f"receiver.test:{hook.port}"


def test_a_redirect_is_not_followed(app, receiver):
    target = receiver()
    hook = receiver([302], headers={"Location": target.url})
    answer = transport.post(hook.url, "{}", {})
    assert not answer.ok and answer.status == 302 and "Redirects are not followed" in answer.error
    assert target.received == []


def test_saving_an_endpoint_on_a_private_address_shows_the_message_by_the_url_field(production_targets, client):
    chapter = factories.chapter(1)
    president = factories.officer(chapter, "president")
    db.session.commit()
    client.login(president.email)
    response = client.submit("/chapters/1/webhooks", {"url": "https://10.0.0.8/hooks", "events": ["member.joined"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="url-error"' in page and "10.0.0.8, a private, loopback" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
