"""Batch commands: `flask --app wsgi renewals run` (reminders and automatic renewal)."""
from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from chapter.core.models import today

renewals_cli = AppGroup("renewals", help="Renewal reminders and automatic renewal.")

REMINDER_LABELS = {"60_days": "60 days", "30_days": "30 days", "7_days": "7 days", "ended": "ended",
                   "grace_ended": "grace ended"}


def register_payment_commands(app: Flask) -> None:
    """Attach the payment commands to the app's CLI."""
    app.cli.add_command(renewals_cli)


@renewals_cli.command("run")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Act as on this day (YYYY-MM-DD). Default: today (UTC).")
@click.option("--within-days", default=14, show_default=True, type=click.IntRange(0, 90),
              help="Charge auto-renewing members whose membership ends within this many days.")
@click.option("--no-charge", is_flag=True, help="Charge nobody: only count who automatic renewal would charge.")
@click.option("--no-reminders", is_flag=True, help="Send no reminder e-mails.")
def run_command(day, within_days: int, no_charge: bool, no_reminders: bool):
    """Charge automatic renewals that are due, then send the reminders due; safe to run more than once a day."""
    from chapter.payments import renewals

    day: date = day.date() if day else today()
    click.echo(f"Renewals for {day:%Y-%m-%d}")
    # Charges first: a member renewed now is no longer due a reminder.
    with click.progressbar(length=renewals.count_auto_renew_candidates(day, within_days),
                           label="Automatic renewal", show_pos=True) as bar:
        charging = renewals.auto_renew(day, within_days, dry_run=no_charge, progress=bar.update)
    reminders = None
    if not no_reminders:
        with click.progressbar(length=renewals.count_reminders_due(day), label="Reminders", show_pos=True) as bar:
            reminders = renewals.send_reminders(day, progress=bar.update)

    if no_charge:
        click.echo(f"Automatic renewal (not charged): {charging.due} due, {charging.skipped} not due, "
                   f"{charging.waiting_for_notice} waiting for the 7-day notice")
    else:
        click.echo(f"Automatic renewal: {charging.charged} charged, {charging.failed} failed, "
                   f"{charging.switched_off} switched off, {charging.skipped} skipped, "
                   f"{charging.waiting_for_notice} waiting for the 7-day notice")
    if charging.in_flight:
        click.echo(f"  Unsettled charges, not retried (check them in the payments list): {', '.join(charging.in_flight)}")
    if reminders is not None:
        by_kind = ", ".join(f"{REMINDER_LABELS[kind]} {reminders.sent[kind]}" for kind in renewals.REMINDER_KINDS)
        click.echo(f"Reminders: {reminders.total_sent} sent ({by_kind}), {reminders.skipped} skipped (no e-mail address)")
        click.echo(f"Notices 7 days before an automatic charge: {reminders.sent['charge_notice']} sent")
    errors = charging.errors + (reminders.errors if reminders else [])
    for error in errors:
        click.echo(f"  Member {error.member_number}: {error.message}", err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} member(s) could not be processed; the others were.")
