"""The outgoing webhooks' seed: who may register endpoints (reference), a demo endpoint (demo)."""
from __future__ import annotations

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.models import Chapter, OfficerPosition
from chapter.extensions import db

# Positions that may register their chapter's webhook endpoints (staff may edit the right afterwards).
INTEGRATION_POSITIONS = ("president",)


def ensure_integration_rights() -> None:
    """Positions being added now (not yet flushed) get the right if standard: staff's later choices stay."""
    for position in db.session.new:
        if isinstance(position, OfficerPosition) and position.code in INTEGRATION_POSITIONS:
            position.can_manage_integrations = True


def seed_demo_endpoint(first_chapter: Chapter, owner_email: str) -> None:
    """A disabled endpoint for chapter #1, so the webhooks page shows one: point it at a receiver and enable it."""
    from chapter.outgoing.models import WebhookEndpoint
    from chapter.outgoing.signing import encrypt_secret, new_secret

    owner = db.session.scalar(sa.select(User).where(User.email == owner_email))
    db.session.add(WebhookEndpoint(
        chapter_id=first_chapter.id, url="https://example.org/chapter-webhooks", description="Chapter web site (demo)",
        events=",member.joined,member.renewed,member.lapsed,", secret_encrypted=encrypt_secret(new_secret()),
        is_enabled=False, disabled_reason="Demo endpoint: give your own receiver's URL, then enable it.",
        created_by_id=owner.id if owner else None))
