"""Event orders in the payments fulfilment registry: paying confirms the registrant and their guests; the
price category is decided on the day of payment; a refund made outside the event's own flows (staff, the
Stripe dashboard) that gives everything back cancels the registrations and frees their seats."""
from __future__ import annotations

from datetime import date

from chapter.core.formatting import format_money
from chapter.core.models import utcnow
from chapter.events import orders, registration as registrations
from chapter.events.models import EventStatus, RegistrationStatus
from chapter.events.times import format_local
from chapter.payments import fulfilment
from chapter.payments.models import Order, OrderPurpose, Refund


def fulfil_event_order(order: Order, day: date):
    """Called once by payments when the order is paid: the party's seats are confirmed."""
    party = orders.registrations_of_order(order)
    if not party:
        return None
    host = party[0]
    registrations.confirm(host, utcnow())
    return host


def event_price_on(order: Order, day: date) -> int | None:
    """The total if charged on `day`, or STALE when the hold (or offer) ran out or the category changed."""
    party = orders.registrations_of_order(order)
    if not party:
        return fulfilment.STALE
    host = party[0]
    if host.status not in (RegistrationStatus.PENDING, RegistrationStatus.OFFERED) \
            or host.event.status is not EventStatus.PUBLISHED or not orders.hold_is_valid(host, utcnow()):
        return fulfilment.STALE
    from chapter.events import policy

    price = policy.price_for(host.event, host.member, day)
    guests = [r for r in party[1:] if r.status in (RegistrationStatus.PENDING, RegistrationStatus.OFFERED)]
    return price.cents + sum(policy.guest_price(host.event) for _ in guests)


def reprice_event_order(order: Order, day: date) -> None:
    """Price the order again for `day`, holding the seat again first if its hold ran out (when one is free)."""
    party = orders.registrations_of_order(order)
    if not party:
        return
    host = party[0]
    registrations.retake_seat(host, utcnow())
    orders.start_order(host, actor=order.purchaser, day=day)


def event_refunded(order: Order, refund: Refund, fully: bool) -> None:
    """A full refund made outside the events pages cancels what is still paid (the seats go to the waitlist)."""
    if not fully:
        return
    party = [r for r in orders.registrations_of_order(order) if r.status is RegistrationStatus.PAID]
    now = utcnow()
    for registration in party:
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = now
        registration.refund_cents = registration.price_cents
    if party:
        registrations.offer_freed_seats(party[0].event, now)


def event_receipt_details(order: Order) -> list[tuple[str, str]]:
    party = orders.registrations_of_order(order)
    if not party:
        return []
    event = party[0].event
    details = [("Event", event.title), ("Chapter", event.chapter.display_name),
               ("When", format_local(event.starts_at, event.timezone))]
    details += [("Registrant" if r.guest_of_id is None else "Guest", f"{r.name} ({r.category.label} price)")
                for r in party]
    if event.materials_fee_cents:
        details.append(("Materials fee (not refundable)", format_money(event.materials_fee_cents, event.currency)))
    return details


fulfilment.register(OrderPurpose.EVENT, fulfilment.PurposeHandlers(
    fulfil=fulfil_event_order, refunded=event_refunded, price_on=event_price_on, reprice=reprice_event_order,
    receipt_details=event_receipt_details, is_membership=False))
