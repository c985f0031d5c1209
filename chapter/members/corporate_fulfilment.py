"""Corporate orders in the payments fulfilment registry: paying gives the organization its corporate
membership, more seats, or the next term for every seat (chapter/members/corporate.py)."""
from __future__ import annotations

from chapter.members.corporate import fulfil_corporate_order
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


fulfilment.register(CORPORATE_PURPOSES, fulfilment.PurposeHandlers(
    fulfil=fulfil_corporate_order, receipt_details=corporate_receipt_details, is_membership=False))
