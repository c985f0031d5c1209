"""Events at the door: an event with 2,000 registrations.

- `event_registrations_page_p50_ms` (target 50 ms): the officers' registrations page (first page by name),
  `..._search_p50_ms` (a name search) and `..._checked_in_p50_ms` (the checked-in filter sorted by check-in);
- `event_door_list_p50_ms`: the phone check-in list;
- `event_check_in_p50_ms` (target 30 ms): one tap on the door list checks in one attendee (a different one
  each run, so every timed request really writes), and `event_ticket_check_in_p50_ms` through a ticket's link;
- `event_registrations_csv_ms`: the CSV export of the 2,000 rows.
Each is the test client's time for the whole request in process (routing, SQL, templates), after a warm-up.
"""
from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

from bench.common import Bench, log, measure, median, percentile
from bench.mix import STAFF
from bench.roster import _time_page

REGISTRATIONS = 2000
PAGE_TARGET_MS = 50
CHECK_IN_TARGET_MS = 30


def _seed_event(bench: Bench) -> tuple[int, list[tuple[int, str]]]:
    """A published meeting of the first chapter, under way, with 2,000 confirmed registrations (a third checked in)."""
    from chapter.chapters.models import Chapter
    from chapter.core.models import utcnow
    from chapter.events.models import (Event, EventPrice, EventSession, EventStatus, PriceCategory, Registration,
                                       RegistrationStatus, new_ticket_code)
    from chapter.extensions import db
    from chapter.members.models import Member

    with bench.app.app_context():
        chapter = db.session.scalars(sa.select(Chapter).order_by(Chapter.number)).first()
        start = utcnow() - timedelta(minutes=30)
        event = Event(chapter_id=chapter.id, title="Bench PDM: 2,000 registrants", starts_at=start,
                      ends_at=start + timedelta(hours=2), timezone=chapter.timezone or "America/New_York",
                      currency=chapter.currency, status=EventStatus.PUBLISHED, published_at=utcnow(), capacity=None,
                      venue="Convention centre, hall A")
        event.sessions.append(EventSession(position=1, starts_at=start, ends_at=start + timedelta(hours=2),
                                           instructional_hours=2))
        event.prices.append(EventPrice(category=PriceCategory.MEMBER, amount_cents=2500))
        db.session.add(event)
        db.session.flush()
        members = db.session.execute(sa.select(Member.id, Member.first_name, Member.last_name, Member.email)
                                     .order_by(Member.id).limit(REGISTRATIONS)).all()
        now = utcnow()
        rows = []
        for n in range(REGISTRATIONS):
            member = members[n] if n < len(members) else None
            rows.append(dict(event_id=event.id, member_id=member.id if member else None,
                             name=f"{member.first_name} {member.last_name}" if member else f"Visitor {n}",
                             email=member.email if member else f"visitor{n}@example.org",
                             category=PriceCategory.MEMBER, price_cents=2500, currency=event.currency,
                             status=RegistrationStatus.PAID, ticket_code=new_ticket_code(), paid_at=now,
                             created_at=now - timedelta(days=10, minutes=n),
                             checked_in_at=now if n % 3 == 0 else None))
        db.session.execute(sa.insert(Registration), rows)
        db.session.commit()
        # Fresh planner statistics for the 2,000 new rows, as autovacuum would give them soon after.
        db.session.execute(sa.text("ANALYZE event_registrations"))
        db.session.commit()
        waiting = db.session.execute(sa.select(Registration.id, Registration.ticket_code).where(
            Registration.event_id == event.id, Registration.checked_in_at.is_(None)).order_by(Registration.id)).all()
        event_id = event.id
        db.session.remove()
    log(f"event_door: event {event_id} with {REGISTRATIONS} registrations, {len(waiting)} not checked in")
    return event_id, [tuple(row) for row in waiting]


def _time_posts(bench: Bench, client, name: str, urls: list[str], target: float | None) -> None:
    """POST each url once (a different attendee each time): the first `warmup` untimed; wall and CPU time."""
    queue = iter(urls)
    cpu_ms: list[float] = []
    sql_ms: list[float] = []

    def post() -> None:
        cpu = time.process_time()
        with bench.recorder.capture() as queries:
            response = client.post(next(queue))
        cpu_ms.append((time.process_time() - cpu) * 1000)
        sql_ms.append(sum(q.ms for q in queries))
        if response.status_code != 302:
            raise RuntimeError(f"check-in answered HTTP {response.status_code}")

    timings = measure(post, bench.repeat, bench.warmup)
    bench.emit(f"{name}_p50_ms", median(timings), "ms", target, registrations=REGISTRATIONS,
               cpu_ms=round(median(cpu_ms[bench.warmup:]), 2), sql_execute_ms=round(median(sql_ms[bench.warmup:]), 2))
    bench.emit(f"{name}_p95_ms", percentile(timings, 0.95), "ms", None, registrations=REGISTRATIONS)


def run(bench: Bench) -> None:
    event_id, waiting = _seed_event(bench)
    staff = bench.client(STAFF)
    base = f"/events/{event_id}"
    _time_page(bench, staff, "event_registrations_page", f"{base}/registrations", target=PAGE_TARGET_MS,
               registrations=REGISTRATIONS)
    _time_page(bench, staff, "event_registrations_search", f"{base}/registrations?q=smith", target=PAGE_TARGET_MS,
               registrations=REGISTRATIONS)
    _time_page(bench, staff, "event_registrations_checked_in", f"{base}/registrations?filter=checked_in&sort=checked_in",
               target=PAGE_TARGET_MS, registrations=REGISTRATIONS)
    _time_page(bench, staff, "event_door_list", f"{base}/door", target=PAGE_TARGET_MS, registrations=REGISTRATIONS)
    runs = bench.repeat + bench.warmup
    taps = [f"{base}/registrations/{registration_id}/check-in" for registration_id, _code in waiting[:runs]]
    _time_posts(bench, staff, "event_check_in", taps, CHECK_IN_TARGET_MS)
    links = [f"/t/{code}" for _id, code in waiting[runs:2 * runs]]
    _time_posts(bench, staff, "event_ticket_check_in", links, CHECK_IN_TARGET_MS)
    started = time.perf_counter()
    exported = staff.post(f"{base}/registrations.csv")
    rows = exported.get_data(as_text=True).count("\n") - 1
    bench.emit("event_registrations_csv_ms", (time.perf_counter() - started) * 1000, "ms", None, rows=rows)
