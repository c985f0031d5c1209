"""`flask --app wsgi worker`: Huey's consumer (worker threads and its scheduler) with a heartbeat.

Run as many as you like, on as many machines as share JOBS_URL (Redis) and DATABASE_URL: each mail
is claimed by one of them, each periodic task runs once per period.
"""
from __future__ import annotations

import logging
import os
import socket
import time

import click
import sqlalchemy as sa
from flask import Flask
from huey.consumer import Consumer

from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs import queue
from chapter.jobs.models import WorkerHeartbeat
from chapter.jobs.periodic import worker_identity

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15


def beat(app: Flask, started_at, *, worker_id: str | None = None) -> None:
    """Write this process's heartbeat row: now, the jobs running, the jobs run since start."""
    worker_id = worker_id or worker_identity()
    with queue.activity.lock:
        running = list(queue.activity.running.values())
        processed = queue.activity.processed
    with app.app_context():
        values = dict(hostname=socket.gethostname(), pid=os.getpid(), started_at=started_at, last_seen_at=utcnow(),
                      running=len(running), processed=processed, current=", ".join(running)[:500] or None)
        updated = db.session.execute(sa.update(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id)
                                     .values(**values).execution_options(synchronize_session=False)).rowcount
        if not updated:
            db.session.add(WorkerHeartbeat(worker_id=worker_id, **values))
        db.session.commit()


def forget(app: Flask, worker_id: str | None = None) -> None:
    """Remove this process's heartbeat on a clean stop (a killed worker's row simply goes stale)."""
    with app.app_context():
        db.session.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == (worker_id or worker_identity())))
        db.session.commit()


class ChapterConsumer(Consumer):
    """Huey's consumer, reporting a heartbeat from its main loop every HEARTBEAT_SECONDS."""

    def __init__(self, app: Flask, *, install_signal_handlers: bool = True, **options):
        self.app = app
        self.install_signal_handlers = install_signal_handlers
        self.started_at = utcnow()
        self._next_beat = 0.0
        super().__init__(queue.huey, **options)

    def _set_signal_handlers(self):
        if self.install_signal_handlers:  # not when run in a thread (tests)
            super()._set_signal_handlers()

    def heartbeat(self) -> None:
        if time.monotonic() < self._next_beat:
            return
        self._next_beat = time.monotonic() + HEARTBEAT_SECONDS
        try:
            beat(self.app, self.started_at)
        except Exception:  # the database is down: the worker goes on, the page shows it stale
            log.exception("could not record the worker heartbeat")

    def start(self):
        super().start()
        self.heartbeat()

    def loop(self, health_check_ts=None):
        result = super().loop(health_check_ts)
        self.heartbeat()
        return result


def register_worker_command(app: Flask) -> None:
    """Attach `flask --app wsgi worker` to the app's CLI."""

    @app.cli.command("worker")
    @click.option("--threads", "-w", default=lambda: int(os.environ.get("JOBS_WORKER_THREADS", "2")),
                  show_default="2, or JOBS_WORKER_THREADS", type=click.IntRange(1, 64),
                  help="Worker threads in this process.")
    @click.option("--no-periodic", is_flag=True,
                  help="Do not enqueue periodic tasks from this process (another worker does).")
    @click.option("--verbose", "-v", is_flag=True, help="Log every job.")
    def worker_command(threads: int, no_periodic: bool, verbose: bool):
        """Run a background worker: delivers mail, runs jobs and the periodic tasks; Ctrl-C stops it."""
        import chapter.jobs.tasks  # noqa: F401  (registers every task)
        from flask import current_app

        logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("chapter.jobs").setLevel(logging.INFO)
        flask_app = current_app._get_current_object()
        queue.bind(flask_app)
        config = flask_app.config
        click.echo(f"worker {worker_identity()}: {threads} thread(s), queue {_redacted(config['JOBS_URL'])}, "
                   f"periodic tasks {'off' if no_periodic else 'on'}, mail via "
                   f"{config.get('MAIL_SERVER') or 'instance/outbox (no MAIL_SERVER)'}")
        consumer = ChapterConsumer(flask_app, workers=threads, periodic=not no_periodic,
                                   max_delay=config.get("JOBS_POLL_MAX_SECONDS", 0.5), initial_delay=0.05,
                                   backoff=1.5, worker_type="thread", check_worker_health=True)
        try:
            consumer.run()
        finally:
            try:
                forget(flask_app)
            except Exception:
                log.exception("could not remove the worker heartbeat")
        click.echo("worker stopped")


def _redacted(url: str) -> str:
    """A JOBS_URL fit for a log line (no password)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url
