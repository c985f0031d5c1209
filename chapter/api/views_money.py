"""A chapter's payments and refunds, for its treasurers (scope payments:read, positions with can_view_finances)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.api import access, bp
from chapter.api.cursor import keyset_page
from chapter.api.schemas import CursorPageArgs, PaymentPageSchema, RefundPageSchema
from chapter.api.views import needs_token
from chapter.members.models import Member
from chapter.payments.models import Order, Payment, Refund


@bp.get("/chapters/<int:number>/payments")
@bp.arguments(CursorPageArgs, location="query")
@bp.response(200, PaymentPageSchema)
@needs_token(403, 404, 422)
def payments(args, number: int):
    """The chapter's payments, newest first (scope payments:read)."""
    chapter = access.chapter_for(number, "payments:read")
    statement = (sa.select(Payment).options(joinedload(Payment.order).joinedload(Order.member).load_only(Member.member_number))
                 .where(Payment.chapter_id == chapter.id))
    items, next_cursor = keyset_page(statement, (Payment.id,), args.get("cursor"), (int,), args["limit"],
                                     descending=True, key_of=lambda p: (p.id,))
    return {"items": items, "next_cursor": next_cursor}


@bp.get("/chapters/<int:number>/refunds")
@bp.arguments(CursorPageArgs, location="query")
@bp.response(200, RefundPageSchema)
@needs_token(403, 404, 422)
def refunds(args, number: int):
    """Refunds of the chapter's payments, newest first (scope payments:read)."""
    chapter = access.chapter_for(number, "payments:read")
    statement = (sa.select(Refund).join(Payment, Refund.payment_id == Payment.id)
                 .options(joinedload(Refund.payment)).where(Payment.chapter_id == chapter.id))
    items, next_cursor = keyset_page(statement, (Refund.id,), args.get("cursor"), (int,), args["limit"],
                                     descending=True, key_of=lambda r: (r.id,))
    return {"items": items, "next_cursor": next_cursor}
