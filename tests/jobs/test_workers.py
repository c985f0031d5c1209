"""Real workers: `flask --app wsgi worker` processes (and a worker thread) sharing the queue and the database."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.mail import send_mail
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs import outbox, tasks
from chapter.jobs.models import MailStatus, OutboxMail, WorkerHeartbeat
from chapter.jobs.worker import ChapterConsumer
from tests import factories
from tests.jobs.helpers import RecordingHandler, count, start_smtp, start_worker, stop_worker, wait_until


@pytest.fixture
def smtp(app):
    handler = RecordingHandler()
    controller, port = start_smtp(handler)
    handler.port = port
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield handler
    handler.stall.clear()
    controller.stop()


@pytest.fixture
def workers():
    """Worker processes started by the test; every one is stopped before the database is emptied."""
    started = []
    yield started
    for process in started:
        stop_worker(process, kill=True)


def _queue_mails(app, n: int) -> list[str]:
    with app.test_request_context():
        for i in range(n):
            send_mail(f"m{i}@example.org", f"Mail {i}", "password_reset", user=None, link=f"http://localhost/{i}", minutes=60)
        db.session.commit()
    return db.session.scalars(sa.select(OutboxMail.message_id).order_by(OutboxMail.id)).all()


def test_two_workers_deliver_each_mail_once(app, smtp, workers):
    workers += [start_worker(app, smtp.port), start_worker(app, smtp.port)]
    ids = _queue_mails(app, 40)
    for message_id in ids:  # a second prompt for every mail: both workers may pick up either
        tasks.deliver_mail(message_id)

    wait_until(lambda: count(OutboxMail, OutboxMail.status == MailStatus.SENT) == 40, what="40 mails sent",
               workers=workers)
    wait_until(lambda: count(WorkerHeartbeat) == 2, what="both workers reporting", workers=workers)

    assert sorted(smtp.message_ids()) == sorted(ids)  # each mail once, none twice
    assert set(db.session.scalars(sa.select(OutboxMail.attempts)).all()) == {1}
    health = app.test_client().get("/healthz/worker")
    assert health.status_code == 200 and health.get_json()["workers"] == 2
    for process in workers:
        assert "worker stopped" in stop_worker(process)
    assert count(WorkerHeartbeat) == 0  # a clean stop says goodbye


def test_a_worker_killed_in_the_middle_of_a_delivery_leaves_it_to_be_sent_again_once(app, smtp, workers):
    smtp.stall.set()  # the first delivery hangs in DATA, so the worker is mid-job when it dies
    # A short claim, so that the test need not wait the default two minutes for it to run out.
    first = start_worker(app, smtp.port, extra_env={"MAIL_LEASE_SECONDS": "2", "MAIL_TIMEOUT": "60"})
    workers.append(first)
    [message_id] = _queue_mails(app, 1)
    wait_until(lambda: smtp.data_started == 1, what="the worker to be mid-delivery", workers=workers)

    stop_worker(first, kill=True)  # SIGKILL: no clean-up of any kind
    db.session.expire_all()
    mail = db.session.scalar(sa.select(OutboxMail))
    assert mail.status is MailStatus.SENDING and mail.attempts == 1 and smtp.messages == []
    smtp.stall.clear()

    # Once the dead worker's claim runs out, the sweep queues the mail again and a new worker sends it.
    wait_until(lambda: outbox.sweep() == 1, what="the claim to run out and the sweep to queue the mail")
    second = start_worker(app, smtp.port)
    workers.append(second)
    wait_until(lambda: count(OutboxMail, OutboxMail.status == MailStatus.SENT) == 1, what="the mail sent",
               workers=[second])
    stop_worker(second)

    assert smtp.message_ids() == [message_id]
    db.session.expire_all()
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)
    assert outbox.sweep(now=utcnow() + timedelta(days=1)) == 0  # nothing left to send again


def test_a_worker_thread_delivers_what_a_request_commits(app, client, smtp):
    consumer = ChapterConsumer(app, install_signal_handlers=False, workers=1, periodic=False,
                               initial_delay=0.05, max_delay=0.2)
    consumer.start()
    try:
        factories.user("ada@example.org")
        db.session.commit()
        assert client.submit("/reset-password", {"email": "ada@example.org"}).status_code == 302
        wait_until(lambda: len(smtp.messages) == 1, what="the reset mail")
    finally:
        consumer.stop(graceful=True)
    assert smtp.messages[0]["Subject"] == "Reset your password"
    assert db.session.scalar(sa.select(OutboxMail.status)) is MailStatus.SENT
