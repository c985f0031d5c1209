"""The payments and treasury features' seed: last month's payments, refunds, ledger and payout (demo)."""
from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from chapter.chapters.models import Chapter
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.members.models import Member, MembershipType


def seed_demo_treasury_month(rng: random.Random, day: date, payments: int = 120) -> None:
    """Last month's money to reconcile: renewals paid by card, three refunds, their ledger entries,
    the Stripe balance transactions (with fees) and one payout that balances. Bulk inserts only."""
    from datetime import datetime

    from chapter.payments.models import Order, OrderPurpose, OrderStatus, Payment, PaymentStatus, Refund
    from chapter.treasury.models import LedgerEntry, LedgerKind, MatchStatus, StripeBalanceTransaction, StripePayout

    members = db.session.execute(sa.select(Member.id, Member.home_chapter_id, Chapter.dues_share_cents, Member.current_type_id)
                                 .join(Chapter, Member.home_chapter_id == Chapter.id).order_by(Member.id).limit(payments)).all()
    if not members:
        return
    price = {t.id: t.renewal_price_cents for t in db.session.scalars(sa.select(MembershipType))}
    first = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    now = utcnow()
    orders, plan = [], []
    for index, (member_id, chapter_id, share, type_id) in enumerate(members):
        amount = price.get(type_id) or 21000
        share = min(share, amount)
        paid_at = datetime.combine(first + timedelta(days=rng.randrange(27)), datetime.min.time()) + timedelta(hours=rng.randrange(8, 20))
        plan.append((member_id, chapter_id, amount, share, paid_at))
        orders.append(dict(purpose=OrderPurpose.RENEWAL, status=OrderStatus.PAID, member_id=member_id, chapter_id=chapter_id,
                           membership_type_id=type_id, currency="USD", total_cents=amount, association_share_cents=amount - share,
                           chapter_share_cents=share, description="Membership renewal (demo)", fulfilled_at=paid_at,
                           created_at=paid_at, updated_at=paid_at))
    order_ids = db.session.scalars(sa.insert(Order).returning(Order.id, sort_by_parameter_order=True), orders).all()
    payment_rows = [dict(order_id=order_id, status=PaymentStatus.SUCCEEDED, amount_cents=amount, currency="USD",
                         association_share_cents=amount - share, chapter_share_cents=share, chapter_id=chapter_id,
                         stripe_payment_intent_id=f"pi_demo_{order_id}", stripe_charge_id=f"ch_demo_{order_id}",
                         card_brand="visa", card_last4="4242", succeeded_at=paid_at, created_at=paid_at, updated_at=paid_at)
                    for order_id, (_, chapter_id, amount, share, paid_at) in zip(order_ids, plan)]
    for i in (3, 17, 42):
        if i < len(payment_rows):
            payment_rows[i].update(status=PaymentStatus.PARTIALLY_REFUNDED, refunded_cents=payment_rows[i]["amount_cents"] // 2)
    payment_ids = db.session.scalars(sa.insert(Payment).returning(Payment.id, sort_by_parameter_order=True), payment_rows).all()
    refunded = {payment_ids[i]: payment_rows[i] for i in (3, 17, 42) if i < len(payment_ids)}
    refund_rows = [dict(payment_id=pid, amount_cents=row["amount_cents"] // 2,
                        chapter_share_cents=row["chapter_share_cents"] // 2,
                        association_share_cents=row["amount_cents"] // 2 - row["chapter_share_cents"] // 2,
                        reason="Paid twice by mistake (demo)", stripe_refund_id=f"re_demo_{pid}",
                        created_at=row["succeeded_at"] + timedelta(days=1)) for pid, row in refunded.items()]
    refund_ids = db.session.scalars(sa.insert(Refund).returning(Refund.id, sort_by_parameter_order=True), refund_rows).all() if refund_rows else []
    entries, transactions = [], []
    payout_id = f"po_demo_{first:%Y%m}"
    for pid, row in zip(payment_ids, payment_rows):
        booked = row["succeeded_at"].date()
        entries.append(dict(kind=LedgerKind.CHARGE, booked_on=booked, amount_cents=row["amount_cents"], currency="USD",
                            chapter_id=row["chapter_id"], payment_id=pid, description="Payment (demo)", created_at=now))
        if row["chapter_share_cents"]:
            entries.append(dict(kind=LedgerKind.CHAPTER_SHARE, booked_on=booked, amount_cents=row["chapter_share_cents"],
                                currency="USD", chapter_id=row["chapter_id"], payment_id=pid, description="Chapter share (demo)",
                                created_at=now))
        fee = row["amount_cents"] * 29 // 1000 + 30
        transactions.append(dict(id=f"txn_demo_ch_{pid}", type="charge", source_id=row["stripe_charge_id"],
                                 payment_intent_id=row["stripe_payment_intent_id"], amount_cents=row["amount_cents"], fee_cents=fee,
                                 net_cents=row["amount_cents"] - fee, currency="USD", created=row["succeeded_at"], payout_id=payout_id,
                                 payment_id=pid, status=MatchStatus.MATCHED, synced_at=now))
        entries.append(dict(kind=LedgerKind.STRIPE_FEE, booked_on=booked, amount_cents=-fee, currency="USD", payment_id=pid,
                            stripe_balance_transaction_id=f"txn_demo_ch_{pid}", description="Stripe fee (demo)", created_at=now))
    for refund_id, row in zip(refund_ids, refund_rows):
        booked = row["created_at"].date()
        chapter_id = refunded[row["payment_id"]]["chapter_id"]
        entries.append(dict(kind=LedgerKind.REFUND, booked_on=booked, amount_cents=-row["amount_cents"], currency="USD",
                            chapter_id=chapter_id, payment_id=row["payment_id"], refund_id=refund_id, description="Refund (demo)",
                            created_at=now))
        entries.append(dict(kind=LedgerKind.CHAPTER_SHARE, booked_on=booked, amount_cents=-row["chapter_share_cents"], currency="USD",
                            chapter_id=chapter_id, payment_id=row["payment_id"], refund_id=refund_id,
                            description="Chapter share refunded (demo)", created_at=now))
        transactions.append(dict(id=f"txn_demo_re_{refund_id}", type="refund", source_id=row["stripe_refund_id"], payment_intent_id=None,
                                 amount_cents=-row["amount_cents"], fee_cents=0, net_cents=-row["amount_cents"], currency="USD",
                                 created=row["created_at"], payout_id=payout_id, payment_id=row["payment_id"], refund_id=refund_id,
                                 status=MatchStatus.MATCHED, synced_at=now))
    payout_cents = sum(t["net_cents"] for t in transactions)
    paid_out = datetime.combine(first.replace(day=28), datetime.min.time())
    db.session.execute(sa.insert(StripePayout), [dict(id=payout_id, amount_cents=payout_cents, currency="USD", status="paid",
                                                      arrival_date=paid_out.date() + timedelta(days=2), created=paid_out, synced_at=now)])
    entries.append(dict(kind=LedgerKind.PAYOUT, booked_on=paid_out.date(), amount_cents=-payout_cents, currency="USD",
                        stripe_payout_id=payout_id, description=f"Payout {payout_id} to the bank (demo)", created_at=now))
    db.session.execute(sa.insert(StripeBalanceTransaction), transactions)
    db.session.execute(sa.insert(LedgerEntry), entries)
