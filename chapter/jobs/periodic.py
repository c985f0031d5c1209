"""Periodic runs: a lock so a task runs once at a time across every worker, and a record of each run.

The lock is a row with a lease (`JobLock`): taking it is one UPDATE of an expired row or one INSERT,
which only one worker can win on SQLite and PostgreSQL alike; a worker killed while holding it
only delays the next run until the lease runs out. Huey's own lock_task would need a TTL that its
SQLite storage does not have, and would leave a killed worker's lock behind.
"""
from __future__ import annotations

import logging
import os
import socket
import traceback
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs.models import JobLock, PeriodicRun, PeriodicRunStatus

log = logging.getLogger(__name__)


def worker_identity() -> str:
    """host:pid, how runs, locks and heartbeats name the process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lock(name: str, holder: str, seconds: int) -> bool:
    """Take the named lock for `seconds` unless someone holds it; commits either way."""
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    taken = db.session.execute(sa.update(JobLock).where(JobLock.name == name, JobLock.expires_at < now)
                               .values(holder=holder, expires_at=expires)
                               .execution_options(synchronize_session=False)).rowcount
    if taken:
        db.session.commit()
        return True
    db.session.rollback()
    try:
        db.session.execute(sa.insert(JobLock).values(name=name, holder=holder, expires_at=expires))
        db.session.commit()
    except IntegrityError:  # held (or taken a moment ago by another worker)
        db.session.rollback()
        return False
    return True


def release_lock(name: str, holder: str) -> None:
    """Let the lock go (only ours: a lock that ran out and was taken by another stays theirs)."""
    db.session.rollback()
    db.session.execute(sa.delete(JobLock).where(JobLock.name == name, JobLock.holder == holder))
    db.session.commit()


def run_locked(name: str, work: Callable[[], object], *, lock_seconds: int) -> bool:
    """Run `work` under the named lock; False (and nothing run) when another worker has it."""
    holder = f"{worker_identity()}:{id(work)}"
    if not acquire_lock(name, holder, lock_seconds):
        log.info("periodic task %s is running elsewhere; not started", name)
        return False
    try:
        work()
    finally:
        release_lock(name, holder)
    return True


def last_success_since(name: str, since: datetime) -> PeriodicRun | None:
    return db.session.scalar(sa.select(PeriodicRun).where(
        PeriodicRun.task_name == name, PeriodicRun.status == PeriodicRunStatus.SUCCEEDED,
        PeriodicRun.started_at >= since).limit(1))


def run_periodic(name: str, work: Callable[[], str], *, min_interval: timedelta, lock_seconds: int) -> PeriodicRun | None:
    """Run a periodic task once: under its lock, unless it succeeded within `min_interval`, recording the run.

    Returns the run, or None when it was not started (running elsewhere, or already done).
    """
    holder = worker_identity()
    if not acquire_lock(name, holder, lock_seconds):
        log.info("periodic task %s is running elsewhere; not started", name)
        return None
    try:
        # Every worker's scheduler enqueues the task: the first run of the period counts, the others stop here.
        if last_success_since(name, utcnow() - min_interval) is not None:
            db.session.rollback()
            log.info("periodic task %s already ran this period; not started", name)
            return None
        run = PeriodicRun(task_name=name, started_at=utcnow(), status=PeriodicRunStatus.RUNNING, worker=holder)
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        try:
            summary = work()
        except Exception as error:
            db.session.rollback()
            log.exception("periodic task %s failed", name)
            run = db.session.get(PeriodicRun, run_id)
            run.status = PeriodicRunStatus.FAILED
            run.error = "".join(traceback.format_exception_only(type(error), error)).strip()[:5000]
        else:
            db.session.rollback()  # whatever the work left uncommitted is not ours to commit
            run = db.session.get(PeriodicRun, run_id)
            run.status = PeriodicRunStatus.SUCCEEDED
            summary_text, errors = summary if isinstance(summary, tuple) else (summary, None)
            run.summary = (summary_text or "")[:5000]
            run.error = errors[:5000] if errors else None
        run.finished_at = utcnow()
        db.session.commit()
        return run
    finally:
        release_lock(name, holder)
