"""The fulfilment registry: each feature says what paying (and refunding) an order of its purpose does.

`payments` knows no feature. Dues register here (chapter/payments/dues.py), exams from
chapter/certifications/fulfilment.py, corporate memberships from chapter/members/corporate_fulfilment.py;
`register_all()` (called by create_app) imports those modules once. A feature added later (events)
registers its own purpose the same way.

A handler set for one or more order purposes:
- fulfil(order, day): give what was paid for, exactly once (payments calls it after claiming the order);
- refunded(order, refund, fully): what a refund does besides the money (an exam fee refunded in full
  cancels the authorization to test; dues leave the term to the staff's term_action);
- price_on(order, day) -> int | None: the price of the order if it were charged on `day` (STALE when
  the quote no longer holds); payments refuses a charge whose order total differs ("The price changed:
  review and pay again"), after reprice(order, day) has priced the open order again for that day;
- receipt_details(order) -> list[(label, text)]: what the receipt page and e-mail name besides the lines;
- is_membership: whether the pay page offers automatic renewal and the receipt says until when the
  membership runs.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chapter.payments.models import Order, OrderPurpose, Refund

# The modules that register handlers; imported by register_all() (create_app), in this order.
FEATURE_MODULES = (
    "chapter.payments.dues",
    "chapter.certifications.fulfilment",
    "chapter.members.corporate_fulfilment",
    "chapter.events.fulfilment",
)


STALE = -1  # price_on: the quote was for another day or another term; price the order again


class NoHandler(LookupError):
    """No feature registered a handler for an order's purpose."""


@dataclass(frozen=True)
class PurposeHandlers:
    """What one feature does when an order of its purpose is paid or refunded."""

    fulfil: Callable[[Order, date], object]
    refunded: Callable[[Order, Refund, bool], None] | None = None
    price_on: Callable[[Order, date], int | None] | None = None
    reprice: Callable[[Order, date], object] | None = None
    receipt_details: Callable[[Order], list[tuple[str, str]]] | None = None
    is_membership: bool = False


_handlers: dict[str, PurposeHandlers] = {}


def register(purposes: OrderPurpose | tuple[OrderPurpose, ...], handlers: PurposeHandlers) -> None:
    """Register `handlers` for one or more order purposes; registering the same handlers again is harmless."""
    for purpose in (purposes if isinstance(purposes, tuple) else (purposes,)):
        key = getattr(purpose, "value", purpose)
        existing = _handlers.get(key)
        if existing is not None and existing != handlers:
            raise ValueError(f"order purpose {key!r} already has fulfilment handlers")
        _handlers[key] = handlers


def register_all() -> None:
    """Import every feature's fulfilment module (each registers itself on import)."""
    for name in FEATURE_MODULES:
        importlib.import_module(name)


def handlers_for(purpose: OrderPurpose | str) -> PurposeHandlers:
    """The handlers of a purpose; NoHandler when no feature registered one."""
    key = getattr(purpose, "value", purpose)
    if key not in _handlers:
        register_all()
    try:
        return _handlers[key]
    except KeyError:
        raise NoHandler(f"no fulfilment registered for order purpose {key!r}") from None


def registered_purposes() -> set[str]:
    register_all()
    return set(_handlers)


def fulfil(order: Order, day: date) -> object:
    """Run the purpose's fulfilment (payments has already claimed the order, so this runs once)."""
    return handlers_for(order.purpose).fulfil(order, day)


def refunded(order: Order, refund: Refund, fully: bool) -> None:
    """Tell the purpose's feature that money was given back on its order."""
    handler = handlers_for(order.purpose).refunded
    if handler is not None:
        handler(order, refund, fully)


def price_on(order: Order, day: date) -> int | None:
    """What the order would cost if charged on `day` (None: the feature does not reprice)."""
    handler = handlers_for(order.purpose).price_on
    return handler(order, day) if handler is not None else None


def reprice(order: Order, day: date) -> None:
    """Price the open order again for `day` (the feature's own start function); nothing if it cannot."""
    handler = handlers_for(order.purpose).reprice
    if handler is not None:
        handler(order, day)


def receipt_details(order: Order) -> list[tuple[str, str]]:
    handler = handlers_for(order.purpose).receipt_details
    return list(handler(order)) if handler is not None else []


def is_membership(order: Order) -> bool:
    return handlers_for(order.purpose).is_membership
