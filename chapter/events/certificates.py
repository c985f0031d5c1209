"""Certificates of attendance: what they say (one place for the page and the PDF), and the PDF.

The PDF is drawn by fpdf2 (maintained, pure Python, no system libraries): one landscape A4 page in
the core Helvetica font, so nothing is downloaded or embedded at run time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class CertificateText:
    """The facts a certificate of attendance states."""

    attendee: str
    event_title: str
    chapter_name: str
    held_on: date
    hours: Decimal
    points: int
    category: str | None
    certificate_number: str
    verify_url: str

    @property
    def held_on_label(self) -> str:
        return f"{self.held_on.day} {self.held_on:%B %Y}"

    @property
    def hours_label(self) -> str:
        text = f"{Decimal(self.hours).normalize():f}"  # 2.0 -> "2", 1.5 -> "1.5", 10 -> "10"
        return f"{text} instructional hour" + ("" if self.hours == 1 else "s")


def _latin1(text: str) -> str:
    """The core PDF fonts cover Latin-1: other characters are replaced, never an error."""
    return text.encode("latin-1", "replace").decode("latin-1")


def certificate_pdf(text: CertificateText) -> bytes:
    """One landscape A4 page: the attendee, the event, its date, hours and points, a number to verify."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(_latin1(f"Certificate of attendance: {text.event_title}"))
    pdf.set_author(_latin1(text.chapter_name))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(32)
    pdf.set_font("Helvetica", "B", 30)
    pdf.cell(0, 14, "Certificate of attendance", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.ln(8)
    pdf.cell(0, 8, "This certifies that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 24)
    pdf.ln(4)
    pdf.cell(0, 12, _latin1(text.attendee), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.ln(4)
    pdf.cell(0, 8, "attended", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, _latin1(text.event_title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(0, 8, _latin1(f"held by {text.chapter_name} on {text.held_on_label}"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    points = f"{text.points} maintenance point" + ("" if text.points == 1 else "s")
    if text.category:
        points += f" ({text.category})"
    pdf.cell(0, 8, _latin1(f"{text.hours_label}: {points}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(176)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _latin1(f"Certificate {text.certificate_number}. Verify at {text.verify_url}"), align="C")
    return bytes(pdf.output())
