"""A chapter's activity as features report it: events held, messages sent. Read by chapter health and
the minimum-standards report (issue 14), which know no feature.

A feature registers a provider per kind of activity; a provider returns what the chapter did in
[start, end) (dates, the chapter's fiscal year for the standards):

    from chapter.core import activity
    activity.register("pd_event", "Professional-development events held", events_held)   # chapter/events
    activity.register("communication", "Member communications sent", messages_sent)      # chapter/communications

    def events_held(chapter_id: int, start: date, end: date) -> list[activity.Item]: ...

Kinds used so far: "pd_event" (professional-development events held, count = attendance),
"communication" (messages sent to members, count = recipients).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from chapter.core.providers import import_providers

# Modules that register providers, imported on first use (a feature not present yet is skipped).
PROVIDER_MODULES = ("chapter.events.activity", "chapter.communications.activity")


@dataclass(frozen=True)
class Item:
    """One thing a chapter did: an event held, a message sent."""

    day: date
    title: str
    url: str | None = None     # a path inside the app (url_for), shown as the evidence link
    count: int = 0            # attendance of an event, recipients of a message


Provider = Callable[[int, date, date], list[Item]]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    provider: Provider


_kinds: dict[str, Kind] = {}
_loaded = False


def register(key: str, label: str, provider: Provider) -> None:
    """Register the provider of one kind of activity; registering the same again is harmless."""
    existing = _kinds.get(key)
    if existing is not None and existing.provider is not provider:
        raise ValueError(f"activity kind {key!r} already has a provider")
    _kinds[key] = Kind(key, label, provider)


def _load() -> None:
    global _loaded
    if not _loaded:
        import_providers(PROVIDER_MODULES)
        _loaded = True


def kinds() -> list[Kind]:
    """Every registered kind of activity."""
    _load()
    return list(_kinds.values())


def items(key: str, chapter_id: int, start: date, end: date) -> list[Item]:
    """What chapter `chapter_id` did of kind `key` in [start, end); [] when no feature provides that kind."""
    _load()
    kind = _kinds.get(key)
    return kind.provider(chapter_id, start, end) if kind else []
