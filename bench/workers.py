"""Real worker processes for the queue benchmarks (jobs, webhooks): start, wait on, measure, stop."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Callable

from bench.common import log


def start_worker(app, jobs_url: str, **env: str) -> subprocess.Popen:
    """`flask --app wsgi worker --no-periodic` on the bench database and queue (development settings)."""
    from config import BASE_DIR

    environment = dict(os.environ, FLASK_CONFIG="development", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                       JOBS_URL=jobs_url, PYTHONUNBUFFERED="1", **env)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--no-periodic"],
                            cwd=BASE_DIR, env=environment, stdout=subprocess.DEVNULL, stderr=sys.stderr)


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """SIGINT (a graceful stop), then SIGKILL for any still running after 30 s."""
    for process in workers:
        process.send_signal(2)
    for process in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(done: Callable[[], bool], *, seconds: float, workers, what: str, group: str,
             progress: Callable[[], int] | None = None) -> None:
    """Poll until `done()`; a worker that exits or the time running out is an error."""
    deadline = time.monotonic() + seconds
    last_report = time.monotonic()
    while not done():
        if any(process.poll() is not None for process in workers):
            raise RuntimeError(f"a worker exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        if progress and time.monotonic() - last_report > 5:
            log(f"{group}: {progress():,} delivered")
            last_report = time.monotonic()
        time.sleep(0.002)
