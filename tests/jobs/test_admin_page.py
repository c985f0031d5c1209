"""/admin/jobs for staff: the queue, the workers, failures, dead mail and jobs (Retry, Discard), periodic runs."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.audit import AuditEntry
from chapter.core.mail import send_mail
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs.models import JobFailure, JobFailureStatus, MailStatus, OutboxMail, PeriodicRun, PeriodicRunStatus
from chapter.jobs.queue import huey, job
from chapter.jobs.worker import beat
from tests import factories
from tests.conftest import run_jobs
from tests.jobs.helpers import count

ATTEMPTS = []


@job(retries=1, retry_delay=0, name="tests_flaky_export")
def flaky_export(chapter_number: int, *, fail: bool = True) -> None:
    """A job that fails while `fail` holds (a test's stand-in for an export whose service is down)."""
    ATTEMPTS.append(chapter_number)
    if fail:
        raise RuntimeError(f"export of chapter {chapter_number} failed")


@pytest.fixture
def staff_client(client):
    factories.user("staff@example.org", is_staff=True)
    db.session.commit()
    client.login("staff@example.org")
    return client


def _dead_mail(app) -> OutboxMail:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_MAX_ATTEMPTS=2)
    with app.test_request_context():
        send_mail("ada@example.org", "Your receipt", "password_reset", user=None, link="http://localhost/x", minutes=60)
        db.session.commit()
    run_jobs(now=utcnow() + timedelta(days=1))
    mail = db.session.scalar(sa.select(OutboxMail))
    assert mail.status is MailStatus.DEAD
    return mail


def _form_action(page: str, label: str) -> str:
    match = re.search(r'<form method="post" action="([^"]+)"[^>]*>\s*<input[^>]+>\s*<button[^>]*aria-label="'
                      + re.escape(label) + '"', page)
    assert match, f"no {label!r} button"
    return match.group(1)


def test_only_staff_see_the_jobs_page(app, client):
    assert client.get("/admin/jobs").status_code == 302  # to the log-in page
    factories.member(home=factories.chapter(), email="member@example.org", with_user=True)
    db.session.commit()
    client.login("member@example.org")
    assert client.get("/admin/jobs").status_code == 403
    assert client.client.post("/admin/jobs/mail/1/retry").status_code in (400, 403)  # no token, no right


def test_staff_see_the_queue_workers_retries_and_the_periodic_tasks(app, staff_client):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9)
    with app.test_request_context():
        send_mail("bob@example.org", "Waiting for the server", "password_reset", user=None, link="http://localhost/y", minutes=60)
        db.session.commit()
    run_jobs()  # one failed attempt: scheduled again
    beat(app, utcnow(), worker_id="web-1:4242")
    db.session.add(PeriodicRun(task_name="renewals", started_at=utcnow() - timedelta(days=3),
                               finished_at=utcnow() - timedelta(days=3), status=PeriodicRunStatus.SUCCEEDED,
                               summary="2026-11-28: 3 charged"))
    db.session.add(PeriodicRun(task_name="stripe_sync", started_at=utcnow() - timedelta(minutes=20),
                               finished_at=utcnow() - timedelta(minutes=19), status=PeriodicRunStatus.SUCCEEDED,
                               summary="4 balance transactions"))
    db.session.commit()

    page = staff_client.get("/admin/jobs").get_data(as_text=True)

    assert re.search(r"Jobs scheduled for later \(retries\)</dt>\s*<dd[^>]*>1</dd>", page)
    assert re.search(r"Workers reporting</dt>\s*<dd[^>]*>1", page) and "web-1:4242" in page
    assert "Waiting for the server" in page and "ConnectionRefusedError" in page  # being retried, with its error
    renewals_row = re.search(r"<tr><td>Automatic renewal and renewal reminders</td>.*?</tr>", page, re.S).group(0)
    assert "3 charged" in renewals_row and ">late<" in renewals_row  # three days since a daily task ran
    sync_row = re.search(r"<tr><td>Stripe sync.*?</tr>", page, re.S).group(0)
    assert "4 balance transactions" in sync_row and "on time" in sync_row


def test_staff_retry_a_dead_mail_and_it_is_delivered(app, staff_client, smtp_server):
    server_port = app.config["MAIL_PORT"]
    mail = _dead_mail(app)  # died while the server was down
    page = staff_client.get("/admin/jobs").get_data(as_text=True)
    assert "Dead mail" in page and "Your receipt" in page
    app.config.update(MAIL_PORT=server_port)  # the server is back

    answer = staff_client.submit(_form_action(page, "Retry the mail to ada@example.org"), form_url="/admin/jobs",
                                 follow_redirects=True)

    assert "The mail is queued again." in answer.get_data(as_text=True)
    run_jobs()
    assert [m["Message-ID"] for m in smtp_server] == [mail.message_id]
    db.session.expire_all()
    assert mail.status is MailStatus.SENT
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "jobs.mail_retried"))
    assert entry.actor.email == "staff@example.org" and "ada@example.org" in entry.summary


def test_staff_discard_a_dead_mail(app, staff_client):
    mail = _dead_mail(app)
    page = staff_client.get("/admin/jobs").get_data(as_text=True)

    answer = staff_client.submit(_form_action(page, "Discard the mail to ada@example.org"), form_url="/admin/jobs",
                                 follow_redirects=True)

    assert "The mail is discarded." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert mail.status is MailStatus.DISCARDED
    assert "No dead mail." in staff_client.get("/admin/jobs").get_data(as_text=True)
    assert count(AuditEntry, AuditEntry.action == "jobs.mail_discarded") == 1
    # A second click (another tab) says so instead of failing.
    again = staff_client.submit(f"/admin/jobs/mail/{mail.id}/discard", form_url="/admin/jobs", follow_redirects=True)
    assert "That mail is not dead" in again.get_data(as_text=True)


def test_a_job_that_fails_after_its_retries_is_dead_and_staff_retry_or_discard_it(app, staff_client):
    ATTEMPTS.clear()
    flaky_export(40)
    run_jobs()
    assert ATTEMPTS == [40, 40]  # the first try and its one retry
    [failure] = db.session.scalars(sa.select(JobFailure)).all()
    assert failure.task_name.endswith("tests_flaky_export") and failure.arguments == '[[40], {}]'
    assert failure.error == "RuntimeError: export of chapter 40 failed"
    page = staff_client.get("/admin/jobs").get_data(as_text=True)
    assert "export of chapter 40 failed" in page

    staff_client.submit(_form_action(page, f"Retry job {failure.id}"), form_url="/admin/jobs")
    db.session.expire_all()
    assert failure.status is JobFailureStatus.RETRIED and huey.pending_count() == 1
    run_jobs()  # fails again: a new dead job
    assert ATTEMPTS == [40] * 4
    second = db.session.scalar(sa.select(JobFailure).where(JobFailure.status == JobFailureStatus.DEAD))
    page = staff_client.get("/admin/jobs").get_data(as_text=True)

    staff_client.submit(_form_action(page, f"Discard job {second.id}"), form_url="/admin/jobs")

    db.session.expire_all()
    assert second.status is JobFailureStatus.DISCARDED and second.resolved_by.email == "staff@example.org"
    assert "No dead jobs." in staff_client.get("/admin/jobs").get_data(as_text=True)
    assert count(AuditEntry, AuditEntry.action.in_(["jobs.job_retried", "jobs.job_discarded"])) == 2


def test_worker_health_says_when_a_worker_last_reported(app, client):
    stale = client.get("/healthz/worker")
    assert stale.status_code == 503 and stale.get_json() == {"status": "stale", "workers": 0, "last_report": None}

    beat(app, utcnow(), worker_id="worker-1:99")

    fresh = client.get("/healthz/worker")
    assert fresh.status_code == 200 and fresh.get_json()["workers"] == 1
    assert fresh.get_json()["last_report"].startswith(f"{utcnow():%Y-%m-%dT%H}")
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}  # unchanged
