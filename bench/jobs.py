"""Jobs: mail through the outbox, delivered by real workers (`flask --app wsgi worker`) to a local SMTP server.

The queue is an embedded SQLite file, as `make run` has it, unless BENCH_JOBS_URL names another
(e.g. redis://127.0.0.1:6379/15 for the production shape; that database is flushed). The SMTP
server is aiosmtpd in this process, on loopback, accepting everything (its own speed is part of
the figure, so the rate is a floor).

Figures:
- jobs_mail_delivery_rate: BENCH_JOBS_MAILS (default 10,000) mails committed to the outbox while
  no worker runs, then delivered by BENCH_JOBS_WORKERS (default 2) worker processes; mails per
  second from the first delivery to the last (worker start-up excluded; it is printed as
  jobs_worker_start_s).
- jobs_worker_cpu_ms_per_mail: the workers' CPU time per mail during that run (the rate depends on
  how busy the machine is; this does not much).
- jobs_commit_to_delivery_p50_ms / _p99_ms: the queue idle, mails committed one at a time (each its
  own transaction, as a request does) a little apart; time from the commit returning to the SMTP
  server holding the message.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from email.parser import BytesHeaderParser

import sqlalchemy as sa

from bench.common import Bench, log, median, percentile
from bench.workers import cpu_seconds, start_worker, stop_workers, wait_for

RATE_TARGET = 200  # mails/s
P99_TARGET_MS = 2000
LATENCY_SAMPLES = 200


class _Counting:
    """An aiosmtpd handler that only notes when each Message-ID arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.duplicates = 0
        self.lock = threading.Lock()
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope):
        now = time.time()
        message_id = self.parser.parsebytes(envelope.original_content or envelope.content)["Message-ID"]
        with self.lock:
            if message_id in self.arrived:
                self.duplicates += 1
            else:
                self.arrived[message_id] = now
        return "250 OK"


def run(bench: Bench) -> None:
    from tests.conftest import start_smtp_controller  # the tests' server, on a port-0 socket

    mails = int(os.environ.get("BENCH_JOBS_MAILS", "10000"))
    worker_count = int(os.environ.get("BENCH_JOBS_WORKERS", "2"))
    queue_dir = tempfile.mkdtemp(prefix="chapter-bench-jobs-")
    jobs_url = os.environ.get("BENCH_JOBS_URL") or f"sqlite:///{queue_dir}/queue.sqlite"
    handler = _Counting()
    controller = start_smtp_controller(handler)
    port = controller.port
    original = {key: bench.app.config.get(key) for key in ("JOBS_URL", "MAIL_SERVER", "MAIL_PORT")}
    bench.app.config.update(JOBS_URL=jobs_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    from chapter.jobs import queue

    queue.bind(bench.app)
    queue.huey.flush()
    workers: list[subprocess.Popen] = []
    extra = {"queue": jobs_url.split(":", 1)[0], "workers": worker_count}
    try:
        with bench.app.app_context():
            _clear_outbox()
            log(f"jobs: committing {mails:,} mails to the outbox ({extra['queue']} queue)")
            ids = _commit_mails(bench, mails)
        started = time.time()
        workers = [start_worker(bench.app, jobs_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port)) for _ in range(worker_count)]
        wait_for(lambda: len(handler.arrived) >= 1, seconds=120, workers=workers, group="jobs", what="the first delivery")
        cpu_before = sum(cpu_seconds(process.pid) for process in workers)
        wait_for(lambda: len(handler.arrived) >= mails, seconds=max(120, mails / 20), workers=workers, group="jobs",
              what=f"{mails:,} deliveries", progress=lambda: len(handler.arrived))
        cpu_used = sum(cpu_seconds(process.pid) for process in workers) - cpu_before
        arrivals = sorted(handler.arrived[i] for i in ids if i in handler.arrived)
        first, last = arrivals[0], arrivals[-1]
        bench.emit("jobs_worker_start_s", first - started, "s", **extra)
        bench.emit("jobs_mail_delivery_rate", (len(arrivals) - 1) / max(last - first, 1e-9), "mails/s", RATE_TARGET,
                   mails=mails, duplicates=handler.duplicates, load_average=round(os.getloadavg()[0], 1), **extra)
        # CPU the workers spent per mail (the SMTP server's and the database's not included): on a
        # shared machine the rate says how busy it was, this says what a mail costs.
        bench.emit("jobs_worker_cpu_ms_per_mail", cpu_used * 1000 / max(len(arrivals) - 1, 1), "ms", None, **extra)

        latencies = _latencies(bench, handler, workers)
        bench.emit("jobs_commit_to_delivery_p50_ms", median(latencies), "ms", None, samples=len(latencies), **extra)
        bench.emit("jobs_commit_to_delivery_p99_ms", percentile(latencies, 0.99), "ms", P99_TARGET_MS,
                   samples=len(latencies), **extra)
    finally:
        stop_workers(workers)
        controller.stop()
        with bench.app.app_context():
            _clear_outbox()
        queue.huey.flush()
        bench.app.config.update(original)
        if original["JOBS_URL"]:
            queue.bind(bench.app)



def _clear_outbox() -> None:
    from chapter.extensions import db
    from chapter.jobs.models import OutboxMail, WorkerHeartbeat

    db.session.execute(sa.delete(OutboxMail))
    db.session.execute(sa.delete(WorkerHeartbeat))
    db.session.commit()


def _send(n: int) -> None:
    from chapter.core.mail import send_mail

    send_mail(f"bench{n}@example.org", f"Receipt {n}", "password_reset", user=None,
              link=f"http://127.0.0.1:5000/reset-password/{n}", minutes=60)


def _commit_mails(bench: Bench, mails: int) -> list[str]:
    """`mails` outbox rows, committed 500 to a transaction; their deliveries are queued on commit."""
    from chapter.extensions import db
    from chapter.jobs.models import OutboxMail

    with bench.app.test_request_context():
        for start in range(0, mails, 500):
            for n in range(start, min(start + 500, mails)):
                _send(n)
            db.session.commit()
        return db.session.scalars(sa.select(OutboxMail.message_id)).all()


def _latencies(bench: Bench, handler: _Counting, workers) -> list[float]:
    """Commit one mail at a time on an idle queue; milliseconds until the SMTP server has each."""
    from chapter.extensions import db
    from chapter.jobs.models import OutboxMail

    results = []
    with bench.app.test_request_context():
        for n in range(LATENCY_SAMPLES):
            _send(1_000_000 + n)
            message_id = next(obj for obj in db.session.new if isinstance(obj, OutboxMail)).message_id
            db.session.commit()
            committed = time.time()
            wait_for(lambda: message_id in handler.arrived, seconds=30, workers=workers, group="jobs", what="one delivery")
            results.append((handler.arrived[message_id] - committed) * 1000)
            time.sleep(0.02)  # the queue is idle again before the next
    return results
