"""Mail to registrants, through the outbox (chapter.core.mail.send_mail); links on PUBLIC_BASE_URL."""
from __future__ import annotations

from chapter.core.links import public_url
from chapter.core.mail import send_mail
from chapter.events.models import Event, Registration
from chapter.events.times import format_local


def _context(event: Event) -> dict:
    return {"event": event, "starts": format_local(event.starts_at, event.timezone),
            "ends": format_local(event.ends_at, event.timezone),
            "event_link": public_url("events.event_page", event_id=event.id),
            "my_events_link": public_url("events.my_events")}


def _send(registration: Registration, subject: str, template: str, **context) -> None:
    if registration.email:
        send_mail(registration.email, subject, template, registration=registration,
                  **_context(registration.event), **context)


def confirmed(registration: Registration, guests: list[Registration] = ()) -> None:
    _send(registration, f"You are registered: {registration.event.title}", "event_confirmed", guests=guests)


def awaiting_payment(registration: Registration, minutes: int) -> None:
    _send(registration, f"Pay to keep your seat: {registration.event.title}", "event_pending", minutes=minutes)


def waitlisted(registration: Registration) -> None:
    _send(registration, f"You are on the waitlist: {registration.event.title}", "event_waitlisted")


def seat_offered(registration: Registration, hours: int) -> None:
    _send(registration, f"A seat is yours if you pay within {hours} hours: {registration.event.title}",
          "event_offer", hours=hours)


def registration_cancelled(registration: Registration, refund_cents: int) -> None:
    _send(registration, f"Registration cancelled: {registration.event.title}", "event_registration_cancelled",
          refund_cents=refund_cents)


def event_changed(registration: Registration, changes: list[str]) -> None:
    _send(registration, f"Changed: {registration.event.title}", "event_changed", changes=changes)


def event_cancelled(registration: Registration, refund_cents: int) -> None:
    _send(registration, f"Cancelled: {registration.event.title}", "event_cancelled", refund_cents=refund_cents)
