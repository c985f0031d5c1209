"""A message's send time in its chapter's zone: typed and shown there, stored as naive UTC (the events' helpers)."""
from __future__ import annotations

from datetime import datetime

from chapter.chapters.models import Chapter
from chapter.core.errors import DomainError
from chapter.events.times import format_local, to_local, to_utc, zone


def chapter_zone(chapter: Chapter) -> str:
    """The chapter's IANA zone, or the events' default when it has none (or an unknown one)."""
    return zone(chapter.timezone).key


def send_at_utc(local: datetime, tz_name: str) -> datetime:
    """A typed wall-clock time as naive UTC; a DomainError on `send_at` for a time a clock change skips or repeats."""
    tz = zone(tz_name)
    earlier, later = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if earlier.utcoffset() != later.utcoffset():
        shown_back = to_local(to_utc(local, tz_name), tz_name).replace(tzinfo=None)
        if shown_back != local:
            raise DomainError(f"{local:%d %b %Y %H:%M} does not exist in {tz.key}: the clocks skip it. "
                              "Choose another time.", field="send_at")
        raise DomainError(f"{local:%d %b %Y %H:%M} happens twice in {tz.key} (the clocks go back). "
                          "Choose a time outside that hour.", field="send_at")
    return to_utc(local, tz_name)


def shown(utc: datetime | None, tz_name: str) -> str:
    """'Tue 12 Jan 2027, 18:30 CST' in the chapter's zone."""
    return format_local(utc, tz_name)
