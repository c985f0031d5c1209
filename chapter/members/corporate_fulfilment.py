"""Corporate orders in the payments fulfilment registry: paying gives the organization its corporate
membership, more seats, or the next term for every seat (chapter/members/corporate.py).

Like dues, a corporate order is priced again for the day of the charge: a seat price changed since the
contact saw the order (or added seats quoted on another day: their price is prorated by day) is refused
at charge time with "The price changed: review and pay again", and the open order is priced again.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from chapter.extensions import db
from chapter.members import corporate
from chapter.members.corporate import fulfil_corporate_order
from chapter.members.models import CorporateMembership
from chapter.payments import fulfilment
from chapter.payments.models import Order, OrderPurpose

CORPORATE_PURPOSES = (OrderPurpose.CORPORATE_SEATS, OrderPurpose.CORPORATE_ADD_SEATS, OrderPurpose.CORPORATE_RENEWAL)


def corporate_receipt_details(order: Order) -> list[tuple[str, str]]:
    details = []  # the organization is named as the payer already
    if order.seats:
        details.append(("Seats", str(order.seats)))
    if order.covers_from and order.covers_until:
        details.append(("Period", f"{order.covers_from:%d %b %Y} to {order.covers_until:%d %b %Y}"))
    return details


def _term_seats_are_added_to(order: Order) -> CorporateMembership | None:
    return db.session.scalar(sa.select(CorporateMembership).where(
        CorporateMembership.organization_id == order.organization_id,
        CorporateMembership.ends_on == order.covers_until).order_by(CorporateMembership.id.desc()))


def corporate_price_on(order: Order, day: date) -> int | None:
    """What the corporate order would cost if charged on `day` (STALE: added seats quoted on another day)."""
    membership_type, seats = order.membership_type, order.seats
    if membership_type is None or not seats or order.organization_id is None:
        return None
    if order.purpose is OrderPurpose.CORPORATE_SEATS:
        return seats * membership_type.join_price_cents
    if order.purpose is OrderPurpose.CORPORATE_RENEWAL:
        return seats * membership_type.renewal_price_cents
    term = _term_seats_are_added_to(order)
    if term is None or order.covers_from != max(day, term.starts_on) or day > term.ends_on:
        return fulfilment.STALE  # prorated by day: a quote holds for the day it was made
    return seats * corporate.add_seats_quote(term, day)[0]


def reprice_corporate(order: Order, day: date) -> Order:
    """Price the open corporate order again for `day`, with the same seats (after "The price changed")."""
    actor = order.purchaser or order.organization.contact_user
    if order.purpose is OrderPurpose.CORPORATE_SEATS:
        return corporate.start_corporate_purchase(order.organization, order.seats, actor=actor,
                                                  membership_type=order.membership_type, day=day)
    if order.purpose is OrderPurpose.CORPORATE_ADD_SEATS:
        return corporate.start_add_seats(order.organization, order.seats, actor=actor, day=day)
    return corporate.start_corporate_renewal(order.organization, order.seats, actor=actor, day=day)


fulfilment.register(CORPORATE_PURPOSES, fulfilment.PurposeHandlers(
    fulfil=fulfil_corporate_order, refunded=None, price_on=corporate_price_on, reprice=reprice_corporate,
    receipt_details=corporate_receipt_details, is_membership=False))
