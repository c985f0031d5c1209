"""What the worker's work leaves in the database: outgoing mail, dead jobs, periodic runs, locks, heartbeats.

The database, not the queue, is the source of truth: a queued job is only a prompt to look at a
row. A job lost with a killed worker (or a queue flushed by accident) is found again by the sweep.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User


class MailStatus(str, enum.Enum):
    """Where an outgoing mail is: waiting (or between retries), being sent, sent, given up, thrown away."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    DISCARDED = "discarded"


class OutboxMail(db.Model):
    """One outgoing e-mail, written in the transaction of the change that causes it."""

    __tablename__ = "outbox_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable across retries: a receiving server (or a reader) can drop a repeated delivery.
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    sender: Mapped[str] = mapped_column(sa.String(320), nullable=False)
    to_address: Mapped[str] = mapped_column(sa.String(320), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    template: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    body_text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[MailStatus] = mapped_column(
        sa.Enum(MailStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=MailStatus.PENDING, nullable=False)
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    # While SENDING: the claim runs out then (a worker killed mid-send), and the sweep queues it again.
    lease_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(1000))
    # Extra headers as a JSON object (List-Unsubscribe and List-Unsubscribe-Post on member messages).
    headers: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.Index("ix_outbox_mails_status_next_attempt_at", "status", "next_attempt_at"),)


class JobFailureStatus(str, enum.Enum):
    """A dead job waits for staff: queued again, or thrown away."""

    DEAD = "dead"
    RETRIED = "retried"
    DISCARDED = "discarded"


class JobFailure(db.Model):
    """A job that failed after its last retry (its error, and what staff did about it)."""

    __tablename__ = "job_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    # JSON [args, kwargs]: jobs take plain values (ids, strings), so a dead one can be queued again.
    arguments: Mapped[str] = mapped_column(sa.Text, nullable=False, default="[[], {}]")
    error: Mapped[str] = mapped_column(sa.Text, nullable=False)
    failed_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    status: Mapped[JobFailureStatus] = mapped_column(
        sa.Enum(JobFailureStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=JobFailureStatus.DEAD, nullable=False, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    resolved_by: Mapped[User | None] = relationship()


class PeriodicRunStatus(str, enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PeriodicRun(db.Model):
    """One run of a periodic task: when it started and finished, what it did, what failed."""

    __tablename__ = "periodic_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    status: Mapped[PeriodicRunStatus] = mapped_column(
        sa.Enum(PeriodicRunStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=PeriodicRunStatus.RUNNING, nullable=False)
    summary: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    worker: Mapped[str | None] = mapped_column(sa.String(200))

    __table_args__ = (sa.Index("ix_periodic_runs_task_name_started_at", "task_name", "started_at"),)


class JobLock(db.Model):
    """A named lease: whoever holds an unexpired row runs that task; a killed holder's lease runs out."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)


class WorkerHeartbeat(db.Model):
    """A worker process's last report: when, and how many jobs it was running and had run."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    pid: Mapped[int] = mapped_column(nullable=False)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, index=True)
    running: Mapped[int] = mapped_column(default=0, nullable=False)
    processed: Mapped[int] = mapped_column(default=0, nullable=False)
    current: Mapped[str | None] = mapped_column(sa.String(500))
