"""The audit log in words: each change as a sentence with names, not ids or codes, at the chapter's local time."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from chapter.core.audit import AuditEntry
from chapter.core.formatting import format_date, format_money
from chapter.extensions import db

DEFAULT_TIMEZONE = "America/New_York"
FIELD_LABELS = {
    "paid_through": "Member until", "home_chapter": "Home chapter", "membership_type": "Type",
    "membership_type_id": "Type", "type": "Type", "refunded_cents": "Refunded", "amount_cents": "Amount",
    "officer": "Officer", "position": "Position", "starts_on": "From", "ends_on": "Until",
    "effective_on": "Effective", "booked_on": "Dated", "noted_on": "Noted on", "body": "Note",
    "manager": "Manager", "district": "District", "to_chapter": "To chapter", "released_on": "Freed on",
    "member_number": "Member number", "first_name": "First name", "last_name": "Last name", "email": "E-mail",
    "rows": "Rows", "format": "Format", "filters": "Filters", "card": "Saved card", "until": "Until",
    "organization": "Organization", "reference": "Reference", "month": "Month",
}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def chapter_zone(chapter) -> ZoneInfo:
    """The chapter's time zone (Eastern when unset or unknown)."""
    try:
        return ZoneInfo(getattr(chapter, "timezone", None) or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """'1 Dec 2026, 14:05 EST': a stored UTC moment at the chapter's local time."""
    local = moment.replace(tzinfo=timezone.utc).astimezone(zone)
    return f"{local.day} {local:%b %Y, %H:%M %Z}"


def sentences(entries: list[AuditEntry]) -> dict[int, list[str]]:
    """For each entry id, its changes as sentences ("Type changed from Student to Professional")."""
    names = _names_for(entries)
    result = {}
    for entry in entries:
        lines = []
        for field, before, after in entry.changes():
            if field == "filters":
                continue
            label = FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
            before, after = _word(field, before, names), _word(field, after, names)
            if entry.before is not None and entry.after is not None and before != after:
                if before is None:
                    lines.append(f"{label} set to {after}.")
                elif after is None:
                    lines.append(f"{label} cleared (it was {before}).")
                else:
                    lines.append(f"{label} changed from {before} to {after}.")
            elif entry.before is not None and entry.after is None:
                lines.append(f"{label} was {before or 'nothing'}.")
            elif after not in (None, ""):
                lines.append(f"{label}: {after}.")
        result[entry.id] = lines
    return result


def _word(field: str, value, names: dict) -> str | None:
    """One value as people say it: money, dates, names instead of e-mails, codes and ids."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field.endswith("_cents") and isinstance(value, int):
        return format_money(value)
    if isinstance(value, str) and ISO_DATE.match(value):
        return format_date(date.fromisoformat(value))
    if field in ("officer", "manager", "email") and value in names["users"]:
        return names["users"][value]
    if field == "position" and value in names["positions"]:
        return names["positions"][value]
    if field in ("membership_type", "membership_type_id", "type") and str(value) in names["types"]:
        return names["types"][str(value)]
    return str(value)


def _names_for(entries: list[AuditEntry]) -> dict[str, dict[str, str]]:
    """Every e-mail, position code and membership type the page mentions, resolved in one query each."""
    from chapter.auth.models import User
    from chapter.chapters.models import OfficerPosition
    from chapter.members.models import MembershipType

    wanted: dict[str, set] = {"users": set(), "positions": set(), "types": set()}
    for entry in entries:
        for field, before, after in entry.changes():
            for value in (before, after):
                if value is None:
                    continue
                if field in ("officer", "manager", "email"):
                    wanted["users"].add(str(value))
                elif field == "position":
                    wanted["positions"].add(str(value))
                elif field in ("membership_type", "membership_type_id", "type"):
                    wanted["types"].add(str(value))
    names: dict[str, dict[str, str]] = {"users": {}, "positions": {}, "types": {}}
    if wanted["users"]:
        names["users"] = dict(db.session.execute(sa.select(User.email, User.name).where(User.email.in_(wanted["users"]))).all())
    if wanted["positions"]:
        names["positions"] = dict(db.session.execute(
            sa.select(OfficerPosition.code, OfficerPosition.title).where(OfficerPosition.code.in_(wanted["positions"]))).all())
    if wanted["types"]:
        ids = [int(v) for v in wanted["types"] if v.isdigit()]
        rows = db.session.execute(sa.select(MembershipType.id, MembershipType.code, MembershipType.name).where(
            sa.or_(MembershipType.code.in_(wanted["types"]), MembershipType.id.in_(ids or [-1])))).all()
        for type_id, code, name in rows:
            names["types"][str(type_id)] = names["types"][code] = name
    return names
