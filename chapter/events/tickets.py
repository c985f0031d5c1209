"""Tickets: the check-in link a registration's QR code carries, and the QR code itself.

The QR code encodes `public_url` of the ticket's check-in page (`events.ticket_check_in`), so an
officer's phone camera opens it with no app; the page shows nothing private to anyone else.
QR codes are drawn by segno (pure Python, maintained, no Pillow needed for SVG).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import segno

from chapter.core.links import public_url

if TYPE_CHECKING:
    from chapter.events.models import Registration

QR_SCALE = 6  # pixels per module: about 200 px for a 33-module code, easy for a phone camera


def check_in_url(registration: Registration) -> str:
    """The absolute address (on PUBLIC_BASE_URL) an officer's phone opens from the ticket's QR code."""
    return public_url("events.ticket_check_in", code=registration.ticket_code)


def ticket_url(registration: Registration) -> str:
    """The absolute address of the registrant's own ticket page (for mail: confirmation, reminders)."""
    return public_url("events.ticket", registration_id=registration.id)


def qr_svg_data_uri(text: str, *, scale: int = QR_SCALE) -> str:
    """`text` as a QR code, an SVG data: URI for an <img> (the CSP allows data: images)."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=scale, border=4, dark="#000", light="#fff")


def qr_png_bytes(text: str, *, scale: int = QR_SCALE) -> bytes:
    """`text` as a QR code in PNG (for the PDF certificate or a download)."""
    import io

    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def ticket_qr(registration: Registration) -> str:
    """The ticket's QR code (its check-in link) as a data: URI."""
    return qr_svg_data_uri(check_in_url(registration))


def certificate_url(registration: Registration) -> str | None:
    """The absolute address of the attendee's certificate (the evidence of their points), if the site has one."""
    try:
        return public_url("events.certificate", registration_id=registration.id)
    except RuntimeError:  # no PUBLIC_BASE_URL (a shell without settings): the entry simply has no link
        return None
