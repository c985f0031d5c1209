"""Who may run an event's door and registrations: load-and-check helpers for part B's views.

- manage (registrations page, export, making attendance final): staff, and the chapter's officers whose
  position has `can_manage_events` (President, VP Programs, VP Education by default);
- door (the check-in list, a ticket's check-in page, walk-ins): those, and any other officer of the chapter
  on duty at the door (a VP Membership at the desk), so a volunteer officer can scan tickets.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from chapter.core.permissions import Roles, current_roles
from chapter.events.models import Event, EventStatus, Registration
from chapter.extensions import db


def can_manage_event(roles: Roles, event: Event) -> bool:
    """Staff, or an officer of the event's chapter whose position may manage events."""
    return roles.can_manage_events(event.chapter)  # ev-core's right (Roles), the one its own pages check


def can_run_door(roles: Roles, event: Event) -> bool:
    """Staff, or any officer of the event's chapter (check-in and walk-ins at the door)."""
    return roles.is_staff or bool(roles.positions_by_chapter.get(event.chapter_id))


def get_event_or_404(event_id: int, *, manage: bool = False, door: bool = False) -> Event:
    """Load an event and check the current user's right to what they asked for (drafts: managers only)."""
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    roles = current_roles()
    if event.status is EventStatus.DRAFT and not can_manage_event(roles, event):
        abort(404)
    if (manage and not can_manage_event(roles, event)) or (door and not can_run_door(roles, event)):
        abort(403)
    return event


def owns_registration(registration: Registration) -> bool:
    """The registrant (or the member who brought this guest) is the current user."""
    if not current_user.is_authenticated:
        return False
    if registration.user_id == current_user.id:
        return True
    host = registration.guest_of
    return host is not None and host.user_id == current_user.id


def get_registration_or_404(registration_id: int) -> Registration:
    """A registration its registrant, or an officer who may manage the event, may see."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        abort(404)
    if not (owns_registration(registration) or can_manage_event(current_roles(), registration.event)):
        abort(403)
    return registration
