"""A chapter's events and their registrations (events:read), and officers' programs creating, changing,
publishing and cancelling events (events:write, positions with the events right): the same services as the
events pages, so the same rules, mail to registrants and refunds."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import sqlalchemy as sa
from flask import abort
from flask_smorest import abort as abort_with_fields
from sqlalchemy.orm import joinedload, selectinload

from chapter.api import access, bp
from chapter.api.cursor import keyset_page
from chapter.api.schemas import CursorPageArgs
from chapter.api.schemas_events import EventChangesSchema, EventPageSchema, EventSchema, RegistrationPageSchema
from chapter.api.views import needs_token
from chapter.chapters.models import Chapter
from chapter.core.errors import DomainError, InvalidState, NotAllowed
from chapter.events import services as events
from chapter.events.models import Event, EventKind, PriceCategory, Registration
from chapter.extensions import db

EVENT_OPTIONS = (joinedload(Event.chapter), selectinload(Event.sessions), selectinload(Event.prices),
                 selectinload(Event.refund_tiers))


def _event_of(chapter: Chapter, event_id: int) -> Event:
    event = db.session.scalar(sa.select(Event).options(*EVENT_OPTIONS)
                              .where(Event.id == event_id, Event.chapter_id == chapter.id))
    if event is None:
        abort(404, f"Chapter {chapter.number} has no event {event_id}.")
    return event


def _event_input(body: dict, base: events.EventInput | None = None) -> events.EventInput:
    """The service's input from a body (whole or partial): what the body leaves out comes from `base`."""
    converters = {
        "kind": EventKind,
        "sessions": lambda sessions: [events.SessionInput(
            starts_at=s["starts_at"], ends_at=s["ends_at"], title=s.get("title"),
            instructional_hours=Decimal(str(round(s.get("instructional_hours", 0), 1)))) for s in sessions],
        "prices": lambda prices: {PriceCategory(p["category"]): p["amount_cents"] for p in prices},
        "refund_tiers": lambda tiers: [(t["days_before"], t["percent"]) for t in tiers],
    }
    changes = {name: converters.get(name, lambda value: value)(value) for name, value in body.items()}
    if base is None:
        return events.EventInput(**{"description_md": "", **changes})
    return dataclasses.replace(base, **changes)


def _refused(error: DomainError):
    """A business rule's refusal: 403 for a right, 409 for the event's state, else 422 (naming the field)."""
    if isinstance(error, NotAllowed):
        abort(403, error.message)
    if isinstance(error, InvalidState):
        abort(409, error.message)
    if error.field is None:
        abort(422, error.message)
    abort_with_fields(422, messages={"json": {error.field: [error.message]}})


def _update_with(body: dict):
    """The change that saves `body` over the event's current details through the events service."""
    return lambda event, actor, roles: events.update_event(event, _event_input(body, events.current_input(event)),
                                                           actor=actor, roles=roles)


def _officer_change(number: int, event_id: int, change) -> Event:
    """Load the chapter's event for an events:write token, apply `change(event, actor, roles)`, commit; the event."""
    chapter = access.chapter_for(number, "events:write")
    grant = access.current_access()
    event = _event_of(chapter, event_id)
    try:
        change(event, grant.token.user, grant.roles)
    except DomainError as error:
        db.session.rollback()
        _refused(error)
    db.session.commit()
    return _event_of(chapter, event_id)


@bp.get("/chapters/<int:number>/events")
@bp.arguments(CursorPageArgs, location="query")
@bp.response(200, EventPageSchema)
@needs_token(403, 404, 422)
def chapter_events(args, number: int):
    """The chapter's events, drafts included, latest start first (scope events:read)."""
    chapter = access.chapter_for(number, "events:read")
    statement = sa.select(Event).options(*EVENT_OPTIONS).where(Event.chapter_id == chapter.id)
    items, next_cursor = keyset_page(statement, (Event.id,), args.get("cursor"), (int,), args["limit"],
                                     descending=True, key_of=lambda e: (e.id,))
    return {"items": items, "next_cursor": next_cursor}


@bp.get("/chapters/<int:number>/events/<int:event_id>")
@bp.response(200, EventSchema)
@needs_token(403, 404)
def chapter_event(number: int, event_id: int):
    """One event of the chapter (scope events:read)."""
    return _event_of(access.chapter_for(number, "events:read"), event_id)


@bp.get("/chapters/<int:number>/events/<int:event_id>/registrations")
@bp.arguments(CursorPageArgs, location="query")
@bp.response(200, RegistrationPageSchema)
@needs_token(403, 404, 422)
def event_registrations(args, number: int, event_id: int):
    """Who registered for the event, in the order they did (scope events:read)."""
    event = _event_of(access.chapter_for(number, "events:read"), event_id)
    statement = sa.select(Registration).options(joinedload(Registration.member)).where(Registration.event_id == event.id)
    items, next_cursor = keyset_page(statement, (Registration.id,), args.get("cursor"), (int,), args["limit"],
                                     key_of=lambda r: (r.id,))
    return {"items": items, "next_cursor": next_cursor}


@bp.post("/chapters/<int:number>/events")
@bp.arguments(EventSchema)
@bp.response(201, EventSchema)
@needs_token(403, 404, 422)
def create_event(body, number: int):
    """A draft event of the chapter (scope events:write; the token's owner needs the events right there)."""
    chapter = access.chapter_for(number, "events:write")
    grant = access.current_access()
    try:
        event = events.create_event(chapter, _event_input(body), actor=grant.token.user, roles=grant.roles)
    except DomainError as error:
        db.session.rollback()
        _refused(error)
    db.session.commit()
    return _event_of(chapter, event.id)


@bp.put("/chapters/<int:number>/events/<int:event_id>")
@bp.arguments(EventSchema)
@bp.response(200, EventSchema)
@needs_token(403, 404, 409, 422)
def update_event(body, number: int, event_id: int):
    """Replace an event's details (scope events:write); registrants are told of a new date or place."""
    return _officer_change(number, event_id, _update_with(body))


@bp.patch("/chapters/<int:number>/events/<int:event_id>")
@bp.arguments(EventChangesSchema)
@bp.response(200, EventSchema)
@needs_token(403, 404, 409, 422)
def change_event(body, number: int, event_id: int):
    """Change only the fields given (scope events:write; a list given replaces the whole list); registrants
    are told of a new date or place."""
    return _officer_change(number, event_id, _update_with(body))


@bp.post("/chapters/<int:number>/events/<int:event_id>/publish")
@bp.response(200, EventSchema)
@needs_token(403, 404, 409, 422)
def publish_event(number: int, event_id: int):
    """Publish a draft: members can register (scope events:write); 409 if it is not a draft."""
    return _officer_change(number, event_id, lambda event, actor, roles: events.publish_event(
        event, actor=actor, roles=roles))


@bp.post("/chapters/<int:number>/events/<int:event_id>/cancel")
@bp.response(200, EventSchema)
@needs_token(403, 404, 409)
def cancel_event(number: int, event_id: int):
    """Cancel the event (scope events:write): as on its page, every registrant who paid is refunded in full and
    every registrant told by mail, by a background job; 409 if it is already cancelled or completed."""
    return _officer_change(number, event_id, lambda event, actor, roles: events.cancel_event(
        event, actor=actor, roles=roles))
