"""Batch command: `flask --app wsgi stripe sync` (pull and match what Stripe has since the last sync)."""
from __future__ import annotations

import click

from chapter.treasury import bp


@bp.cli.group("stripe")
def stripe_group():
    """Reconcile with Stripe."""


@stripe_group.command("sync")
def sync_command():
    """Pull balance transactions, payouts and events since the last sync and match them; safe to run twice."""
    from chapter.extensions import db
    from chapter.treasury import sync

    state: dict = {}

    def on_count(total: int) -> None:
        state["bar"] = click.progressbar(length=total, label="Matching balance transactions", show_pos=True)
        state["bar"].__enter__()

    from chapter.payments.gateway import GatewayError

    try:
        report = sync.sync_stripe(on_count=on_count, progress=lambda n: state["bar"].update(n))
    except GatewayError as error:
        db.session.rollback()
        if "bar" in state:
            state["bar"].__exit__(None, None, None)
        # One line, no traceback: an operator reads it in cron mail. Nothing was saved; run it again.
        raise click.ClickException(f"Stripe sync failed, nothing was saved: {error}") from None
    if "bar" in state:
        state["bar"].__exit__(None, None, None)
    db.session.commit()
    click.echo(f"Stripe sync: {report.balance_transactions} balance transactions, {report.payouts} payouts, "
               f"{report.events} events; {report.exceptions} exception(s) to review")
