"""Calendars: an .ics file per event, a registrant's own .ics (with the venue or link), a feed per chapter.

Written with the maintained `icalendar` library. Times are given in the event's own zone (DTSTART;TZID=...)
with the zone's VTIMEZONE, so a calendar shows 18:00 in New York whatever the reader's zone; each session
of a course is a VEVENT of its own. The venue and the online link are for registrants: only their own
file carries them (LOCATION, URL of the meeting).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import icalendar
from flask import current_app

from chapter.core.links import public_base_url, public_url
from chapter.core.models import utcnow

if TYPE_CHECKING:
    from chapter.events.models import Event, Registration

PRODID = "-//APICS chapters//chapter events//EN"
DESCRIPTION_CHARS = 1000
FEED_PAST_DAYS = 90  # a subscribed calendar keeps the last quarter's events, then they drop off


def _host() -> str:
    from urllib.parse import urlsplit

    return urlsplit(public_base_url()).hostname or "chapter.local"


def _zone(event: Event) -> ZoneInfo:
    try:
        return ZoneInfo(event.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


EVENT_PAGE = "events.event_page"  # ev-core's public page of an event


def event_page_url(event: Event) -> str:
    """The event's public page (its .ics when the page is not installed, e.g. in part B's own tests)."""
    endpoint = EVENT_PAGE if EVENT_PAGE in current_app.view_functions else "events.event_ics"
    return public_url(endpoint, event_id=event.id)


def _periods(event: Event) -> list[tuple[int | None, str, datetime, datetime]]:
    """(session position, title, start, end) of each session, or the event's own times when it has none."""
    sessions = sorted(getattr(event, "sessions", None) or [], key=lambda s: (s.position, s.starts_at))
    if len(sessions) > 1:
        return [(s.position, f"{event.title}: {s.title}" if s.title else f"{event.title} ({n} of {len(sessions)})",
                 s.starts_at, s.ends_at) for n, s in enumerate(sessions, start=1)]
    return [(None, event.title, event.starts_at, event.ends_at)]


def _plain(markdown: str | None) -> str:
    text = (markdown or "").strip()
    return text if len(text) <= DESCRIPTION_CHARS else text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] + " …"


def event_components(event: Event, *, registration: Registration | None = None) -> list[icalendar.Event]:
    """The VEVENTs of one event (one per session); venue and link only for `registration`'s own file."""
    zone, host, stamp = _zone(event), _host(), utcnow()
    page = event_page_url(event)
    cancelled = event.status.value == "cancelled" or (registration is not None and registration.status.value == "cancelled")
    components = []
    for position, summary, starts_at, ends_at in _periods(event):
        item = icalendar.Event()
        uid = f"event-{event.id}" + (f"-session-{position}" if position is not None else "") + f"@{host}"
        item.add("uid", uid)
        item.add("dtstamp", stamp)
        item.add("dtstart", _aware(starts_at).astimezone(zone))
        item.add("dtend", _aware(ends_at).astimezone(zone))
        item.add("summary", summary)
        description = _plain(event.description_md)
        if registration is not None and event.online_url:
            description = f"Join online: {event.online_url}\n\n{description}"
        item.add("description", f"{description}\n\n{page}".strip())
        item.add("url", page)
        item.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if registration is not None:
            location = event.venue or event.online_url
            if location:
                item.add("location", location)
        components.append(item)
    return components


def _calendar(name: str, components: Iterable[icalendar.Event], *, refresh: timedelta | None = None) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    if refresh is not None:
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", refresh)
    earliest = None
    for component in components:
        calendar.add_component(component)
        start = component.decoded("dtstart").date()
        earliest = start if earliest is None or start < earliest else earliest
    if earliest is not None:
        # VTIMEZONE rules from a year before the first event (not from 1970): the file stays small.
        calendar.add_missing_timezones(first_date=earliest.replace(day=1) - timedelta(days=366),
                                       last_date=earliest.replace(day=1) + timedelta(days=3 * 366))
    return calendar.to_ical()


def event_ics(event: Event, *, registration: Registration | None = None) -> bytes:
    """An .ics file of one event: the public one, or a registrant's own (with venue or link)."""
    return _calendar(event.title, event_components(event, registration=registration))


def chapter_feed(name: str, events: Iterable[Event]) -> bytes:
    """A subscribable feed of a chapter's events (published, cancelled, held), without venues or links."""
    components = [component for event in events for component in event_components(event)]
    return _calendar(name, components, refresh=timedelta(hours=6))


def ics_filename(title: str) -> str:
    """A safe download name: letters, digits and dashes."""
    import re

    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:60] or "event"
    return f"{slug}.ics"
