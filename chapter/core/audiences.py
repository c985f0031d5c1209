"""Who a message can go to, beyond the roster: an event's registrants. Communications (issue 14) reads
this registry; the feature that owns the people registers a resolver, so communications knows no feature.

    from chapter.core import audiences
    audiences.register("event_registrants", "Registrants of an event", resolve, describe)

    def resolve(chapter_id: int, params: dict) -> list[audiences.Recipient]: ...   # e.g. {"event_id": 12}
    def describe(params: dict) -> str: ...                                             # "Registrants of Plant tour, 3 May"

The roster's own lists (filters, ready-made views) are communications' own business and not here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chapter.core.providers import import_providers

PROVIDER_MODULES = ("chapter.events.audiences",)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    user_id: int | None = None
    member_id: int | None = None


@dataclass(frozen=True)
class Audience:
    key: str
    label: str
    resolve: Callable[[int, dict], list[Recipient]]
    describe: Callable[[dict], str]


_audiences: dict[str, Audience] = {}
_loaded = False


def register(key: str, label: str, resolve, describe) -> None:
    """Register a kind of audience; registering the same again is harmless."""
    existing = _audiences.get(key)
    if existing is not None and existing.resolve is not resolve:
        raise ValueError(f"audience {key!r} already registered")
    _audiences[key] = Audience(key, label, resolve, describe)


def _load() -> None:
    global _loaded
    if not _loaded:
        import_providers(PROVIDER_MODULES)
        _loaded = True


def get(key: str) -> Audience | None:
    """The audience kind `key`, or None when no feature registered it."""
    _load()
    return _audiences.get(key)


def all_kinds() -> list[Audience]:
    _load()
    return list(_audiences.values())
