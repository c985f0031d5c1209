"""The officers' list of an event's registrations: search, filters, sort, pages in SQL, counts, CSV.

`RegistrationQuery` is the list's filters as one value: the page, the door list and the export share it.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from chapter.core import audit
from chapter.core.formatting import format_amount
from chapter.core.pagination import Page, paginate
from chapter.core.params import db_int
from chapter.core.spreadsheet import csv_writer
from chapter.core.text import LIKE_ESCAPE, contains_pattern
from chapter.events.models import Event, PriceCategory, Registration, RegistrationStatus
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User

SEARCH_MAX = 100
FILTERS = {
    "": "All",
    "paid": "Confirmed",
    "pending": "Awaiting payment",
    "waitlisted": "On the waitlist",
    "cancelled": "Cancelled",
    "checked_in": "Checked in",
    "not_checked_in": "Confirmed, not checked in",
}
SORTS = {"name": "Name", "registered": "Registered", "status": "Status", "checked_in": "Checked in"}


@dataclass(frozen=True)
class RegistrationQuery:
    """What the officer asked for: a search (name or e-mail), a filter, a sort, a page."""

    search: str = ""
    filter: str = ""
    sort: str = "name"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> RegistrationQuery:
        wanted = args.get("filter", "")
        sort = args.get("sort", "name")
        return cls(search=(args.get("q") or "")[:SEARCH_MAX].strip(),
                   filter=wanted if wanted in FILTERS else "", sort=sort if sort in SORTS else "name",
                   page=db_int(args.get("page")) or 1)

    def as_args(self, **changes) -> dict:
        """The query string that asks for this list again (defaults left out), with `changes`."""
        values = {"q": self.search, "filter": self.filter, "sort": self.sort, "page": self.page, **changes}
        defaults = {"q": "", "filter": "", "sort": "name", "page": 1}
        return {key: value for key, value in values.items() if value != defaults[key]}


def conditions(event: Event, query: RegistrationQuery) -> list:
    found = [Registration.event_id == event.id]
    if query.search:
        pattern = contains_pattern(query.search.lower())
        found.append(sa.or_(sa.func.lower(Registration.name).like(pattern, escape=LIKE_ESCAPE),
                            sa.func.lower(Registration.email).like(pattern, escape=LIKE_ESCAPE)))
    if query.filter == "checked_in":
        found.append(Registration.checked_in_at.is_not(None))
    elif query.filter == "not_checked_in":
        found += [Registration.checked_in_at.is_(None), Registration.status == RegistrationStatus.PAID]
    elif query.filter:
        found.append(Registration.status == RegistrationStatus(query.filter))
    return found


def order(query: RegistrationQuery) -> list:
    by_name = [sa.func.lower(Registration.name), Registration.id]
    return {
        "name": by_name,
        "registered": [Registration.created_at, Registration.id],
        "status": [Registration.status, *by_name],
        "checked_in": [Registration.checked_in_at.is_(None), Registration.checked_in_at.desc(), *by_name],
    }[query.sort]


def registrations_page(event: Event, query: RegistrationQuery, per_page: int) -> Page[Registration]:
    """One page of the event's registrations as filtered (one query for the rows, one for the count)."""
    statement = sa.select(Registration).where(*conditions(event, query)).order_by(*order(query))
    return paginate(statement, query.page, per_page)


@dataclass(frozen=True)
class RegistrationCounts:
    by_status: dict[str, int]
    checked_in: int
    guests: int
    checked_in_paid: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def of(self, key: str) -> int:
        if key == "":
            return self.total
        if key == "checked_in":
            return self.checked_in
        if key == "not_checked_in":
            return self.by_status.get("paid", 0) - self.checked_in_paid
        return self.by_status.get(key, 0)


def registration_counts(event: Event) -> RegistrationCounts:
    """How many registrations of each status, checked in and guests: one grouped query."""
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count(),
                  sa.func.count(Registration.checked_in_at),
                  sa.func.count(Registration.guest_of_id))
        .where(Registration.event_id == event.id).group_by(Registration.status)).all()
    by_status = {RegistrationStatus(status).value: count for status, count, _checked, _guests in rows}
    paid_checked = sum(checked for status, _count, checked, _guests in rows
                       if RegistrationStatus(status) is RegistrationStatus.PAID)
    return RegistrationCounts(by_status=by_status, checked_in=sum(row[2] for row in rows),
                              guests=sum(row[3] for row in rows), checked_in_paid=paid_checked)


EXPORT_HEADER = ["Name", "E-mail", "Category", "Status", "Price", "Currency", "Refunded", "Registered (UTC)",
                 "Checked in (UTC)", "Paid at the door", "Guest of", "Ticket"]


def _stamp(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


EXPORT_COLUMNS = (Registration.name, Registration.email, Registration.category, Registration.status,
                  Registration.price_cents, Registration.currency, Registration.refund_cents, Registration.created_at,
                  Registration.checked_in_at, Registration.paid_at_door, Registration.ticket_code)


def export_csv(event: Event, query: RegistrationQuery) -> Iterator[str]:
    """The list on screen (every page of it) as CSV text, in chunks, through the project's CSV helper.

    Plain columns, not objects: the statement is built now, the rows read by the streamed response."""
    host = aliased(Registration)
    statement = (sa.select(*EXPORT_COLUMNS, host.name).outerjoin(host, Registration.guest_of_id == host.id)
                 .where(*conditions(event, query)).order_by(*order(query)).execution_options(yield_per=500))
    return _stream_rows(statement)


def _stream_rows(statement: sa.Select) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    yield "\ufeff" + buffer.getvalue()  # the byte-order mark: spreadsheets read the file as UTF-8
    buffer.seek(0)
    buffer.truncate()
    for rows in db.session.execute(statement).partitions():
        for (name, email, category, status, price_cents, currency, refund_cents, created_at, checked_in_at,
             paid_at_door, ticket_code, host_name) in rows:
            writer.writerow([
                name, email, PriceCategory(category).label, RegistrationStatus(status).label,
                format_amount(price_cents), currency, format_amount(refund_cents) if refund_cents else "",
                _stamp(created_at), _stamp(checked_in_at), paid_at_door or "", host_name or "", ticket_code,
            ])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def export_count(event: Event, query: RegistrationQuery) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(*conditions(event, query))) or 0


def record_export(event: Event, query: RegistrationQuery, *, rows: int, actor: User) -> None:
    """Log who exported which registrations of which event (the list holds names and e-mail addresses)."""
    filters = query.as_args(page=1)
    described = ", ".join(f"{key}={value}" for key, value in filters.items()) or "no filter"
    audit.record("event.registrations_exported", actor=actor, chapter_id=event.chapter_id,
                 summary=f"Exported {rows:,} registration(s) of {event.title} ({described})",
                 after={"event_id": event.id, "filters": filters, "rows": rows, "format": "csv"})


def export_filename(event: Event) -> str:
    return f"registrations-event-{event.id}.csv"
