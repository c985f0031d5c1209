"""The events feature's background work: settling a cancelled event, expiring holds and offers."""
from __future__ import annotations

from datetime import timedelta

from chapter.jobs.queue import crontab, job, periodic


@job(retries=3, retry_delay=30)
def settle_cancelled_event(event_id: int) -> str:
    """Refund and tell every registrant of a cancelled event, fifty at a time, committing each batch."""
    from chapter.events import services
    from chapter.extensions import db

    total = 0
    while True:
        settled = services.settle_cancelled_event(event_id)
        db.session.commit()
        total += settled
        if settled == 0:
            return f"event {event_id}: {total} registrant(s) refunded and told"


@periodic(crontab(minute="*/5"), name="event_offers", label="Event holds and waitlist offers",
          every=timedelta(minutes=5), lock_seconds=600)
def event_offers():
    """Release unpaid holds and offers that ran out and offer the seats to the next on each waitlist; settle
    cancelled events whose job was lost."""
    import sqlalchemy as sa

    from chapter.events import registration, services
    from chapter.events.models import Event, EventStatus, Registration
    from chapter.extensions import db

    summary = registration.expire_holds_and_offers()
    db.session.commit()
    pending = db.session.scalars(sa.select(Event.id).where(Event.status == EventStatus.CANCELLED, Event.id.in_(
        sa.select(Registration.event_id).where(Registration.status.in_(services.LIVE))))).all()
    for event_id in pending:
        while services.settle_cancelled_event(event_id):
            db.session.commit()
    return (f"{summary.holds} hold(s) and {summary.offers} offer(s) expired, {summary.offered} seat(s) offered; "
            f"{len(pending)} cancelled event(s) settled"), None
