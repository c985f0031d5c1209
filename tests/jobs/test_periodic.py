"""Periodic tasks: once at a time across workers (a lock), once per period, every run recorded."""
from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from chapter.core.models import today, utcnow
from chapter.extensions import db
from chapter.jobs import periodic, tasks
from chapter.jobs.models import JobLock, PeriodicRun, PeriodicRunStatus
from chapter.members import services as member_services
from chapter.members.models import MembershipTerm
from chapter.payments.models import RenewalReminder
from tests import factories
from tests.conftest import run_jobs
from tests.jobs.helpers import count


def _member_due_a_reminder():
    member = factories.member(home=factories.chapter(), status="active", email="ada@example.org")
    db.session.execute(sa.update(MembershipTerm).where(MembershipTerm.member_id == member.id)
                       .values(ends_on=today() + timedelta(days=45)))
    member_services.refresh_membership_dates(member)
    db.session.commit()
    return member


def test_the_renewals_task_started_twice_at_the_same_time_runs_once(app, smtp_server):
    _member_due_a_reminder()
    start = threading.Barrier(2)
    errors = []

    def worker():
        try:
            start.wait(timeout=10)
            tasks.renewals_daily.call_local()  # what a worker thread runs when the scheduler enqueues it
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    [run] = db.session.scalars(sa.select(PeriodicRun)).all()
    assert run.task_name == "renewals" and run.status is PeriodicRunStatus.SUCCEEDED
    assert "1 reminder(s) sent" in run.summary and run.finished_at >= run.started_at and run.error is None
    assert count(RenewalReminder) == 1 and count(JobLock) == 0  # the lock is released
    run_jobs()
    assert [m["To"] for m in smtp_server] == ["ada@example.org"]


def test_a_periodic_task_does_not_start_while_another_worker_holds_its_lock(app):
    assert periodic.acquire_lock("renewals", "other-host:123", seconds=600)

    tasks.renewals_daily.call_local()

    assert count(PeriodicRun) == 0
    assert db.session.get(JobLock, "renewals").holder == "other-host:123"  # not taken from its holder


def test_a_lock_left_by_a_killed_worker_runs_out(app):
    db.session.add(JobLock(name="renewals", holder="dead-host:1", expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    tasks.renewals_daily.call_local()

    assert count(PeriodicRun) == 1 and count(JobLock) == 0


def test_a_second_enqueue_in_the_same_period_runs_nothing(app):
    """Every worker's scheduler enqueues the task: only the first of the period runs."""
    tasks.renewals_daily.call_local()
    tasks.renewals_daily.call_local()
    assert count(PeriodicRun) == 1


def test_a_failed_run_is_recorded_with_its_error_and_the_next_one_runs(app, monkeypatch):
    from chapter.payments import renewals

    def broken(day):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(renewals, "auto_renew", broken)
    tasks.renewals_daily.call_local()
    monkeypatch.undo()
    tasks.renewals_daily.call_local()

    runs = db.session.scalars(sa.select(PeriodicRun).order_by(PeriodicRun.id)).all()
    assert [r.status for r in runs] == [PeriodicRunStatus.FAILED, PeriodicRunStatus.SUCCEEDED]
    assert runs[0].error == "RuntimeError: the database went away" and runs[0].finished_at is not None


def test_the_stripe_sync_task_records_what_it_pulled(app, stripe_peer):
    tasks.stripe_sync.call_local()

    [run] = db.session.scalars(sa.select(PeriodicRun)).all()
    assert run.task_name == "stripe_sync" and run.status is PeriodicRunStatus.SUCCEEDED, run.error
    assert "balance transactions" in run.summary and "payouts" in run.summary


def test_the_periodic_tasks_are_scheduled_by_hueys_crontab(app):
    from datetime import datetime

    from chapter.jobs.queue import huey

    def due(at: datetime) -> set[str]:
        return {task.name for task in huey.read_periodic(at)}

    every_minute = {"outbox_sweep", "webhook_sweep", "member_messages"}
    every_five_minutes = every_minute | {"event_offers"}
    assert due(datetime(2026, 12, 1, 6, 0)) == every_five_minutes | {"renewals"}
    assert due(datetime(2026, 12, 1, 6, 45)) == every_five_minutes | {"member_lapses"}
    assert due(datetime(2026, 12, 1, 7, 15)) == every_five_minutes | {"stripe_sync"}
    assert due(datetime(2026, 12, 1, 7, 16)) == every_minute
