"""`flask --app wsgi worker`, and `flask --app wsgi jobs ...` for operators."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="The job queue and the mail outbox.")


def register_jobs_commands(app: Flask) -> None:
    """Attach the worker and the jobs commands to the app's CLI."""
    from chapter.jobs.worker import register_worker_command

    register_worker_command(app)
    app.cli.add_command(jobs_cli)


@jobs_cli.command("status")
def status_command():
    """Print the queue depth, the workers, the mail by state and the periodic tasks' last runs."""
    from chapter.jobs import services

    overview = services.jobs_overview()
    click.echo(f"queue: {overview.queued if overview.queue_error is None else overview.queue_error} waiting, "
               f"{overview.scheduled} scheduled; workers reporting: {overview.live_workers}; running: {overview.running}")
    click.echo("mail: " + ", ".join(f"{status} {count}" for status, count in overview.mail_counts.items()))
    for p in overview.periodic:
        last = f"{p.last.started_at:%Y-%m-%d %H:%M} {p.last.status.value}" if p.last else "never"
        click.echo(f"{p.name}: last run {last}{' (late)' if p.late else ''}")
    if overview.dead_jobs:
        click.echo(f"dead jobs: {len(overview.dead_jobs)} (see /admin/jobs)")


@jobs_cli.command("sweep")
def sweep_command():
    """Queue again the mail whose delivery job was lost (what the worker does every minute)."""
    from chapter.jobs import outbox

    click.echo(f"{outbox.sweep()} mail(s) queued again")
