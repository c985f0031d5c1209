"""The outgoing webhooks' seed: who may register endpoints (reference), a demo endpoint (demo)."""
from __future__ import annotations

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.models import Chapter, OfficerPosition
from chapter.extensions import db

# Positions that may register their chapter's webhook endpoints (staff may edit the right afterwards).
INTEGRATION_POSITIONS = ("president",)


def grant_integration_rights(positions: list[OfficerPosition]) -> list[OfficerPosition]:
    """The standard positions as seeded (and shown in the reference role table) get the integrations right;
    positions already in the database keep what staff chose (the migration gave the president the right)."""
    for position in positions:
        position.can_manage_integrations = position.code in INTEGRATION_POSITIONS
    return positions


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
