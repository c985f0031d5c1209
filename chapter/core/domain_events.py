"""Domain events: a feature says what happened ("member.renewed"), others react, in the same transaction.

`publish()` calls every subscriber at once, inside the caller's transaction, so what a subscriber writes
(an outgoing webhook delivery row, an activity count) commits or rolls back with the change that caused
it: no event for a payment that was rolled back, no payment without its event. A subscriber must not
commit, and should only write rows and enqueue jobs with `enqueue_after_commit` (docs/jobs.md).

Names are dotted, past tense: member.joined, member.renewed, member.lapsed, member.transferred,
payment.succeeded, payment.refunded, event.registration.created, certification.awarded.
The payload is a JSON-serialisable dict (ids and plain values, never model objects).

    from chapter.core import domain_events
    domain_events.publish("member.renewed", {"member_id": m.id, "chapter_id": m.chapter_id, ...})

    @domain_events.subscriber("member.renewed")           # or subscribe_all(fn) for every name
    def _record(name: str, payload: dict) -> None: ...
"""
from __future__ import annotations

from collections.abc import Callable

Subscriber = Callable[[str, dict], None]

# The event names the system publishes; publish() refuses others so a typo cannot go unnoticed.
NAMES: frozenset[str] = frozenset({
    "member.joined", "member.renewed", "member.lapsed", "member.transferred",
    "payment.succeeded", "payment.refunded",
    "event.registration.created",
    "certification.awarded",
})

_by_name: dict[str, list[Subscriber]] = {}
_for_all: list[Subscriber] = []


def subscribe(name: str, fn: Subscriber) -> None:
    """Call `fn(name, payload)` whenever `name` is published; subscribing the same function twice is harmless."""
    if name not in NAMES:
        raise ValueError(f"unknown domain event {name!r}")
    fns = _by_name.setdefault(name, [])
    if fn not in fns:
        fns.append(fn)


def subscribe_all(fn: Subscriber) -> None:
    """Call `fn(name, payload)` for every event published."""
    if fn not in _for_all:
        _for_all.append(fn)


def subscriber(*names: str) -> Callable[[Subscriber], Subscriber]:
    """Decorator form of subscribe() for one or more names."""
    def register(fn: Subscriber) -> Subscriber:
        for name in names:
            subscribe(name, fn)
        return fn
    return register


def publish(name: str, payload: dict) -> None:
    """Tell every subscriber that `name` happened, within the current transaction."""
    if name not in NAMES:
        raise ValueError(f"unknown domain event {name!r}")
    for fn in (*_by_name.get(name, ()), *_for_all):
        fn(name, payload)
