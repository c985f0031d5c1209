"""Event times: stored as naive UTC, typed and shown in the event's own time zone (zoneinfo)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from chapter.core.errors import DomainError

DEFAULT_TIMEZONE = "America/New_York"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def check_timezone(name: str) -> str:
    """`name` if it is an IANA time zone, else a DomainError on the field."""
    if name not in available_timezones():
        raise DomainError("Choose a time zone such as America/Chicago or Europe/Berlin.", field="timezone")
    return name


def to_utc(local: datetime, tz_name: str) -> datetime:
    """A wall-clock time in the zone as naive UTC (a time skipped by a clock change moves forward)."""
    aware = local.replace(tzinfo=zone(tz_name))
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


def to_local(utc: datetime | None, tz_name: str) -> datetime | None:
    """A stored (naive UTC) time as an aware datetime in the zone."""
    if utc is None:
        return None
    return utc.replace(tzinfo=timezone.utc).astimezone(zone(tz_name))


def local_date(utc: datetime, tz_name: str) -> date:
    return to_local(utc, tz_name).date()


def format_local(utc: datetime | None, tz_name: str, *, with_zone: bool = True) -> str:
    """'Tue 12 Jan 2027, 18:30 EST' in the event's zone."""
    moment = to_local(utc, tz_name)
    if moment is None:
        return "—"
    text = f"{moment:%a %d %b %Y, %H:%M}"
    return f"{text} {moment.tzname()}" if with_zone else text
