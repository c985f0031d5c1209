"""Roster export: exactly the list on screen as CSV, streamed in batches so memory stays flat at any size."""
from __future__ import annotations

import io
from datetime import date
from typing import TYPE_CHECKING, Iterator

import sqlalchemy as sa

from chapter.chapters.models import Chapter
from chapter.chapters.services import RosterQuery, roster_conditions, roster_order
from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.models import FOREVER
from chapter.core.spreadsheet import FORMULA_START, csv_writer, safe_cell  # noqa: F401  (safe_cell: re-exported)
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus, MembershipType

if TYPE_CHECKING:
    from chapter.auth.models import User

EXPORT_BATCH = 1000
# The headings are ones the import recognises, so an exported file can be edited and imported back.
EXPORT_COLUMNS = [
    ("Member number", Member.member_number), ("First name", Member.first_name), ("Last name", Member.last_name),
    ("E-mail", Member.email), ("Phone", Member.phone), ("Employer", Member.employer),
    ("Job title", Member.job_title), ("Address", Member.address_line1), ("Address line 2", Member.address_line2),
    ("City", Member.city), ("State / province", Member.region), ("Postal code", Member.postal_code),
    ("Country", Member.country), ("Membership type", MembershipType.name),
]
EXPORT_HEADER = [heading for heading, _column in EXPORT_COLUMNS] + ["Status", "Member since", "Member until"]


def export_statement(chapter: Chapter, query: RosterQuery, day: date) -> sa.Select:
    """The roster query as plain columns, in the order on screen."""
    return (
        sa.select(*[column for _heading, column in EXPORT_COLUMNS],
                  Member.paid_through, Member.status_expression(day), Member.joined_on)
        .outerjoin(MembershipType, Member.current_type_id == MembershipType.id)
        .where(*roster_conditions(chapter, query, day))
        .order_by(*roster_order(query))
    )




def _date_cell(value: date | None) -> str:
    if value is None:
        return ""
    return "Lifetime" if value == FOREVER else value.isoformat()


def export_csv(chapter: Chapter, query: RosterQuery, day: date) -> Iterator[str]:
    """The CSV text in chunks of a few thousand rows, read with a server-side cursor (yield_per).

    The statement is built now, while `chapter` is loaded: Flask removes the view's session before a
    streamed response runs, so the rows are read by a session of their own.
    """
    statement = export_statement(chapter, query, day).execution_options(yield_per=EXPORT_BATCH)
    return _stream_rows(statement, day)


def _stream_rows(statement: sa.Select, day: date) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    # The byte-order mark makes spreadsheets open the file as UTF-8 (names such as Müller or Chloé).
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    width = len(EXPORT_COLUMNS)
    for rows in db.session.execute(statement).partitions():
        for row in rows:
            paid_through, status, joined_on = row[width], row[width + 1], row[width + 2]
            writer.writerow(list(row[:width]) + [
                MembershipStatus(status).label, _date_cell(joined_on), _date_cell(paid_through),
            ])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def record_export(chapter: Chapter, query: RosterQuery, *, rows: int, actor: User | None) -> None:
    """Log who exported which list of which chapter, and how many rows it had."""
    filters = query.as_args()
    described = ", ".join(f"{key}={value}" for key, value in filters.items()) or "no filter"
    audit.record(AuditAction.ROSTER_EXPORTED, actor=actor, chapter_id=chapter.id,
                 summary=f"Exported {rows:,} member{'s' if rows != 1 else ''} of {chapter.display_name} ({described})",
                 after={"filters": filters, "rows": rows, "format": "csv"})


def export_filename(chapter: Chapter, day: date) -> str:
    """roster-40-2026-11-24.csv"""
    return f"roster-{chapter.number}-{day.isoformat()}.csv"
