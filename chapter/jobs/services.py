"""What the staff jobs page shows and does: the queue, the workers, failures, dead mail and jobs, periodic runs."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs import queue
from chapter.jobs.models import (
    JobFailure,
    JobFailureStatus,
    MailStatus,
    OutboxMail,
    PeriodicRun,
    PeriodicRunStatus,
    WorkerHeartbeat,
)

log = logging.getLogger(__name__)

# A worker that has not reported for this long is taken for gone (it reports every 15 s).
WORKER_STALE_AFTER = timedelta(seconds=90)
LIST_LIMIT = 50


@dataclass
class PeriodicStatus:
    """The last run of one periodic task, and whether the next is overdue."""

    name: str
    label: str
    every: timedelta
    last: PeriodicRun | None
    last_success: PeriodicRun | None
    late: bool


@dataclass
class JobsOverview:
    """Everything /admin/jobs shows, read in a handful of queries."""

    queued: int | None
    scheduled: int | None
    queue_error: str | None
    workers: list[WorkerHeartbeat]
    live_workers: int
    running: int
    mail_counts: dict[str, int]
    retrying_mail: list[OutboxMail]
    dead_mail: list[OutboxMail]
    dead_jobs: list[JobFailure]
    periodic: list[PeriodicStatus] = field(default_factory=list)
    last_worker_report: datetime | None = None


def worker_status(now: datetime | None = None) -> tuple[datetime | None, int]:
    """When a worker last reported, and how many reported recently."""
    now = now or utcnow()
    last = db.session.scalar(sa.select(sa.func.max(WorkerHeartbeat.last_seen_at)))
    live = db.session.scalar(sa.select(sa.func.count()).select_from(WorkerHeartbeat)
                             .where(WorkerHeartbeat.last_seen_at >= now - WORKER_STALE_AFTER))
    return last, live or 0


def periodic_statuses(now: datetime | None = None) -> list[PeriodicStatus]:
    """Each periodic task with its last run and last success; late when the last success is over 1.5 periods old."""
    now = now or utcnow()
    statuses = []
    for spec in queue.PERIODIC.values():
        if not spec.records_runs:
            continue
        newest = sa.select(PeriodicRun).where(PeriodicRun.task_name == spec.name).order_by(PeriodicRun.started_at.desc(),
                                                                                             PeriodicRun.id.desc()).limit(1)
        last = db.session.scalar(newest)
        success = db.session.scalar(newest.where(PeriodicRun.status == PeriodicRunStatus.SUCCEEDED))
        late = success is None or success.started_at < now - spec.every * 1.5
        statuses.append(PeriodicStatus(spec.name, spec.label, spec.every, last, success, late))
    return statuses


def jobs_overview(now: datetime | None = None) -> JobsOverview:
    """The state of background work, for staff."""
    import chapter.jobs.tasks  # noqa: F401  (the periodic tasks' specs)

    now = now or utcnow()
    queued = scheduled = None
    queue_error = None
    try:
        queued, scheduled = queue.huey.pending_count(), queue.huey.scheduled_count()
    except Exception as error:  # Redis down: the page still shows what the database knows
        queue_error = f"{type(error).__name__}: {error}"
    workers = db.session.scalars(sa.select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen_at.desc())).all()
    live = [w for w in workers if w.last_seen_at >= now - WORKER_STALE_AFTER]
    counts = dict(db.session.execute(sa.select(OutboxMail.status, sa.func.count()).group_by(OutboxMail.status)).all())
    mail_counts = {status.value: counts.get(status, 0) for status in MailStatus}
    retrying = db.session.scalars(sa.select(OutboxMail).where(
        OutboxMail.status == MailStatus.PENDING, OutboxMail.last_error.is_not(None))
        .order_by(OutboxMail.next_attempt_at).limit(LIST_LIMIT)).all()
    dead_mail = db.session.scalars(sa.select(OutboxMail).where(OutboxMail.status == MailStatus.DEAD)
                                   .order_by(OutboxMail.id.desc()).limit(LIST_LIMIT)).all()
    dead_jobs = db.session.scalars(sa.select(JobFailure).where(JobFailure.status == JobFailureStatus.DEAD)
                                   .order_by(JobFailure.id.desc()).limit(LIST_LIMIT)).all()
    return JobsOverview(
        queued=queued, scheduled=scheduled, queue_error=queue_error, workers=workers, live_workers=len(live),
        running=sum(w.running for w in live), mail_counts=mail_counts, retrying_mail=retrying,
        dead_mail=dead_mail, dead_jobs=dead_jobs, periodic=periodic_statuses(now),
        last_worker_report=max((w.last_seen_at for w in workers), default=None))


# --- Dead jobs ------------------------------------------------------------------------------------

class JobNotDead(DomainError):
    """Only a dead job can be retried or discarded."""


def _dead_job(failure_id: int) -> JobFailure:
    failure = db.session.get(JobFailure, failure_id)
    if failure is None or failure.status is not JobFailureStatus.DEAD:
        raise JobNotDead("That job is not dead (it was retried or discarded meanwhile).")
    return failure


def retry_dead_job(failure_id: int, *, actor) -> JobFailure:
    """Queue a dead job again with its arguments and a fresh set of retries (after the request commits)."""
    import chapter.jobs.tasks  # noqa: F401  (every task registered)

    failure = _dead_job(failure_id)
    try:
        task_class = queue.huey._registry.string_to_task(failure.task_name)
    except Exception:
        raise JobNotDead(f"The task {failure.task_name} no longer exists; discard the job instead.")
    args, kwargs = json.loads(failure.arguments)
    failure.status, failure.resolved_at, failure.resolved_by_id = JobFailureStatus.RETRIED, utcnow(), actor.id
    audit.record("jobs.job_retried", actor=actor, summary=f"Dead job {failure.task_name} queued again",
                 after={"job_failure_id": failure.id, "arguments": failure.arguments})
    queue.enqueue_after_commit(task_class(args=tuple(args), kwargs=kwargs))
    return failure


def discard_dead_job(failure_id: int, *, actor) -> JobFailure:
    """Give up on a dead job for good (kept, marked discarded)."""
    failure = _dead_job(failure_id)
    failure.status, failure.resolved_at, failure.resolved_by_id = JobFailureStatus.DISCARDED, utcnow(), actor.id
    audit.record("jobs.job_discarded", actor=actor, summary=f"Dead job {failure.task_name} discarded",
                 after={"job_failure_id": failure.id, "error": failure.error[:200]})
    return failure
