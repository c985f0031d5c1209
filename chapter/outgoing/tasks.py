"""The outgoing webhooks' background tasks (imported by chapter.jobs.tasks, the worker's registry)."""
from __future__ import annotations

from datetime import timedelta

from chapter.jobs.queue import crontab, job, periodic


@job(retries=2, retry_delay=10)
def deliver_webhook(delivery_id: int) -> str:
    """Post one outgoing webhook delivery; the row decides the back-off, not Huey."""
    from chapter.outgoing import deliveries

    return deliveries.deliver(delivery_id)


@periodic(crontab(), name="webhook_sweep", label="Webhook sweep (due deliveries whose job was lost)",
          every=timedelta(minutes=1), lock_seconds=300, records_runs=False)
def sweep_webhooks() -> str:
    """Queue again deliveries that are overdue or whose worker died mid-send."""
    from chapter.outgoing import deliveries

    return f"{deliveries.sweep()} webhook delivery(ies) queued again"


@periodic(crontab(minute="45", hour="6"), name="member_lapses", label="Lapsed members (member.lapsed webhooks)",
          every=timedelta(days=1), lock_seconds=3600)
def member_lapses() -> str:
    """Publish member.lapsed for members whose grace ended yesterday, once a day at 06:45 UTC (after renewals)."""
    from chapter.core.models import today
    from chapter.extensions import db
    from chapter.outgoing import lapses

    day = today()
    count = lapses.publish_lapses(day)
    db.session.commit()
    return f"{day:%Y-%m-%d}: {count} lapse(s) published"
