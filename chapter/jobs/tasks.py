"""Every background task of the worker, in one place (the registry the worker loads).

To add one (events reminders, member messages, outgoing webhooks), follow the outbox:
1. write a row in the caller's transaction that says what must happen (an `OutboxMail`, a webhook
   delivery row) — never do the outside work in the request;
2. define the job here with `@job(...)`: it takes the row's key (plain values only), *claims* the
   row with one conditional UPDATE (so a second prompt, or a second worker, does nothing), does the
   work, and records the outcome;
3. queue it with `enqueue_after_commit(task, key)` from the service, and let a periodic sweep queue
   again rows whose prompt was lost (a worker killed, Redis flushed).
Periodic work uses `@periodic(crontab(...), name=..., label=..., every=...)`: it runs under a lock,
once per period across every worker, and each run is recorded for the staff page (/admin/jobs).
See docs/jobs.md.
"""
from __future__ import annotations

from datetime import timedelta

from chapter.jobs.queue import crontab, job, periodic


@job(retries=3, retry_delay=10)
def deliver_mails(message_ids: list[str]) -> str:
    """Deliver outbox mails (those committed together) over one connection; failures retry with back-off."""
    from chapter.jobs import outbox

    return ", ".join(f"{count} {outcome}" for outcome, count in outbox.deliver_batch(message_ids).items())


@job(retries=3, retry_delay=10)
def deliver_mail(message_id: str) -> str:
    """Deliver one outbox mail (a prompt for a single row)."""
    from chapter.jobs import outbox

    return ", ".join(f"{count} {outcome}" for outcome, count in outbox.deliver_batch([message_id]).items())


@periodic(crontab(), name="outbox_sweep", label="Outbox sweep (mail whose delivery job was lost)",
          every=timedelta(minutes=1), lock_seconds=300, records_runs=False)
def sweep_outbox() -> str:
    """Queue again mail that is overdue or whose worker died mid-send."""
    from chapter.jobs import outbox

    return f"{outbox.sweep()} mail(s) queued again"


@job(retries=3, retry_delay=30)
def send_member_message(message_id: int) -> str:
    """Write the mail of an officer's message to its frozen audience, in batches (communications)."""
    from chapter.communications import sending

    return sending.send_message(message_id)


@periodic(crontab(), name="member_messages", label="Member messages (scheduled ones due, and ones a dead worker left)",
          every=timedelta(minutes=1), lock_seconds=900, records_runs=False)
def member_messages_due() -> str:
    """Send the officers' messages whose time has come; each message is claimed, so it goes out once."""
    from chapter.communications import sending

    return sending.send_due_messages()


@periodic(crontab(minute="5"), name="event_reminders", label="Event reminders (a week and a day before)",
          every=timedelta(hours=1), lock_seconds=1800)
def event_reminders():
    """Mail each confirmed registrant a week and a day before their event, each reminder once (hourly at :05)."""
    from chapter.core.models import utcnow
    from chapter.events import reminders
    from chapter.extensions import db

    run = reminders.send_due_reminders(utcnow())
    db.session.commit()
    return f"{run.sent['week']} week and {run.sent['day']} day reminder(s) sent"


@periodic(crontab(minute="0", hour="6"), name="renewals", label="Automatic renewal and renewal reminders",
          every=timedelta(days=1), lock_seconds=6 * 3600)
def renewals_daily():
    """What `flask --app wsgi renewals run` does, once a day at 06:00 UTC."""
    from chapter.core.models import today
    from chapter.payments import renewals

    day = today()
    charging = renewals.auto_renew(day)
    reminders = renewals.send_reminders(day)
    errors = charging.errors + reminders.errors
    summary = (f"{day:%Y-%m-%d}: {charging.charged} charged, {charging.failed} failed, "
               f"{charging.switched_off} switched off, {len(charging.in_flight)} unsettled, "
               f"{charging.waiting_for_notice} waiting for the 7-day notice; "
               f"{reminders.total_sent} reminder(s) sent, {reminders.skipped} skipped")
    failed = "; ".join(f"member {e.member_number}: {e.message}" for e in errors)
    return summary, (f"{len(errors)} member(s) not processed: {failed}" if errors else None)


@periodic(crontab(minute="30", hour="6"), name="corporate_renewals",
          label="Corporate renewals (automatic renewal, reminders and lapse notices to company contacts)",
          every=timedelta(days=1), lock_seconds=6 * 3600)
def corporate_renewals_daily():
    """What `flask --app wsgi corporate renewals` does, once a day at 06:30 UTC."""
    from chapter.core.models import today
    from chapter.members import corporate_renewals

    day = today()
    charged = corporate_renewals.auto_renew_organizations(day)
    notices = corporate_renewals.send_corporate_notices(day)
    errors = charged.errors + notices.errors
    summary = (f"{day:%Y-%m-%d}: {charged.renewed} renewed, {charged.failed} declined, "
               f"{charged.waiting_for_notice} waiting for the 7-day notice; "
               f"{sum(notices.sent.values())} notice(s) sent")
    return summary, ("; ".join(errors) if errors else None)


@periodic(crontab(minute="15"), name="stripe_sync", label="Stripe sync (balance transactions, payouts, events)",
          every=timedelta(hours=1), lock_seconds=3600)
def stripe_sync():
    """What `flask --app wsgi stripe sync` does, every hour at :15."""
    from flask import current_app

    from chapter.extensions import db
    from chapter.treasury import sync

    if not current_app.config.get("STRIPE_SECRET_KEY"):
        return "Stripe is not configured (STRIPE_SECRET_KEY); nothing synced"
    report = sync.sync_stripe()
    db.session.commit()
    return (f"{report.balance_transactions} balance transactions, {report.payouts} payouts, {report.events} events; "
            f"{report.exceptions} exception(s) to review")


from chapter.outgoing import tasks as _outgoing_tasks  # noqa: E402,F401  (outgoing webhooks: deliveries, sweep, lapses)
