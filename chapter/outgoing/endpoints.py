"""Webhook endpoints: register, change, roll the secret, enable, delete; the delivery log of one."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.pagination import Page, paginate
from chapter.core.permissions import Roles
from chapter.extensions import db
from chapter.outgoing import addresses, signing
from chapter.outgoing.models import WebhookDelivery, WebhookEndpoint

# What an endpoint may subscribe to, in the order the form shows them (chapter/core/domain_events.py NAMES).
EVENT_CHOICES: list[tuple[str, str]] = [
    ("member.joined", "A member joined (first dues paid)"),
    ("member.renewed", "A member renewed"),
    ("member.lapsed", "A membership lapsed (checked daily)"),
    ("member.transferred", "A member moved to or from the chapter"),
    ("payment.succeeded", "A payment succeeded"),
    ("payment.refunded", "A payment was refunded"),
    ("event.registration.created", "Someone registered for an event"),
    ("certification.awarded", "A certification was awarded"),
]
EVENT_NAMES = [name for name, _label in EVENT_CHOICES]


@dataclass(frozen=True)
class CreatedEndpoint:
    """An endpoint with its signing secret in clear: shown once, never again."""

    endpoint: WebhookEndpoint
    secret: str


def can_manage(roles: Roles, endpoint: WebhookEndpoint) -> bool:
    """Staff manage every endpoint; officers with the integrations right those of their chapter."""
    if endpoint.chapter is None:
        return roles.is_staff
    return roles.can_manage_integrations(endpoint.chapter)


def _clean(url: str, events: list[str], description: str) -> tuple[str, str, str]:
    url = (url or "").strip()
    if not url:
        raise DomainError("Give the URL to send deliveries to.", field="url")
    if len(url) > 2000:
        raise DomainError("The URL is too long (2,000 characters at most).", field="url")
    chosen = [name for name in EVENT_NAMES if name in set(events or [])]
    if not chosen:
        raise DomainError("Choose at least one event.", field="events")
    addresses.check_target(url)
    return url, "," + ",".join(chosen) + ",", (description or "").strip()[:200]


def create_endpoint(*, chapter, url: str, events: list[str], description: str, actor) -> CreatedEndpoint:
    """Register an endpoint for a chapter (None: every chapter, staff only); the secret is returned once."""
    url, event_list, description = _clean(url, events, description)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(chapter_id=chapter.id if chapter else None, url=url, events=event_list,
                               description=description, secret_encrypted=signing.encrypt_secret(secret),
                               is_enabled=True, created_by_id=actor.id)
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhooks.endpoint_created", actor=actor, chapter_id=endpoint.chapter_id,
                 summary=f"Webhook endpoint {url} registered", after={"events": endpoint.event_names})
    return CreatedEndpoint(endpoint, secret)


def update_endpoint(endpoint: WebhookEndpoint, *, url: str, events: list[str], description: str, actor) -> WebhookEndpoint:
    """Change where an endpoint points and what it receives (the secret stays)."""
    url, event_list, description = _clean(url, events, description)
    before = {"url": endpoint.url, "events": endpoint.event_names}
    endpoint.url, endpoint.events, endpoint.description = url, event_list, description
    try:
        endpoint.secret_encrypted = signing.reencrypt(endpoint.secret_encrypted)
    except signing.SecretUnreadable:
        pass  # deliveries say so in the log; Roll secret mends it
    db.session.flush()
    audit.record("webhooks.endpoint_changed", actor=actor, chapter_id=endpoint.chapter_id,
                 summary=f"Webhook endpoint {url} changed", before=before,
                 after={"url": url, "events": endpoint.event_names})
    return endpoint


def roll_secret(endpoint: WebhookEndpoint, *, actor) -> str:
    """Replace the signing secret at once (deliveries from now on use the new one); returns it, once."""
    secret = signing.new_secret()
    endpoint.secret_encrypted = signing.encrypt_secret(secret)
    db.session.flush()
    audit.record("webhooks.secret_rolled", actor=actor, chapter_id=endpoint.chapter_id,
                 summary=f"Signing secret of webhook endpoint {endpoint.url} replaced")
    return secret


def set_enabled(endpoint: WebhookEndpoint, enabled: bool, *, actor) -> WebhookEndpoint:
    """Switch an endpoint on (its failure clock starts again) or off."""
    endpoint.is_enabled = enabled
    endpoint.disabled_reason = None if enabled else "Disabled by hand."
    endpoint.failing_since = None
    db.session.flush()
    audit.record("webhooks.endpoint_enabled" if enabled else "webhooks.endpoint_disabled", actor=actor,
                 chapter_id=endpoint.chapter_id, summary=f"Webhook endpoint {endpoint.url} {'enabled' if enabled else 'disabled'}")
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint, *, actor) -> None:
    """Remove an endpoint and its delivery log."""
    audit.record("webhooks.endpoint_deleted", actor=actor, chapter_id=endpoint.chapter_id,
                 summary=f"Webhook endpoint {endpoint.url} deleted")
    db.session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()


def endpoints_of(chapter) -> list[WebhookEndpoint]:
    """A chapter's endpoints (chapter None: every endpoint, for staff), newest first."""
    statement = sa.select(WebhookEndpoint).options(joinedload(WebhookEndpoint.chapter))
    if chapter is not None:
        statement = statement.where(WebhookEndpoint.chapter_id == chapter.id)
    return list(db.session.scalars(statement.order_by(WebhookEndpoint.id.desc())))


def delivery_log(endpoint: WebhookEndpoint, page: int, per_page: int = 25) -> Page[WebhookDelivery]:
    """The endpoint's deliveries, newest first, a page at a time."""
    return paginate(sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                    .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()), page, per_page)

