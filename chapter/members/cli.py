"""Batch commands: `flask --app wsgi corporate renewals` (the company contacts' reminders, automatic renewal, lapse notices)."""
from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from chapter.core.models import today

corporate_cli = AppGroup("corporate", help="Corporate memberships: renewals for the organizations.")


def register_member_commands(app: Flask) -> None:
    """Attach the member commands to the app's CLI."""
    app.cli.add_command(corporate_cli)


@corporate_cli.command("renewals")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Act as on this day (YYYY-MM-DD). Default: today (UTC).")
@click.option("--no-charge", is_flag=True, help="Charge no organization: only send the notices.")
def renewals_command(day, no_charge: bool):
    """Renew organizations with automatic renewal, then e-mail the 60/30/7-day reminders and lapse notices due."""
    from chapter.members import corporate_renewals

    day: date = day.date() if day else today()
    click.echo(f"Corporate renewals for {day:%Y-%m-%d}")
    charged = corporate_renewals.CorporateRunSummary() if no_charge else corporate_renewals.auto_renew_organizations(day)
    notices = corporate_renewals.send_corporate_notices(day)
    click.echo(f"Automatic renewal: {charged.renewed} renewed, {charged.failed} declined, "
               f"{charged.waiting_for_notice} waiting for the 7-day notice")
    click.echo("Notices: " + (", ".join(f"{kind} {count}" for kind, count in sorted(notices.sent.items())) or "none"))
    errors = charged.errors + notices.errors
    for error in errors:
        click.echo(f"  {error}", err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} organization(s) could not be processed; the others were.")
