"""The events feature's seed: the officer right to manage events (reference), demo events (demo)."""
from __future__ import annotations

import sqlalchemy as sa

from chapter.chapters.models import OfficerPosition
from chapter.extensions import db

# Positions that manage a chapter's events on a fresh installation (the migration sets the same).
EVENT_MANAGERS = ("president", "vp_programs", "vp_education")


def with_event_rights(positions: list[OfficerPosition]) -> list[OfficerPosition]:
    """The standard positions (unsaved) with the event right of the standard managers."""
    for position in positions:
        position.can_manage_events = position.code in EVENT_MANAGERS
    return positions


def ensure_event_rights() -> None:
    """Give the standard event managers the right, once: when no position has it yet (staff may change it
    afterwards on the positions' data, and seeding again does not undo that)."""
    if db.session.scalar(sa.select(sa.exists().where(OfficerPosition.can_manage_events.is_(True)))):
        return
    for position in db.session.scalars(sa.select(OfficerPosition).where(OfficerPosition.code.in_(EVENT_MANAGERS))):
        position.can_manage_events = True
    db.session.flush()
