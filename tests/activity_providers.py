"""Activity providers a test registers through `activity.register` (events held, messages sent), so health and
standards are tested before (and beside) the features that provide them."""
from __future__ import annotations

from datetime import date

from chapter.core import activity


class FakeActivity:
    """Items per kind and chapter; the provider returns those in [start, end), as the registry's contract says."""

    def __init__(self):
        self.items: dict[tuple[str, int], list[activity.Item]] = {}

    def add(self, kind: str, chapter_id: int, day: date, title: str, count: int = 0, url: str | None = None):
        self.items.setdefault((kind, chapter_id), []).append(activity.Item(day, title, url, count))

    def provider(self, kind: str):
        def provide(chapter_id: int, start: date, end: date) -> list[activity.Item]:
            return [item for item in self.items.get((kind, chapter_id), []) if start <= item.day < end]
        return provide


def install(monkeypatch, kinds=("pd_event", "communication")) -> FakeActivity:
    """Replace the providers of `kinds` for one test (the features' own, if present, come back afterwards)."""
    activity.kinds()  # load the features' providers first, so none registers over ours later
    monkeypatch.setattr(activity, "_kinds", {k: v for k, v in activity._kinds.items() if k not in kinds})
    fake = FakeActivity()
    for kind in kinds:
        activity.register(kind, {"pd_event": "Professional-development events held",
                                 "communication": "Member communications sent"}.get(kind, kind), fake.provider(kind))
    return fake
