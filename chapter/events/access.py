"""Load-and-check helpers for event views: the object is loaded, then the current user's right to it checked."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from chapter.chapters.models import Chapter
from chapter.core.permissions import current_roles
from chapter.events.models import Event, EventStatus, Registration
from chapter.extensions import db, login_manager


def get_event_or_404(event_id: int, *, manage: bool = False) -> Event:
    """The event; with `manage`, only for those who manage its chapter's events (log-in page for the
    anonymous, 403 for others). A draft is a 404 to everyone else."""
    event = db.session.scalar(sa.select(Event).where(Event.id == event_id).options(
        joinedload(Event.chapter).joinedload(Chapter.district), selectinload(Event.sessions),
        selectinload(Event.prices), selectinload(Event.refund_tiers)))
    if event is None:
        abort(404)
    manager = current_user.is_authenticated and current_roles().can_manage_events(event.chapter)
    if manage and not manager:
        if not current_user.is_authenticated:
            abort(login_manager.unauthorized())
        abort(403)
    if event.status is EventStatus.DRAFT and not manager:
        abort(404)
    return event


def get_chapter_for_events_or_404(number: int) -> Chapter:
    """A chapter whose events the current user manages."""
    chapter = db.session.scalar(sa.select(Chapter).where(Chapter.number == number))
    if chapter is None:
        abort(404)
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not current_roles().can_manage_events(chapter):
        abort(403)
    return chapter


def get_own_registration_or_404(registration_id: int) -> Registration:
    """A registration of the current user (their own, or a guest they brought); 404 for anyone else's."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        abort(404)
    owner = registration.guest_of.user_id if registration.guest_of is not None else registration.user_id
    if owner != current_user.id:
        abort(404)
    return registration
