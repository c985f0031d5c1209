"""The mail outbox: a mail is a row of the transaction that causes it, delivered once by the worker's job."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.mail import send_mail
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs import outbox, tasks
from chapter.jobs.models import MailStatus, OutboxMail
from chapter.jobs.queue import huey
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.jobs.helpers import RecordingHandler, count, start_smtp
from tests.payments.helpers import intent_event, signed_event


def _mail(to: str = "ada@example.org", n: int = 0) -> OutboxMail:
    send_mail(to, f"Reset your password {n}", "password_reset", user=None, link=f"http://localhost/reset/{n}", minutes=60)
    return db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id.desc())).first()


@pytest.fixture
def recording_smtp(app):
    """A real SMTP server that records messages and MAIL commands, and can be made to stall."""
    handler = RecordingHandler()
    controller, port = start_smtp(handler)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield handler
    handler.stall.clear()
    controller.stop()


def test_a_rolled_back_change_sends_nothing(app, smtp_server):
    with app.test_request_context():
        factories.user("ada@example.org")
        _mail()
        assert count(OutboxMail) == 1  # in the transaction, like the change itself
        db.session.rollback()

    assert run_jobs() == 0
    assert outbox.sweep(now=utcnow() + timedelta(days=1)) == 0 and run_jobs() == 0
    assert smtp_server == [] and count(OutboxMail) == 0


def test_a_committed_mail_is_delivered_multipart_in_the_sites_look_with_its_message_id(app, smtp_server):
    with app.test_request_context():
        mail = _mail()
        db.session.commit()
    # Nothing is sent in the transaction that wrote it: the row waits, its delivery job is queued.
    assert mail.status is MailStatus.PENDING and huey.pending_count() == 1

    assert run_jobs() == 1
    [received] = smtp_server
    assert received["Message-ID"] == mail.message_id and received["To"] == "ada@example.org"
    assert received.is_multipart() and received.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in received.get_payload()] == ["text/plain", "text/html"]
    assert "http://localhost/reset/0" in text_of(received)
    html = received.get_payload(1).get_payload(decode=True).decode()
    assert '<a href="http://localhost/reset/0">http://localhost/reset/0</a>' in html
    assert "#0b4f6c" in html and "<strong>Chapter</strong> membership" in html  # the site's colours and name
    db.session.expire_all()
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 1) and mail.sent_at is not None


def test_a_mail_queued_twice_is_delivered_once(app, smtp_server):
    with app.test_request_context():
        mail = _mail()
        db.session.commit()
    tasks.deliver_mail(mail.message_id)  # a second prompt for the same row (the sweep, a retry)
    tasks.deliver_mail(mail.message_id)

    assert run_jobs() == 3
    assert len(smtp_server) == 1
    db.session.expire_all()
    assert mail.attempts == 1


def test_smtp_down_then_up_delivers_every_mail_exactly_once(app, smtp_server):
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 9  # nothing listens there: the mail server is down
    with app.test_request_context():
        ids = [_mail(f"m{n}@example.org", n).message_id for n in range(5)]
        db.session.commit()

    run_jobs()  # the first delivery fails; the batch stops there and every mail waits for the back-off
    assert smtp_server == []
    mails = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)).all()
    assert {m.status for m in mails} == {MailStatus.PENDING} and all(m.next_attempt_at > utcnow() for m in mails)
    assert [m.attempts for m in mails] == [1, 0, 0, 0, 0]  # a server that is down is not tried five times
    assert "ConnectionRefusedError" in mails[0].last_error

    app.config["MAIL_PORT"] = port  # the server is back
    run_jobs(now=utcnow() + timedelta(minutes=5))  # the retries come due
    assert sorted(m["Message-ID"] for m in smtp_server) == sorted(ids)

    # Sweeps and late prompts change nothing: every mail is sent, once.
    outbox.sweep(now=utcnow() + timedelta(days=1))
    for message_id in ids:
        tasks.deliver_mail(message_id)
    run_jobs(now=utcnow() + timedelta(days=1))
    assert len(smtp_server) == 5
    db.session.expire_all()
    assert {(m.status, m.last_error) for m in mails} == {(MailStatus.SENT, None)}
    assert [m.attempts for m in mails] == [2, 1, 1, 1, 1]


def test_the_back_off_grows_and_the_mail_is_dead_after_the_last_attempt(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_MAX_ATTEMPTS=4, MAIL_RETRY_BASE_SECONDS=30)
    assert [outbox.retry_delay(n) for n in (1, 2, 3, 4, 9)] == [30, 120, 480, 1920, 4 * 3600]
    with app.test_request_context():
        mail = _mail()
        db.session.commit()

    run_jobs(now=utcnow() + timedelta(days=1))

    db.session.expire_all()
    assert (mail.status, mail.attempts) == (MailStatus.DEAD, 4) and "ConnectionRefusedError" in mail.last_error


def test_a_mail_server_that_refuses_the_address_for_good_makes_the_mail_dead_at_once(app):
    class Refusing(RecordingHandler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 no such mailbox"

    controller, port = start_smtp(Refusing())
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        with app.test_request_context():
            mail = _mail("nobody@example.org")
            db.session.commit()
        run_jobs(now=utcnow() + timedelta(days=1))
    finally:
        controller.stop()
    db.session.expire_all()
    assert (mail.status, mail.attempts) == (MailStatus.DEAD, 1) and "550" in mail.last_error


def test_a_webhook_answers_without_touching_smtp_while_the_mail_server_stalls(app, client, stripe_peer, recording_smtp):
    from chapter.payments import services
    from chapter.payments.models import Order, OrderStatus
    from tests.payments.helpers import CARD_OK, confirm_card_setup, pay_page

    recording_smtp.stall.set()  # the mail server accepts connections and then hangs
    factories.member(home=factories.chapter(40), status="pending", email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    joined = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    order_id = int(joined.headers["Location"].rsplit("/", 1)[1])
    setup_intent, _ = pay_page(client, order_id)
    confirmed = confirm_card_setup(stripe_peer, setup_intent, CARD_OK)
    payment = services.open_payment(db.session.get(Order, order_id))
    db.session.commit()
    result = services.charge_payment(payment, payment_method_id=confirmed["payment_method"])
    payment.stripe_payment_intent_id = result.id
    db.session.commit()
    event = intent_event("evt_stall_1", {
        "id": payment.stripe_payment_intent_id, "object": "payment_intent", "status": "succeeded",
        "amount": payment.amount_cents, "currency": payment.currency.lower(),
        "metadata": {"order_id": str(order_id), "payment_id": str(payment.id)}})
    body, signature = signed_event(event)

    answer = client.client.post("/stripe/webhook", data=body,
                                headers={"Stripe-Signature": signature, "Content-Type": "application/json"})

    assert answer.status_code == 200 and answer.get_json()["outcome"].endswith("fulfilled"), answer.get_json()
    assert recording_smtp.mail_commands == 0  # the webhook never spoke to the mail server
    db.session.expire_all()
    assert db.session.get(Order, order_id).status is OrderStatus.PAID
    [receipt] = db.session.scalars(sa.select(OutboxMail)).all()
    assert receipt.status is MailStatus.PENDING and receipt.subject.startswith("Receipt for ORD-")

    # The worker meets the stalled server: its attempt times out and is retried later, nothing lost.
    app.config["MAIL_TIMEOUT"] = 1
    run_jobs()
    db.session.expire_all()
    assert (receipt.status, receipt.attempts) == (MailStatus.PENDING, 1) and "timed out" in receipt.last_error
    recording_smtp.stall.clear()
    run_jobs(now=utcnow() + timedelta(minutes=5))
    assert recording_smtp.message_ids() == [receipt.message_id]


def test_mails_committed_together_go_out_over_one_connection_and_a_refused_address_stops_none_of_the_others(app):
    class RefusingOne(RecordingHandler):
        peers: set = set()

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            self.peers.add(session.peer)
            if address.startswith("bounced"):
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    handler = RefusingOne()
    controller, port = start_smtp(handler)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        with app.test_request_context():
            for n, to in enumerate(["a@example.org", "bounced@example.org", "c@example.org", "d@example.org"]):
                _mail(to, n)
            db.session.commit()
        assert run_jobs() == 1  # one job for the transaction's four mails
    finally:
        controller.stop()

    assert sorted(m["To"] for m in handler.messages) == ["a@example.org", "c@example.org", "d@example.org"]
    assert len(handler.peers) == 1  # one connection, reused
    statuses = dict(db.session.execute(sa.select(OutboxMail.to_address, OutboxMail.status)).all())
    assert statuses["bounced@example.org"] is MailStatus.DEAD
    assert {statuses[a] for a in ("a@example.org", "c@example.org", "d@example.org")} == {MailStatus.SENT}
