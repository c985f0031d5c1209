"""Webhooks: 1,000 signed deliveries posted by real workers (`flask --app wsgi worker`) to a local endpoint.

The receiver is a threaded HTTP server in this process on a port-0 socket (answering 200 at once; its
own speed is part of the figure, so the rate is a floor). The queue is an embedded SQLite file, as
`make run` has it, unless BENCH_JOBS_URL names another (e.g. redis://127.0.0.1:6379/15; it is flushed).

Figures:
- webhooks_delivery_rate: BENCH_WEBHOOKS_EVENTS (default 1,000) events published and committed (100 to a
  transaction) while no worker runs, each making one delivery row; then BENCH_WEBHOOKS_WORKERS (default
  2) worker processes post them; deliveries per second from the first arrival to the last (start-up
  excluded; printed as webhooks_worker_start_s). Duplicates (a Webhook-Id arriving twice) are counted.
- webhooks_worker_cpu_ms_per_delivery: the workers' CPU time per delivery (sign, claim, POST, record).
- webhooks_commit_to_delivery_p50_ms / _p99_ms: the queue idle, one event committed at a time; time from
  the commit returning to the receiver holding the POST.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

from bench.common import Bench, log, median, percentile
from bench.workers import cpu_seconds, start_worker, stop_workers, wait_for

LATENCY_SAMPLES = 100


class _Arrivals:
    """When each Webhook-Id first arrived, and how many came twice."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.duplicates = 0
        self.lock = threading.Lock()

    def note(self, webhook_id: str) -> None:
        now = time.time()
        with self.lock:
            if webhook_id in self.at:
                self.duplicates += 1
            else:
                self.at[webhook_id] = now


def _receiver(arrivals: _Arrivals) -> ThreadingHTTPServer:
    from tests.conftest import listening_socket  # the tests' port-0 socket

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrivals.note(self.headers["Webhook-Id"])
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    sock = listening_socket()
    server = ThreadingHTTPServer(sock.getsockname(), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="bench-webhook-receiver").start()
    return server


def run(bench: Bench) -> None:
    events = int(os.environ.get("BENCH_WEBHOOKS_EVENTS", "1000"))
    worker_count = int(os.environ.get("BENCH_WEBHOOKS_WORKERS", "2"))
    jobs_url = os.environ.get("BENCH_JOBS_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='chapter-bench-hooks-')}/queue.sqlite"
    arrivals = _Arrivals()
    server = _receiver(arrivals)
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    original = {key: bench.app.config.get(key) for key in ("JOBS_URL", "WEBHOOK_ALLOW_PRIVATE_TARGETS", "WEBHOOK_REQUIRE_HTTPS")}
    bench.app.config.update(JOBS_URL=jobs_url, WEBHOOK_ALLOW_PRIVATE_TARGETS=True, WEBHOOK_REQUIRE_HTTPS=False)
    from chapter.jobs import queue

    queue.bind(bench.app)
    queue.huey.flush()
    workers: list[subprocess.Popen] = []
    extra = {"queue": jobs_url.split(":", 1)[0], "workers": worker_count}
    try:
        with bench.app.app_context():
            _clear()
            _endpoint(url)
            log(f"webhooks: committing {events:,} events ({extra['queue']} queue)")
            ids = _publish(events, start=0)
        started = time.time()
        workers = [start_worker(bench.app, jobs_url, SECRET_KEY=bench.app.config["SECRET_KEY"]) for _ in range(worker_count)]
        wait_for(lambda: len(arrivals.at) >= 1, seconds=120, workers=workers, what="the first delivery", group="webhooks")
        cpu_before = sum(cpu_seconds(process.pid) for process in workers)
        wait_for(lambda: len(arrivals.at) >= events, seconds=max(120, events / 5), workers=workers,
                 what=f"{events:,} deliveries", group="webhooks", progress=lambda: len(arrivals.at))
        cpu_used = sum(cpu_seconds(process.pid) for process in workers) - cpu_before
        times = sorted(arrivals.at[i] for i in ids if i in arrivals.at)
        bench.emit("webhooks_worker_start_s", times[0] - started, "s", **extra)
        bench.emit("webhooks_delivery_rate", (len(times) - 1) / max(times[-1] - times[0], 1e-9), "deliveries/s", None,
                   deliveries=events, duplicates=arrivals.duplicates, load_average=round(os.getloadavg()[0], 1), **extra)
        bench.emit("webhooks_worker_cpu_ms_per_delivery", cpu_used * 1000 / max(len(times) - 1, 1), "ms", None, **extra)

        latencies = []
        with bench.app.app_context():
            for n in range(LATENCY_SAMPLES):
                [webhook_id] = _publish(1, start=1_000_000 + n)
                committed = time.time()
                wait_for(lambda: webhook_id in arrivals.at, seconds=30, workers=workers, what="one delivery", group="webhooks")
                latencies.append((arrivals.at[webhook_id] - committed) * 1000)
                time.sleep(0.02)  # the queue idle again before the next
        bench.emit("webhooks_commit_to_delivery_p50_ms", median(latencies), "ms", None, samples=len(latencies), **extra)
        bench.emit("webhooks_commit_to_delivery_p99_ms", percentile(latencies, 0.99), "ms", None,
                   samples=len(latencies), **extra)
    finally:
        stop_workers(workers)
        server.shutdown()
        with bench.app.app_context():
            _clear()
        queue.huey.flush()
        bench.app.config.update(original)
        if original["JOBS_URL"]:
            queue.bind(bench.app)


def _clear() -> None:
    from chapter.extensions import db
    from chapter.jobs.models import WorkerHeartbeat
    from chapter.outgoing.models import WebhookDelivery, WebhookEndpoint

    db.session.execute(sa.delete(WebhookDelivery))
    db.session.execute(sa.delete(WebhookEndpoint))
    db.session.execute(sa.delete(WorkerHeartbeat))
    db.session.commit()


def _endpoint(url: str) -> None:
    from chapter.extensions import db
    from chapter.outgoing.models import WebhookEndpoint
    from chapter.outgoing.signing import encrypt_secret, new_secret

    db.session.add(WebhookEndpoint(chapter_id=None, url=url, description="bench", events=",member.joined,",
                                   secret_encrypted=encrypt_secret(new_secret()), is_enabled=True))
    db.session.commit()


def _publish(count: int, *, start: int) -> list[str]:
    """`count` member.joined events, 100 to a transaction; the Webhook-Ids of their deliveries."""
    from chapter.core import domain_events
    from chapter.extensions import db
    from chapter.outgoing.models import WebhookDelivery

    first = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(WebhookDelivery.id), 0)))
    for offset in range(0, count, 100):
        for n in range(start + offset, start + min(offset + 100, count)):
            domain_events.publish("member.joined", {"member_id": n, "member_number": str(1_000_000 + n),
                                                    "chapter_id": None, "chapter_number": None})
        db.session.commit()
    return db.session.scalars(sa.select(WebhookDelivery.webhook_id).where(WebhookDelivery.id > first)).all()
