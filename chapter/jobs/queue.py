"""The job queue: one Huey instance, its storage chosen by JOBS_URL, and how features define jobs.

- `@job(...)` defines a task (a plain function of plain arguments: ids and strings, JSON-able);
  `task(arg)` queues it now, `task.schedule((arg,), delay=60)` later, `enqueue_after_commit(task, arg)`
  once the current database transaction commits (and never when it rolls back).
- `@periodic(crontab(...), name=..., every=...)` defines a scheduled task: it runs under a lock
  (at most one at a time across every worker) and records each run (`PeriodicRun`).
- Every job runs inside an app context with a session of its own, like a request.

Huey's queue is a prompt, not the record: what must not be lost (an e-mail, a webhook to deliver)
is a row written in the caller's transaction, and the job only says "look at row N". A prompt lost
with a killed worker is found again by a periodic sweep of the rows (see `outbox.sweep`).
"""
from __future__ import annotations

import functools
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from flask import Flask
from huey import Huey, crontab  # noqa: F401  (crontab re-exported for task modules)
from huey.api import Task
from huey import signals as huey_signals
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy.orm import Session

from chapter.core.models import utcnow

log = logging.getLogger(__name__)

# Results are not stored: jobs report through the database (rows, PeriodicRun), not return values.
huey = Huey("chapter", results=False, utc=True, storage_class=MemoryStorage)

_bound: dict[str, Any] = {"app": None, "url": None}
AFTER_COMMIT_KEY = "chapter.jobs.after_commit"
BATCHED_KEY = "chapter.jobs.after_commit_batched"


def storage_for(url: str) -> tuple[type, dict]:
    """The Huey storage class and its arguments for a JOBS_URL (sqlite:///path, redis://..., memory://)."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        # WAL lets the web processes enqueue while a worker reads; 10 s of patience on a busy file.
        # No fsync per job: a prompt lost in a power cut is found again by the sweep of the rows.
        return SqliteStorage, {"filename": str(path), "timeout": 10, "fsync": False}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage, {"url": url}
    if url == "memory://":
        return MemoryStorage, {}
    raise ValueError(f"JOBS_URL {url!r}: use sqlite:///PATH, redis://HOST:PORT/DB or memory://")


def bind(app: Flask) -> None:
    """Point the queue at the app's JOBS_URL, and let jobs run in that app."""
    url = app.config["JOBS_URL"]
    _bound["app"] = app
    if _bound["url"] != url:
        storage_class, kwargs = storage_for(url)
        huey.storage.close()
        huey.storage_class, huey.storage_kwargs = storage_class, kwargs
        huey.storage = huey.create_storage()
        _bound["url"] = url


def bound_app() -> Flask:
    app = _bound["app"]
    if app is None:
        raise RuntimeError("the job queue is not bound to an app: create_app() binds it")
    return app


# --- Defining jobs --------------------------------------------------------------------------------

def job(*, retries: int = 3, retry_delay: int = 30, retry_backoff: float = 2.0, name: str | None = None,
        **settings) -> Callable:
    """Decorator: a background task run by the worker in an app context, retried with back-off on error.

    After the last retry the job is dead: it is recorded in `JobFailure`, and staff see it on
    /admin/jobs with Retry and Discard.
    """
    def decorator(fn: Callable) -> Any:
        @functools.wraps(fn)
        def in_app(*args, **kwargs):
            with bound_app().app_context():
                return fn(*args, **kwargs)

        return huey.task(retries=retries, retry_delay=retry_delay, retry_backoff=retry_backoff,
                         name=name or fn.__name__, **settings)(in_app)

    return decorator


@dataclass(frozen=True)
class PeriodicSpec:
    """What the staff page needs to know of a periodic task: its name, what it does, how often it should run."""

    name: str
    label: str
    every: timedelta
    records_runs: bool


PERIODIC: dict[str, PeriodicSpec] = {}


def periodic(schedule: Callable, *, name: str, label: str, every: timedelta, lock_seconds: int = 3600,
             records_runs: bool = True) -> Callable:
    """Decorator: a periodic task (Huey's scheduler) that runs once at a time across workers and records its runs.

    The function returns a one-line summary of what it did; an exception is recorded as the run's error.
    Several workers each enqueue it on schedule: the lock and the `every / 2` guard make it run once.
    """
    def decorator(fn: Callable[[], str]) -> Any:
        PERIODIC[name] = PeriodicSpec(name, label, every, records_runs)

        @functools.wraps(fn)
        def in_app():
            from chapter.jobs import periodic as runs

            with bound_app().app_context():
                if records_runs:
                    runs.run_periodic(name, fn, min_interval=every / 2, lock_seconds=lock_seconds)
                else:
                    runs.run_locked(name, fn, lock_seconds=lock_seconds)

        return huey.periodic_task(schedule, name=name)(in_app)

    return decorator


# --- Queueing after commit -----------------------------------------------------------------------

def enqueue_after_commit(task: Any, *args) -> None:
    """Queue `task(*args)` when the current transaction commits; nothing when it rolls back."""
    from chapter.extensions import db

    db.session().info.setdefault(AFTER_COMMIT_KEY, []).append((task, args))


def enqueue_batched_after_commit(task: Any, item: Any, *, batch_size: int = 100) -> None:
    """Collect `item` for `task(items)`, queued in chunks of `batch_size` when the transaction commits.

    A transaction that writes 500 mails queues 5 jobs of 100, each delivered over one connection.
    """
    from chapter.extensions import db

    db.session().info.setdefault(BATCHED_KEY, {}).setdefault((task, batch_size), []).append(item)


def enqueue_safely(task: Any, *args, delay: float | None = None) -> bool:
    """Queue a task; a queue that is down is logged, never raised (the periodic sweep finds the row)."""
    try:
        if isinstance(task, Task):
            huey.enqueue(task)
        elif delay:
            task.schedule(args, delay=delay)
        else:
            task(*args)
    except Exception:  # Redis down, a locked SQLite file: the row is committed, the sweep queues it
        log.exception("could not queue %s%r; the sweep will pick it up", getattr(task, "name", task), args)
        return False
    return True


@sa.event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    for task, args in session.info.pop(AFTER_COMMIT_KEY, []):
        enqueue_safely(task, *args)
    for (task, batch_size), items in session.info.pop(BATCHED_KEY, {}).items():
        for start in range(0, len(items), batch_size):
            enqueue_safely(task, items[start:start + batch_size])


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction) -> None:
    """A transaction that ended without a commit (rolled back, or the session closed) queues nothing."""
    if transaction.parent is None:
        session.info.pop(AFTER_COMMIT_KEY, None)
        session.info.pop(BATCHED_KEY, None)


# --- Running queued jobs here and now (tests, `flask jobs run-queued`) -----------------------------

def run_queued_jobs(*, now: datetime | None = None, limit: int = 100_000) -> int:
    """Run every queued job, and every scheduled one due by `now`, in this process with the real task code.

    This is what a worker thread does (dequeue, execute), without the polling; with a `now` in the
    future, retries scheduled before it run too. Returns how many jobs ran.
    """
    ran = 0
    while ran < limit:
        moment = now or utcnow()
        for task in huey.read_schedule(moment):
            huey.enqueue(task)
        task = huey.dequeue()
        if task is None:
            return ran
        huey.execute(task, moment)
        ran += 1
    return ran


# --- What the worker is doing (for heartbeats) ----------------------------------------------------

class Activity:
    """Jobs running in this process now, and run since it started (kept by Huey's execute hooks)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[str, str] = {}
        self.processed = 0

    def started(self, task) -> None:
        with self.lock:
            self.running[task.id] = task.name

    def finished(self, task, value, exception) -> None:
        with self.lock:
            self.running.pop(task.id, None)
            self.processed += 1


activity = Activity()


@huey.pre_execute(name="chapter.activity")
def _task_started(task) -> None:
    activity.started(task)


@huey.post_execute(name="chapter.activity")
def _task_finished(task, value, exception) -> None:
    activity.finished(task, value, exception)


@huey.signal(huey_signals.SIGNAL_ERROR, huey_signals.SIGNAL_TIMEOUT)
def _record_dead_job(signal, task, exception=None) -> None:
    """A job that failed with no retry left is dead: keep it, with its error, for staff."""
    if task.retries:
        return  # Huey retries it
    from chapter.extensions import db
    from chapter.jobs.models import JobFailure

    args, kwargs = task.data
    try:
        arguments = json.dumps([list(args), kwargs], default=str)
    except (TypeError, ValueError):
        arguments = json.dumps([[repr(a) for a in args], {}])
    error = f"{type(exception).__name__}: {exception}" if exception is not None else signal
    try:
        with bound_app().app_context():
            db.session.add(JobFailure(task_name=huey._registry.task_to_string(type(task)), arguments=arguments, error=error[:5000], failed_at=utcnow()))
            db.session.commit()
    except Exception:
        log.exception("could not record the dead job %s%r", task.name, args)
