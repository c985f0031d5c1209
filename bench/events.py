"""Events: 500 members registering for the same 100-seat event at once (PostgreSQL: the event row lock), then
paying: exactly 100 paid, the rest waitlisted, no seat sold twice.

- `events_register_p50_ms` / `_p95_ms`: one registration (lock, count, hold or waitlist, order, mail row)
  under that contention, `events_registrations_per_second` over the whole burst;
- `events_paid`, `events_waitlisted`, `events_oversold` (must be 0): after the 100 held seats are paid
  (offline payments recorded by staff: the real fulfilment, ledger and confirmation, without Stripe's latency).

The event, its registrations, orders and the users made here are deleted afterwards.
"""
from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import sqlalchemy as sa

from bench.common import Bench, log, median, percentile

REGISTRANTS = int(os.environ.get("BENCH_EVENTS_REGISTRANTS", "500"))
SEATS = 100
THREADS = int(os.environ.get("BENCH_EVENTS_THREADS", "16"))


def run(bench: Bench) -> None:
    from chapter.extensions import db

    with bench.app.app_context():
        event_id, user_ids, staff_id = _prepare()
    try:
        timings, outcomes, seconds = _burst(bench, event_id, user_ids)
        bench.emit("events_register_p50_ms", median(timings), "ms", registrants=REGISTRANTS, seats=SEATS,
                   threads=THREADS)
        bench.emit("events_register_p95_ms", percentile(timings, 0.95), "ms", registrants=REGISTRANTS, seats=SEATS,
                   threads=THREADS)
        bench.emit("events_registrations_per_second", REGISTRANTS / seconds, "1/s", threads=THREADS)
        _pay_all(bench, event_id, staff_id)
        with bench.app.app_context():
            counts = _counts(event_id)
        log(f"events: outcomes {dict((k, outcomes.count(k)) for k in set(outcomes))}; final {counts}")
        bench.emit("events_paid", counts.get("paid", 0), "registrations", target=SEATS)
        bench.emit("events_waitlisted", counts.get("waitlisted", 0), "registrations", target=REGISTRANTS - SEATS)
        bench.emit("events_oversold", max(0, counts.get("paid", 0) - SEATS), "seats", target=0)
    finally:
        with bench.app.app_context():
            _cleanup(event_id, user_ids)
            db.session.commit()


def _prepare():
    from werkzeug.security import generate_password_hash

    from chapter.auth.models import User
    from chapter.chapters.models import Chapter
    from chapter.core.models import utcnow
    from chapter.events.models import Event, EventPrice, EventSession, EventStatus, PriceCategory, RefundTier
    from chapter.extensions import db
    from chapter.members.models import Member

    chapter = db.session.scalar(sa.select(Chapter).order_by(Chapter.number))
    starts = utcnow() + timedelta(days=30)
    event = Event(chapter_id=chapter.id, title="Bench: the 100-seat meeting", timezone="America/New_York",
                  currency=chapter.currency, starts_at=starts, ends_at=starts + timedelta(hours=2), venue="Bench hall",
                  capacity=SEATS, status=EventStatus.PUBLISHED, published_at=utcnow() - timedelta(days=1))
    event.sessions.append(EventSession(position=1, starts_at=starts, ends_at=starts + timedelta(hours=2)))
    event.prices += [EventPrice(category=PriceCategory.MEMBER, amount_cents=2500),
                     EventPrice(category=PriceCategory.NON_MEMBER, amount_cents=4000)]
    event.refund_tiers.append(RefundTier(days_before=7, percent=100))
    db.session.add(event)
    members = db.session.scalars(sa.select(Member).where(Member.user_id.is_(None)).order_by(Member.id)
                                 .limit(REGISTRANTS)).all()
    password = generate_password_hash("bench-events", method="pbkdf2:sha256:1000")
    users = [User(email=f"bench-events-{m.id}@example.org", name=m.full_name, password_hash=password) for m in members]
    db.session.add_all(users)
    db.session.flush()
    for member, user in zip(members, users):
        member.user_id = user.id
    staff = User(email="bench-events-staff@example.org", name="Bench Staff", password_hash=password, is_staff=True)
    db.session.add(staff)
    db.session.commit()
    return event.id, [u.id for u in users] + [staff.id], staff.id


def _burst(bench: Bench, event_id: int, user_ids: list[int]):
    from chapter.auth.models import User
    from chapter.events import registration as registrations
    from chapter.events.models import Event
    from chapter.extensions import db

    queue = list(user_ids[:-1])
    lock = threading.Lock()
    timings: list[float] = []
    outcomes: list[str] = []
    start = threading.Barrier(THREADS)

    def worker():
        start.wait()
        while True:
            with lock:
                if not queue:
                    return
                user_id = queue.pop()
            with bench.app.app_context():
                began = time.perf_counter()
                try:
                    made = registrations.register(db.session.get(Event, event_id), user=db.session.get(User, user_id))
                    db.session.commit()
                    outcome = made.status.value
                except Exception as error:  # noqa: BLE001  (a figure, not a crash: counted as an error)
                    db.session.rollback()
                    outcome = f"error: {type(error).__name__}"
                finally:
                    db.session.remove()
                with lock:
                    timings.append((time.perf_counter() - began) * 1000)
                    outcomes.append(outcome)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, outcomes, time.perf_counter() - began


def _pay_all(bench: Bench, event_id: int, staff_id: int) -> None:
    """Each held seat paid at once, from as many threads: each order fulfilled once."""
    from chapter.auth.models import User
    from chapter.core.models import today
    from chapter.events.models import Registration, RegistrationStatus
    from chapter.extensions import db
    from chapter.payments.models import Order
    from chapter.payments.services import record_offline_payment

    with bench.app.app_context():
        order_ids = db.session.scalars(sa.select(Registration.order_id).where(
            Registration.event_id == event_id, Registration.status == RegistrationStatus.PENDING)).all()
    queue, lock = list(order_ids), threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                order_id = queue.pop()
            with bench.app.app_context():
                try:
                    order = db.session.get(Order, order_id)
                    record_offline_payment(order, amount_cents=order.total_cents, received_on=today(),
                                           reference=f"bench {order_id}", actor=db.session.get(User, staff_id))
                    db.session.commit()
                except Exception as error:  # noqa: BLE001
                    db.session.rollback()
                    log(f"events: paying order {order_id} failed: {error}")
                finally:
                    db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _counts(event_id: int) -> dict[str, int]:
    from chapter.events.models import Registration
    from chapter.extensions import db

    return {status.value: count for status, count in db.session.execute(
        sa.select(Registration.status, sa.func.count()).where(Registration.event_id == event_id)
        .group_by(Registration.status))}


def _cleanup(event_id: int, user_ids: list[int]) -> None:
    """Remove what the group made (so other groups see the seeded data only)."""
    from chapter.auth.models import User
    from chapter.core.audit import AuditEntry
    from chapter.events.models import Event, Registration
    from chapter.extensions import db
    from chapter.jobs.models import OutboxMail
    from chapter.members.models import Member
    from chapter.payments.models import Order, OrderLine, Payment
    from chapter.treasury.models import LedgerEntry

    order_ids = sa.select(Registration.order_id).where(Registration.event_id == event_id,
                                                       Registration.order_id.is_not(None))
    payment_ids = sa.select(Payment.id).where(Payment.order_id.in_(order_ids))
    db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.payment_id.in_(payment_ids)))
    ids = db.session.scalars(order_ids).all()
    db.session.execute(sa.delete(Registration).where(Registration.event_id == event_id))
    db.session.execute(sa.delete(Payment).where(Payment.order_id.in_(ids)))
    db.session.execute(sa.delete(OrderLine).where(OrderLine.order_id.in_(ids)))
    db.session.execute(sa.delete(Order).where(Order.id.in_(ids)))
    db.session.execute(sa.delete(Event).where(Event.id == event_id))
    db.session.execute(sa.update(Member).where(Member.user_id.in_(user_ids)).values(user_id=None))
    db.session.execute(sa.delete(AuditEntry).where(AuditEntry.actor_id.in_(user_ids)))
    db.session.execute(sa.delete(OutboxMail).where(OutboxMail.template.like("event_%")))
    db.session.execute(sa.delete(User).where(User.id.in_(user_ids)))
