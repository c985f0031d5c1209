"""Roster import from CSV: read what spreadsheets write, preview every row, then write all rows or none.

`plan_import` reads and checks a file without writing anything; `write_import` writes a plan whose
rows are all valid, in bulk, in the caller's transaction. Uploads wait for confirmation in the
database (`RosterImport`), so whichever app process gets the confirmation can re-read the file.
"""
from __future__ import annotations

import csv
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Callable, Iterable

import sqlalchemy as sa

from chapter.chapters.models import Chapter, ChapterTransfer, RosterImport, RosterImportStatus
from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import FOREVER, today, utcnow
from chapter.extensions import db
from chapter.members.search import refresh_search_text
from chapter.members.models import Member, MembershipKind, MembershipTerm, MembershipType, TermSource
from chapter.members.services import add_months, next_member_numbers

if TYPE_CHECKING:
    from chapter.auth.models import User

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000
WRITE_BATCH = 5000
STALE_UPLOAD_AGE = timedelta(days=1)


class ImportRefused(DomainError):
    """The file as a whole cannot be imported (empty, not CSV, no name columns, too big)."""

    def __init__(self, message: str):
        super().__init__(message, field="file")


# Column headings people write, reduced to lower-case letters and digits, for each member field.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "member_number": ("membernumber", "memberno", "membernum", "memberid", "number", "no"),
    "first_name": ("firstname", "first", "givenname", "forename", "prenom", "vorname"),
    "last_name": ("lastname", "last", "surname", "familyname", "nom", "nachname"),
    "email": ("email", "emailaddress", "mail", "courriel"),
    "phone": ("phone", "telephone", "phonenumber", "tel", "mobile"),
    "employer": ("employer", "company", "organization", "organisation", "companyname"),
    "job_title": ("jobtitle", "position"),
    "address_line1": ("address", "addressline1", "address1", "street", "streetaddress"),
    "address_line2": ("addressline2", "address2"),
    "city": ("city", "town", "ville", "stadt", "ort"),
    "region": ("region", "state", "province", "stateprovince", "county"),
    "postal_code": ("postalcode", "zip", "zipcode", "postcode"),
    "country": ("country", "countrycode"),
    "membership_type": ("membershiptype", "type", "membertype"),
    "joined_on": ("membersince", "joined", "joinedon", "joindate", "startdate"),
    "paid_through": ("memberuntil", "paidthrough", "enddate", "expires", "expiry", "expirydate", "expirationdate", "renewaldate"),
}
ALIAS_TO_FIELD = {alias: name for name, aliases in FIELD_ALIASES.items() for alias in aliases}
FIELD_LABELS = {
    "member_number": "Member number", "first_name": "First name", "last_name": "Last name", "email": "E-mail",
    "phone": "Phone", "employer": "Employer", "job_title": "Job title", "address_line1": "Address",
    "address_line2": "Address line 2", "city": "City", "region": "State / province", "postal_code": "Postal code",
    "country": "Country", "membership_type": "Membership type", "joined_on": "Member since",
    "paid_through": "Member until",
}
MAX_LENGTHS = {
    "member_number": 20, "first_name": 100, "last_name": 100, "email": 254, "phone": 40, "employer": 200,
    "job_title": 200, "address_line1": 200, "address_line2": 200, "city": 100, "region": 100, "postal_code": 20,
}
# Contact fields an import may set on a member already on the roster (never terms or the chapter).
UPDATABLE_FIELDS = ("first_name", "last_name", "email", "phone", "employer", "job_title", "address_line1",
                    "address_line2", "city", "region", "postal_code", "country")
PROFILE_FIELDS = tuple(name for name in UPDATABLE_FIELDS if name != "email")
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z0-9-]{2,}$")
NOT_CSV_SIGNATURES = (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"{\\rtf")
NOT_CSV_MESSAGE = ("This is not a CSV file. In your spreadsheet, choose File › Save as (or Download as) "
                   "› CSV, then upload that file.")


@dataclass
class CsvFile:
    """A decoded CSV file: which column holds which member field, and the data rows with their line numbers."""

    columns: dict[str, int]
    ignored_columns: list[str]
    encoding: str
    delimiter: str
    rows: list[tuple[int, list[str]]]


@dataclass
class ImportRow:
    """One data row: its cleaned values, what it will do, or why it cannot be imported."""

    line: int
    values: dict[str, str | None]
    errors: list[str] = field(default_factory=list)
    member_id: int | None = None  # set when the row matches a member of the chapter
    member_number: str | None = None
    changes: dict[str, tuple] = field(default_factory=dict)  # field -> (before, after), matched rows
    term: tuple[int, date, date] | None = None  # (type id, starts_on, ends_on), new rows
    # "Membership type: Corporate seat", as the roster export writes it: fine for a member already on the
    # roster (the row only updates contact details), refused for a new member (seats come from the
    # organization's corporate membership), so an exported roster imports back unchanged.
    corporate_seat: bool = False
    # Why an officer's row may not create this member (a free type, or paid up beyond one term): only staff
    # grant those. It refuses a new member only; a matched row changes contact details, never the term, so
    # an exported roster (lifetime members and all) imports back unchanged.
    staff_only_reason: str | None = None

    @property
    def name(self) -> str:
        return f"{self.values.get('first_name') or ''} {self.values.get('last_name') or ''}".strip()


@dataclass
class ImportPlan:
    """What an import would do: the new, matched and invalid rows of a file."""

    chapter_id: int
    encoding: str
    delimiter: str
    columns: list[str]
    ignored_columns: list[str]
    new: list[ImportRow]
    matched: list[ImportRow]
    invalid: list[ImportRow]

    @property
    def total(self) -> int:
        return len(self.new) + len(self.matched) + len(self.invalid)

    @property
    def changed(self) -> list[ImportRow]:
        return [row for row in self.matched if row.changes]

    @property
    def can_be_written(self) -> bool:
        return not self.invalid and bool(self.new or self.matched)


# --- Reading the file --------------------------------------------------------------------

def decode(content: bytes) -> tuple[str, str]:
    """The text of a file as spreadsheets save it (UTF-8 with or without BOM, UTF-16, Windows-1252, Latin-1)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise ImportRefused(NOT_CSV_MESSAGE)
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8"), "UTF-8 (with BOM)"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return content.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            pass
    try:
        return content.decode("cp1252"), "Windows-1252 (Latin-1)"
    except UnicodeDecodeError:
        return content.decode("latin-1"), "Latin-1 (ISO-8859-1)"


def _normalise_heading(heading: str) -> str:
    """'E-mail address', 'Prénom ' -> 'emailaddress', 'prenom': letters and digits, accents dropped."""
    unaccented = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", unaccented.lower())


def _delimiter(first_line: str) -> str:
    """Comma, semicolon (spreadsheets in many European locales) or tab: the most frequent outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    counts = {candidate: unquoted.count(candidate) for candidate in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(content: bytes) -> CsvFile:
    """Decode and split a CSV file, and find its columns; refuses files that are not a roster CSV."""
    if not content or not content.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ImportRefused("The file is empty. Export the roster from your spreadsheet as CSV and upload that file.")
    if content.startswith(NOT_CSV_SIGNATURES) or (b"\x00" in content[:4096] and not content.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise ImportRefused(NOT_CSV_MESSAGE)
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportRefused(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB. Split it into smaller files.")
    text, encoding = decode(content)
    if "\x00" in text:
        raise ImportRefused(NOT_CSV_MESSAGE)
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # blank lines before the headings
        if header is None:
            raise ImportRefused("The file is empty. Export the roster from your spreadsheet as CSV and upload that file.")
        columns, ignored = _columns(header)
        rows = []
        line = reader.line_num
        for cells in reader:
            start, line = line + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
                if len(rows) > MAX_IMPORT_ROWS:
                    raise ImportRefused(f"The file has more than {MAX_IMPORT_ROWS:,} members. Split it into smaller files.")
    except csv.Error as error:
        raise ImportRefused(f"Line {reader.line_num} cannot be read as CSV ({error}). {NOT_CSV_MESSAGE}")
    if not rows:
        raise ImportRefused("The file has column headings but no members.")
    return CsvFile(columns=columns, ignored_columns=ignored, encoding=encoding,
                   delimiter={",": "comma", ";": "semicolon", "\t": "tab"}[delimiter], rows=rows)


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, heading in enumerate(header):
        name = ALIAS_TO_FIELD.get(_normalise_heading(heading))
        if name is None:
            if heading.strip():
                ignored.append(heading.strip())
            continue
        if name in columns:
            raise ImportRefused(f"Two columns hold the {FIELD_LABELS[name]}: “{header[columns[name]].strip()}” and "
                                f"“{heading.strip()}”. Keep one of them.")
        columns[name] = index
    missing = [FIELD_LABELS[name] for name in ("first_name", "last_name") if name not in columns]
    if missing:
        found = ", ".join(f"“{h.strip()}”" for h in header if h.strip()) or "none"
        raise ImportRefused(
            f"The file has no {' and no '.join(missing)} column. The first line must name the columns, "
            f"for example: First name, Last name, E-mail, Member number. Columns found: {found}."
        )
    return columns, ignored


# --- Checking the rows -------------------------------------------------------------------

def _clean(value: str) -> str | None:
    value = value.strip()
    # A leading apostrophe is what exports (ours included) put before =, +, - or @ to stop formulas.
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        value = value[1:]
    return value or None


DATE_FORMATS = (("%Y-%m-%d", "2026-03-31"), ("%m/%d/%Y", "03/31/2026"), ("%d.%m.%Y", "31.03.2026"))


def parse_date(text: str) -> date:
    """Dates as spreadsheets write them: 2026-03-31, 3/31/2026 (US) or 31.03.2026; 'Lifetime' for no end."""
    if text.strip().lower() == "lifetime":
        return FOREVER
    for pattern, _example in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ValueError(f"“{text}” is not a date; write it as 2026-03-31")


def _row_values(cells: list[str], columns: dict[str, int]) -> dict[str, str | None]:
    return {name: _clean(cells[index]) if index < len(cells) else None for name, index in columns.items()}


# Dates outside these years are typing mistakes (9999-12-30), and would overflow date arithmetic.
PLAUSIBLE_YEARS = (1900, 2200)
STAFF_ONLY_KINDS = (MembershipKind.HONORARY, MembershipKind.LIFETIME)


def _check_row(row: ImportRow, types: dict[str, MembershipType], may_grant: bool = False) -> None:
    """Checks that need nothing but the row itself; `may_grant`: staff, who may import what only staff grant."""
    values = row.values
    for name in ("first_name", "last_name"):
        if not values.get(name):
            row.errors.append(f"{FIELD_LABELS[name]} is missing.")
    for name, limit in MAX_LENGTHS.items():
        value = values.get(name)
        if value and len(value) > limit:
            row.errors.append(f"{FIELD_LABELS[name]} is longer than {limit} characters.")
    email = values.get("email")
    if email:
        email = values["email"] = email.lower()
        if not EMAIL_PATTERN.match(email):
            row.errors.append(f"“{email}” is not an e-mail address.")
    country = values.get("country")
    if country:
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            row.errors.append(f"Country “{country}” is not a 2-letter code such as US or CA.")
        values["country"] = country.upper()
    dates: dict[str, date] = {}
    for name in ("joined_on", "paid_through"):
        if values.get(name):
            try:
                dates[name] = parse_date(values[name])
            except ValueError as error:
                row.errors.append(f"{FIELD_LABELS[name]}: {error}.")
                continue
            if dates[name] != FOREVER and not PLAUSIBLE_YEARS[0] <= dates[name].year <= PLAUSIBLE_YEARS[1]:
                row.errors.append(f"{FIELD_LABELS[name]}: {dates[name].isoformat()} is not a plausible date.")
                del dates[name]
    type_text = values.get("membership_type")
    membership_type = types.get(type_text.lower()) if type_text else None
    if type_text and membership_type is None:
        row.errors.append(f"Membership type “{type_text}” is unknown; use one of: "
                          f"{', '.join(sorted({t.name for t in types.values()}))}.")
    elif membership_type is not None and membership_type.kind is MembershipKind.CORPORATE_SEAT:
        row.corporate_seat = True  # decided once the row is matched (see _match)
        return
    elif membership_type is not None and not may_grant and (
            membership_type.kind in STAFF_ONLY_KINDS or not membership_type.is_invoiced):
        row.staff_only_reason = (f"{membership_type.name} memberships are granted by national staff only; "
                                 "leave the membership type empty or use a paid type.")
    if row.errors:
        return
    row.term = _term_of(row, membership_type, dates)
    if row.term is not None and not may_grant and row.staff_only_reason is None:
        _check_within_one_term(row, membership_type)


def _check_within_one_term(row: ImportRow, membership_type: MembershipType) -> None:
    """An officer's import may say a member is paid up for at most one term from today."""
    _type_id, _starts, until = row.term
    limit = add_months(today(), membership_type.term_months or 12)
    if until > limit:
        row.staff_only_reason = (f"“Member until” {until.isoformat()} is more than one {membership_type.name} term "
                                 f"from today (at most {limit.isoformat()}); only national staff can record longer "
                                 "memberships.")


def _term_of(row: ImportRow, membership_type: MembershipType | None, dates: dict[str, date]):
    """The membership term a new member's row describes (type and 'Member until'), or None."""
    joined, until = dates.get("joined_on"), dates.get("paid_through")
    if membership_type is None:
        if until is not None:
            row.errors.append("Give the membership type with the “Member until” date.")
        return None
    if membership_type.term_months is None:
        until = FOREVER
    elif until == FOREVER:
        row.errors.append(f"Only lifetime memberships never end; give the “Member until” date of the "
                          f"{membership_type.name} membership.")
        return None
    if until is None:
        row.errors.append(f"Give the “Member until” date of the {membership_type.name} membership.")
        return None
    starts = joined or (add_months(until + timedelta(days=1), -membership_type.term_months)
                        if membership_type.term_months else today())
    if starts > until:
        row.errors.append("“Member since” is after “Member until”.")
        return None
    return membership_type.id, starts, until


def _types_by_name() -> dict[str, MembershipType]:
    types: dict[str, MembershipType] = {}
    for membership_type in db.session.scalars(sa.select(MembershipType)):
        types[membership_type.code.lower()] = membership_type
        types[membership_type.name.lower()] = membership_type
    return types


def _members_by(column, keys: Iterable[str]) -> dict[str, sa.Row]:
    """Existing members whose `column` is one of `keys` (looked up in chunks, one query each)."""
    keys = list(keys)
    found: dict[str, sa.Row] = {}
    for start in range(0, len(keys), 900):
        rows = db.session.execute(
            sa.select(Member.id, Member.member_number, Member.email, Member.home_chapter_id,
                      *[getattr(Member, name) for name in PROFILE_FIELDS])
            .where(column.in_(keys[start:start + 900]))
        ).all()
        for row in rows:
            found[getattr(row, column.key)] = row
    return found


def plan_import(chapter: Chapter, content: bytes, *, may_grant: bool = False) -> ImportPlan:
    """Read a file and sort its rows into new, matched (by e-mail or member number) and invalid; writes nothing.

    Only with `may_grant` (national staff, or the command line without --as) may rows carry free types
    (honorary, lifetime) or end more than one term from today.
    """
    parsed = read_csv(content)
    types = _types_by_name()
    rows: list[ImportRow] = []
    first_line_of_email: dict[str, int] = {}
    first_line_of_number: dict[str, int] = {}
    for line, cells in parsed.rows:
        row = ImportRow(line=line, values=_row_values(cells, parsed.columns))
        _check_row(row, types, may_grant)
        email, number = row.values.get("email"), row.values.get("member_number")
        if email and EMAIL_PATTERN.match(email):
            if email in first_line_of_email:
                row.errors.append(f"The e-mail address {email} is also on line {first_line_of_email[email]}.")
            else:
                first_line_of_email[email] = line
        if number:
            if number in first_line_of_number:
                row.errors.append(f"Member number {number} is also on line {first_line_of_number[number]}.")
            else:
                first_line_of_number[number] = line
        rows.append(row)
    by_email = _members_by(Member.email, first_line_of_email)
    by_number = _members_by(Member.member_number, first_line_of_number)
    for row in rows:
        if not row.errors:
            _match(row, chapter, by_email, by_number)
    return ImportPlan(
        chapter_id=chapter.id, encoding=parsed.encoding, delimiter=parsed.delimiter,
        columns=[FIELD_LABELS[name] for name in sorted(parsed.columns, key=parsed.columns.get)],
        ignored_columns=parsed.ignored_columns,
        new=[row for row in rows if not row.errors and row.member_id is None],
        matched=[row for row in rows if not row.errors and row.member_id is not None],
        invalid=[row for row in rows if row.errors],
    )


def _match(row: ImportRow, chapter: Chapter, by_email: dict, by_number: dict) -> None:
    """Find the member a row is about, and what it would change; refuse members of other chapters."""
    email, number = row.values.get("email"), row.values.get("member_number")
    found_by_number = by_number.get(number) if number else None
    found_by_email = by_email.get(email) if email else None
    if number and found_by_number is None:
        row.errors.append(f"No member has the number {number}. Leave the member number empty to add a new member.")
        return
    if found_by_number is not None and found_by_email is not None and found_by_number.id != found_by_email.id:
        row.errors.append(f"Member number {number} and the e-mail address {email} belong to two different members.")
        return
    existing = found_by_number or found_by_email
    if existing is None:
        if row.staff_only_reason:
            row.errors.append(row.staff_only_reason)
            row.term = None
            return
        if row.corporate_seat:
            row.errors.append("Corporate seats come from the organization's corporate membership and cannot be "
                              "imported as new members.")
        return
    if existing.home_chapter_id != chapter.id:
        row.errors.append(f"{'Member ' + number if found_by_number is not None else 'The member with ' + email} "
                          "belongs to another chapter. Ask them to transfer (Transfers page) instead.")
        return
    row.member_id, row.member_number = existing.id, existing.member_number
    for name in UPDATABLE_FIELDS:
        value = row.values.get(name)
        if value is not None and value != getattr(existing, name):
            row.changes[name] = (getattr(existing, name), value)


# --- Writing -----------------------------------------------------------------------------

@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int


def write_import(
    chapter: Chapter, plan: ImportPlan, *, actor: User | None, source: str,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write every row of a plan in bulk in the current transaction; refuses a plan with invalid rows."""
    if plan.chapter_id != chapter.id:
        raise NotAllowed("This import was prepared for another chapter.")
    if plan.invalid:
        raise DomainError(f"{len(plan.invalid):,} row{'s' if len(plan.invalid) != 1 else ''} cannot be imported. "
                          "Correct the file and upload it again; nothing was written.")
    if not (plan.new or plan.matched):
        raise DomainError("The file has no member to import.")
    report = progress or (lambda count: None)
    now, day = utcnow(), today()
    actor_id = actor.id if actor is not None else None
    grace_days = dict(db.session.execute(sa.select(MembershipType.id, MembershipType.grace_days)).all())
    audit_rows: list[dict] = []
    try:
        first_number = next_member_numbers(len(plan.new)) if plan.new else 0
        for start in range(0, len(plan.new), WRITE_BATCH):
            batch = plan.new[start:start + WRITE_BATCH]
            member_rows = [_member_row(row, chapter, str(first_number + start + offset), grace_days, now)
                           for offset, row in enumerate(batch)]
            # A plain multi-row INSERT, then the ids by member number (reserved above, so ours alone):
            # on PostgreSQL an INSERT ... RETURNING that keeps the parameter order goes a few rows at a time.
            db.session.execute(Member.__table__.insert(), member_rows)
            id_by_number = dict(db.session.execute(
                sa.select(Member.member_number, Member.id)
                .where(Member.member_number.in_([row["member_number"] for row in member_rows]))
            ).all())
            ids = [id_by_number[row["member_number"]] for row in member_rows]
            db.session.execute(ChapterTransfer.__table__.insert(), [
                dict(member_id=member_id, from_chapter_id=None, to_chapter_id=chapter.id,
                     effective_on=min(row["joined_on"] or day, day), recorded_at=now, actor_id=actor_id,
                     reason=f"Imported from {source}"[:200])
                for member_id, row in zip(ids, member_rows)
            ])
            term_rows = [
                dict(member_id=member_id, membership_type_id=row.term[0], starts_on=row.term[1], ends_on=row.term[2],
                     source=TermSource.IMPORT, granted_by_id=actor_id, note=f"Imported from {source}"[:300],
                     created_at=now, updated_at=now)
                for member_id, row in zip(ids, batch) if row.term is not None
            ]
            if term_rows:
                db.session.execute(MembershipTerm.__table__.insert(), term_rows)
            for member_id, member_row in zip(ids, member_rows):
                audit_rows.append(dict(
                    action=AuditAction.MEMBER_CREATED, chapter_id=chapter.id, member_id=member_id,
                    summary=f"{member_row['first_name']} {member_row['last_name']} ({member_row['member_number']}) imported",
                    after={key: member_row[key] for key in ("member_number", "first_name", "last_name", "email",
                                                             "current_type_id", "joined_on", "paid_through")},
                ))
            report(len(batch))
        changed = plan.changed
        for start in range(0, len(changed), WRITE_BATCH):
            batch = changed[start:start + WRITE_BATCH]
            db.session.execute(sa.update(Member), [
                {"id": row.member_id, "updated_at": now, **{name: new for name, (_old, new) in row.changes.items()}}
                for row in batch
            ])
            for row in batch:
                audit_rows.append(dict(
                    action=AuditAction.MEMBER_UPDATED, chapter_id=chapter.id, member_id=row.member_id,
                    summary=f"{row.name} ({row.member_number}): {', '.join(row.changes)} changed by import",
                    before={name: old for name, (old, _new) in row.changes.items()},
                    after={name: new for name, (_old, new) in row.changes.items()},
                ))
            report(len(batch))
        refresh_search_text([row.member_id for row in changed])  # the bulk UPDATE bypassed the ORM's event
        report(len(plan.matched) - len(changed))
        audit_rows.append(dict(
            action=AuditAction.ROSTER_IMPORTED, chapter_id=chapter.id,
            summary=f"Imported {source}: {len(plan.new):,} new, {len(changed):,} updated, "
                    f"{len(plan.matched) - len(changed):,} unchanged",
            after={"source": source, "new": len(plan.new), "updated": len(changed),
                   "unchanged": len(plan.matched) - len(changed), "encoding": plan.encoding},
        ))
        audit.record_many(audit_rows, actor=actor)
        db.session.flush()
    except sa.exc.IntegrityError as error:
        raise DomainError("The roster changed while the file was being imported (an e-mail address or member "
                          "number is now taken). Nothing was written; upload the file again.") from error
    return ImportResult(created=len(plan.new), updated=len(changed), unchanged=len(plan.matched) - len(changed))


def _member_row(row: ImportRow, chapter: Chapter, member_number: str, grace_days: dict[int, int], now: datetime) -> dict:
    values = row.values
    member = dict(
        member_number=member_number, home_chapter_id=chapter.id, created_at=now, updated_at=now,
        first_name=values["first_name"], last_name=values["last_name"], email=values.get("email"),
        country=values.get("country") or chapter.country,
        joined_on=None, paid_through=None, grace_ends_on=None, current_type_id=None,
        **{name: values.get(name) for name in PROFILE_FIELDS if name not in ("first_name", "last_name", "country")},
    )
    if row.term is not None:
        type_id, starts_on, ends_on = row.term
        member.update(
            joined_on=starts_on, paid_through=ends_on, current_type_id=type_id,
            grace_ends_on=FOREVER if ends_on == FOREVER else ends_on + timedelta(days=grace_days[type_id]),
        )
    return member


# --- Uploads waiting for confirmation ----------------------------------------------------

def may_grant_staff_only(actor: User | None) -> bool:
    """Whether an import by `actor` may carry what only staff grant (free types, long terms)."""
    return actor is not None and actor.is_staff


def store_upload(chapter: Chapter, *, filename: str, content: bytes, actor: User) -> tuple[RosterImport, ImportPlan]:
    """Check an uploaded file and keep it for the preview; a file that cannot be read is refused and not kept."""
    plan = plan_import(chapter, content, may_grant=may_grant_staff_only(actor))
    _discard_stale_uploads()
    upload = RosterImport(
        token=secrets.token_urlsafe(32), chapter_id=chapter.id, uploaded_by_id=actor.id,
        filename=(filename or "roster.csv")[-255:], content=content,
        new_count=len(plan.new), matched_count=len(plan.matched), invalid_count=len(plan.invalid),
    )
    db.session.add(upload)
    db.session.flush()
    return upload, plan


def get_upload(chapter: Chapter, token: str, *, actor: User) -> RosterImport | None:
    """The upload with this token if it belongs to this chapter and was made by `actor`."""
    return db.session.scalar(sa.select(RosterImport).where(
        RosterImport.token == token, RosterImport.chapter_id == chapter.id, RosterImport.uploaded_by_id == actor.id,
    ))


def preview_upload(upload: RosterImport) -> ImportPlan:
    """Re-read a waiting upload against the roster as it is now."""
    if upload.status is not RosterImportStatus.PREVIEWED or upload.content is None:
        raise DomainError("This file has already been imported or discarded.")
    return plan_import(upload.chapter, upload.content, may_grant=may_grant_staff_only(upload.uploaded_by))


def confirm_upload(upload: RosterImport, *, actor: User, progress: Callable[[int], None] | None = None) -> ImportResult:
    """Write a previewed upload, all rows or none; a second confirmation of the same file is refused."""
    plan = preview_upload(upload)
    if plan.invalid:
        raise DomainError(f"{len(plan.invalid):,} row{'s' if len(plan.invalid) != 1 else ''} cannot be imported. "
                          "Correct the file and upload it again; nothing was written.")
    # Claim the upload first: of two confirmations racing, the second finds it no longer waiting.
    claimed = db.session.execute(
        sa.update(RosterImport)
        .where(RosterImport.id == upload.id, RosterImport.status == RosterImportStatus.PREVIEWED)
        .values(status=RosterImportStatus.COMPLETED, completed_at=utcnow(), content=None,
                new_count=len(plan.new), matched_count=len(plan.matched), invalid_count=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise DomainError("This file has already been imported or discarded.")
    return write_import(upload.chapter, plan, actor=actor, source=upload.filename, progress=progress)


def discard_upload(upload: RosterImport, *, actor: User) -> None:
    """Give up a waiting upload; its content is deleted."""
    if upload.status is RosterImportStatus.PREVIEWED:
        upload.status = RosterImportStatus.DISCARDED
        upload.content = None
        db.session.flush()


def _discard_stale_uploads() -> None:
    """Delete the content of previews nobody confirmed within a day (the counts stay)."""
    db.session.execute(
        sa.update(RosterImport)
        .where(RosterImport.status == RosterImportStatus.PREVIEWED, RosterImport.uploaded_at < utcnow() - STALE_UPLOAD_AGE)
        .values(status=RosterImportStatus.DISCARDED, content=None)
        .execution_options(synchronize_session=False)
    )
