"""A registrant's ticket (QR code), calendars (.ics per event, the registrant's own, a feed per chapter),
and certificates of attendance (printable page and PDF)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Response, abort, render_template
from flask_login import login_required

from chapter.chapters.services import get_chapter_by_number
from chapter.core.models import utcnow
from chapter.events import attendance, bp, calendar, tickets
from chapter.events.certificates import certificate_pdf
from chapter.events.door_access import get_event_or_404, get_registration_or_404
from chapter.events.door_services import certificate_text
from chapter.events.models import Event, EventStatus
from chapter.extensions import db

LISTED_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED, EventStatus.COMPLETED)


def _ics(body: bytes, filename: str, *, private: bool) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store" if private else "public, max-age=900"
    return response


@bp.get("/tickets/<int:registration_id>")
@login_required
def ticket(registration_id: int):
    """The registrant's ticket: the QR code the door scans, the venue or link, the calendar file."""
    registration = get_registration_or_404(registration_id)
    return render_template("events/door_ticket.html", registration=registration, event=registration.event,
                           qr=tickets.ticket_qr(registration), check_in_url=tickets.check_in_url(registration),
                           local_start=attendance.local_start(registration.event))


@bp.get("/tickets/<int:registration_id>/calendar.ics")
@login_required
def ticket_ics(registration_id: int):
    """The registrant's own .ics: with the venue and the online link."""
    registration = get_registration_or_404(registration_id)
    return _ics(calendar.event_ics(registration.event, registration=registration),
                calendar.ics_filename(registration.event.title), private=True)


@bp.get("/events/<int:event_id>/calendar.ics")
def event_ics(event_id: int):
    """The public .ics of an event (no venue, no link: those are for registrants)."""
    event = get_event_or_404(event_id)
    return _ics(calendar.event_ics(event), calendar.ics_filename(event.title),
                private=event.status is EventStatus.DRAFT)


@bp.get("/chapters/<int:number>/events.ics")
def chapter_feed(number: int):
    """A chapter's events as a feed calendars subscribe to (recent and upcoming, cancelled ones marked)."""
    chapter = get_chapter_by_number(number)
    if chapter is None:
        abort(404)
    since = utcnow() - timedelta(days=calendar.FEED_PAST_DAYS)
    events = db.session.scalars(sa.select(Event).where(
        Event.chapter_id == chapter.id, Event.status.in_(LISTED_STATUSES), Event.ends_at >= since)
        .order_by(Event.starts_at).limit(500)).all()
    return _ics(calendar.chapter_feed(f"{chapter.display_name} events", events),
                f"chapter-{chapter.number}-events.ics", private=False)


def _certificate_or_404(registration_id: int):
    """The registration (its registrant's or a manager's to see) and its certificate: 404 until there is one."""
    registration = get_registration_or_404(registration_id)
    text = certificate_text(registration)
    if text is None:
        abort(404)
    return registration, text


@bp.get("/tickets/<int:registration_id>/certificate")
@login_required
def certificate(registration_id: int):
    """A printable certificate of attendance, once attendance is final and the registrant attended."""
    registration, text = _certificate_or_404(registration_id)
    return render_template("events/door_certificate.html", registration=registration, text=text)


@bp.get("/tickets/<int:registration_id>/certificate.pdf")
@login_required
def certificate_pdf_download(registration_id: int):
    """The same certificate as a PDF."""
    _registration, text = _certificate_or_404(registration_id)
    response = Response(certificate_pdf(text), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{text.certificate_number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
