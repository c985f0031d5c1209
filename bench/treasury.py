"""Treasury: sync and match 100,000 Stripe balance transactions (fed to the matcher as the dicts Stripe
returns, not through localstripe), and the chapter remittance report over 500,000 payments.

The payments are bulk-inserted here (orders, payments, and the ledger entries fulfilment writes:
a charge and a chapter share each), spread over the seeded chapters and the last twelve months.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

from bench.common import Bench, log, median, percentile

PAYMENTS = 500_000
TRANSACTIONS = 100_000
SYNC_TARGET_S = 60
REPORT_TARGET_MS = 1000
STAFF = "staff@example.org"
BATCH = 20_000


def run(bench: Bench) -> None:
    with bench.app.app_context():
        _seed_payments(bench)
        _sync_and_match(bench)
        _remittance_report(bench)


def _seed_payments(bench: Bench) -> None:
    from chapter.chapters.models import Chapter
    from chapter.extensions import db
    from chapter.payments.models import Order, OrderPurpose, OrderStatus, Payment, PaymentStatus
    from chapter.treasury.models import LedgerEntry, LedgerKind

    if db.session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.stripe_charge_id.like("ch_bench_%"))):
        log("treasury: bench payments already there (--reuse)")
        return
    rng = random.Random(6)
    chapters = db.session.execute(sa.select(Chapter.id, Chapter.dues_share_cents)).all()
    weights = [1 / (i + 1) for i in range(len(chapters))]  # a few large chapters, many small
    now = datetime.utcnow().replace(microsecond=0)
    started = time.perf_counter()
    for start in range(0, PAYMENTS, BATCH):
        plan = []
        for i in range(start, min(PAYMENTS, start + BATCH)):
            chapter_id, share = rng.choices(chapters, weights)[0]
            paid_at = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
            plan.append((i, chapter_id, 21000, min(share or 3500, 21000), paid_at))
        order_ids = db.session.scalars(sa.insert(Order).returning(Order.id, sort_by_parameter_order=True), [
            dict(purpose=OrderPurpose.RENEWAL, status=OrderStatus.PAID, chapter_id=c, currency="USD", total_cents=a,
                 association_share_cents=a - s, chapter_share_cents=s, description="Bench renewal", fulfilled_at=t,
                 created_at=t, updated_at=t) for i, c, a, s, t in plan]).all()
        payment_ids = db.session.scalars(sa.insert(Payment).returning(Payment.id, sort_by_parameter_order=True), [
            dict(order_id=o, status=PaymentStatus.SUCCEEDED, amount_cents=a, currency="USD", association_share_cents=a - s,
                 chapter_share_cents=s, chapter_id=c, stripe_payment_intent_id=f"pi_bench_{i}", stripe_charge_id=f"ch_bench_{i}",
                 succeeded_at=t, created_at=t, updated_at=t) for o, (i, c, a, s, t) in zip(order_ids, plan)]).all()
        entries = []
        for p, (i, c, a, s, t) in zip(payment_ids, plan):
            entries.append(dict(kind=LedgerKind.CHARGE, booked_on=t.date(), amount_cents=a, currency="USD", chapter_id=c,
                                payment_id=p, description="Payment", created_at=now))
            entries.append(dict(kind=LedgerKind.CHAPTER_SHARE, booked_on=t.date(), amount_cents=s, currency="USD",
                                chapter_id=c, payment_id=p, description="Chapter share", created_at=now))
        db.session.execute(sa.insert(LedgerEntry), entries)
        db.session.commit()
    seconds = time.perf_counter() - started
    log(f"treasury: {PAYMENTS:,} payments and {2 * PAYMENTS:,} ledger entries inserted in {seconds:.1f} s")
    if bench.database == "postgresql":
        db.session.execute(sa.text("ANALYZE orders; ANALYZE payments; ANALYZE ledger_entries"))
    else:
        db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def _transactions() -> list[dict]:
    """What Stripe's list of balance transactions returns for the first 100,000 bench charges."""
    rng = random.Random(60)
    now = int(time.time())
    items = []
    for i in range(TRANSACTIONS):
        fee = 21000 * 29 // 1000 + 30
        items.append({"id": f"txn_bench_{i}", "object": "balance_transaction", "type": "charge", "source": f"ch_bench_{i}",
                      "amount": 21000, "fee": fee, "net": 21000 - fee, "currency": "usd",
                      "created": now - rng.randrange(365 * 86400), "status": "available"})
    return items


def _sync_and_match(bench: Bench) -> None:
    from chapter.extensions import db
    from chapter.treasury import sync
    from chapter.treasury.models import LedgerEntry, StripeBalanceTransaction

    db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.stripe_balance_transaction_id.like("txn_bench_%")))
    db.session.execute(sa.delete(StripeBalanceTransaction).where(StripeBalanceTransaction.id.like("txn_bench_%")))
    db.session.commit()
    items = _transactions()
    started = time.perf_counter()
    added, exceptions = sync.ingest_balance_transactions(items)
    db.session.commit()
    seconds = time.perf_counter() - started
    bench.emit("treasury_sync_match_100k_s", seconds, "s", SYNC_TARGET_S, transactions=TRANSACTIONS, added=added,
               exceptions=exceptions, per_1000_ms=round(seconds * 1000 / (TRANSACTIONS / 1000), 1))
    assert added == TRANSACTIONS and exceptions == 0, (added, exceptions)
    started = time.perf_counter()
    again, _ = sync.ingest_balance_transactions(items)
    db.session.commit()
    bench.emit("treasury_sync_second_run_100k_s", time.perf_counter() - started, "s", SYNC_TARGET_S, added=again)
    assert again == 0


def _remittance_report(bench: Bench) -> None:
    from chapter.chapters.models import Chapter
    from chapter.extensions import db
    from chapter.treasury import reports
    from chapter.treasury.models import LedgerEntry

    number, chapter_id, payments = db.session.execute(
        sa.select(Chapter.number, Chapter.id, sa.func.count()).join(LedgerEntry, LedgerEntry.chapter_id == Chapter.id)
        .group_by(Chapter.number, Chapter.id).order_by(sa.func.count().desc()).limit(1)).one()
    today = datetime.utcnow().date()
    start, end = today - timedelta(days=365), today
    chapter = db.session.get(Chapter, chapter_id)
    timings = []
    for _ in range(bench.warmup + bench.repeat):
        began = time.perf_counter()
        reports.remittance_report(chapter, start, end)
        timings.append((time.perf_counter() - began) * 1000)
    timings = timings[bench.warmup:]
    bench.emit("treasury_remittance_report_service_ms", median(timings), "ms", REPORT_TARGET_MS,
               p95_ms=round(percentile(timings, 0.95), 1), chapter=number, chapter_ledger_entries=payments,
               payments_in_database=PAYMENTS)
    client = bench.client(STAFF)
    url = f"/treasury/chapters/{number}?from={start.isoformat()}&to={end.isoformat()}"
    timings = []
    for _ in range(bench.warmup + bench.repeat):
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    timings = timings[bench.warmup:]
    bench.emit("treasury_remittance_page_ms", median(timings), "ms", REPORT_TARGET_MS,
               p95_ms=round(percentile(timings, 0.95), 1), chapter=number, url=url)
