"""The mail outbox: a mail is a row committed with the change that causes it, delivered by the worker.

States (`MailStatus`): pending -> sending -> sent, or back to pending with a later attempt, or dead
after the last attempt. A delivery first *claims* the row (one UPDATE that only one worker can win),
so a mail queued twice, or seen by two workers, is sent once; a claim whose worker died runs out
(`lease_expires_at`) and the sweep queues the mail again. The Message-ID never changes across
attempts, so the rare repeat (a worker killed after the server said 250, before the row said sent)
carries the same Message-ID and is dropped as a duplicate downstream.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs.models import MailStatus, OutboxMail

log = logging.getLogger(__name__)

# When a lost prompt counts as lost: a pending mail overdue by this much is queued again by the sweep.
SWEEP_GRACE = timedelta(minutes=2)


def queue_mail(*, to: str, subject: str, template: str, body_text: str, body_html: str | None, sender: str,
               message_id: str) -> OutboxMail:
    """Add a mail to the current transaction; its delivery is queued when that transaction commits."""
    from chapter.jobs import queue, tasks

    now = utcnow()
    mail = OutboxMail(message_id=message_id, sender=sender, to_address=to, subject=subject[:300], template=template,
                      body_text=body_text, body_html=body_html, status=MailStatus.PENDING, attempts=0,
                      created_at=now, next_attempt_at=now)
    db.session.add(mail)
    queue.enqueue_after_commit(tasks.deliver_mail, message_id)
    return mail


def retry_delay(attempts: int) -> int:
    """Seconds before attempt `attempts + 1`: MAIL_RETRY_BASE_SECONDS, four times longer each time, at most 4 h."""
    base = current_app.config.get("MAIL_RETRY_BASE_SECONDS", 30)
    return int(min(base * 4 ** max(attempts - 1, 0), 4 * 3600))


@dataclass(frozen=True)
class Delivery:
    """What one delivery job did: sent, skipped (someone else has it, or it is settled), retry later, dead."""

    outcome: str
    retry_in: int | None = None


def _claim(message_id: str, now: datetime) -> bool:
    """Take the mail for this worker: only a pending one, or one whose sender's claim ran out."""
    lease = timedelta(seconds=current_app.config.get("MAIL_LEASE_SECONDS", 120))
    claimable = sa.or_(OutboxMail.status == MailStatus.PENDING,
                       sa.and_(OutboxMail.status == MailStatus.SENDING, OutboxMail.lease_expires_at < now))
    result = db.session.execute(
        sa.update(OutboxMail).where(OutboxMail.message_id == message_id, claimable)
        .values(status=MailStatus.SENDING, lease_expires_at=now + lease, attempts=OutboxMail.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def deliver(message_id: str) -> Delivery:
    """Deliver one outbox mail once: claim it, hand it to the mail server, record the outcome."""
    from chapter.core import mail as mail_transport

    if not _claim(message_id, utcnow()):
        db.session.rollback()
        return Delivery("skipped")
    mail = db.session.scalar(sa.select(OutboxMail).where(OutboxMail.message_id == message_id))
    message = mail_transport.build_message(mail.sender, mail.to_address, mail.subject, mail.message_id,
                                           mail.created_at, mail.body_text, mail.body_html)
    try:
        mail_transport.transmit(message)
    except Exception as error:  # smtplib errors, OSError, a bad TLS certificate: all mean "not sent"
        db.session.rollback()
        return _failed(message_id, error)
    db.session.execute(sa.update(OutboxMail).where(OutboxMail.message_id == message_id).values(
        status=MailStatus.SENT, sent_at=utcnow(), lease_expires_at=None, last_error=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return Delivery("sent")


def _failed(message_id: str, error: BaseException) -> Delivery:
    from chapter.core.mail import is_permanent

    mail = db.session.scalar(sa.select(OutboxMail).where(OutboxMail.message_id == message_id))
    mail.last_error = f"{type(error).__name__}: {error}"[:1000]
    mail.lease_expires_at = None
    max_attempts = current_app.config.get("MAIL_MAX_ATTEMPTS", 8)
    if mail.attempts >= max_attempts or is_permanent(error):
        mail.status = MailStatus.DEAD
        db.session.commit()
        log.error("mail %s to %s is dead after %s attempt(s): %s", message_id, mail.to_address, mail.attempts, error)
        return Delivery("dead")
    delay = retry_delay(mail.attempts)
    mail.status = MailStatus.PENDING
    mail.next_attempt_at = utcnow() + timedelta(seconds=delay)
    db.session.commit()
    log.warning("mail %s to %s not sent (attempt %s), retrying in %s s: %s", message_id, mail.to_address,
                mail.attempts, delay, error)
    return Delivery("retry", retry_in=delay)


def sweep(now: datetime | None = None) -> int:
    """Queue again every mail whose prompt was lost: pending and long overdue, or claimed by a worker that died."""
    from chapter.jobs import queue, tasks

    now = now or utcnow()
    stuck = db.session.scalars(sa.select(OutboxMail.message_id).where(sa.or_(
        sa.and_(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at < now - SWEEP_GRACE),
        sa.and_(OutboxMail.status == MailStatus.SENDING, OutboxMail.lease_expires_at < now),
    )).order_by(OutboxMail.id).limit(5000)).all()
    db.session.rollback()
    for message_id in stuck:
        queue.enqueue_safely(tasks.deliver_mail, message_id)
    return len(stuck)


# --- Staff: dead mail ---------------------------------------------------------------------------

class MailNotDead(DomainError):
    """Only a dead mail can be retried or discarded."""


def _dead_mail(mail_id: int) -> OutboxMail:
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None or mail.status is not MailStatus.DEAD:
        raise MailNotDead("That mail is not dead (it was sent, retried or discarded meanwhile).")
    return mail


def retry_dead_mail(mail_id: int, *, actor) -> OutboxMail:
    """Give a dead mail a fresh set of attempts; it is queued when the request commits."""
    from chapter.jobs import queue, tasks

    mail = _dead_mail(mail_id)
    mail.status, mail.attempts, mail.next_attempt_at = MailStatus.PENDING, 0, utcnow()
    audit.record("jobs.mail_retried", actor=actor, summary=f"Dead mail to {mail.to_address} queued again: {mail.subject}",
                 after={"message_id": mail.message_id})
    queue.enqueue_after_commit(tasks.deliver_mail, mail.message_id)
    return mail


def discard_dead_mail(mail_id: int, *, actor) -> OutboxMail:
    """Give up on a dead mail for good (it stays in the table, marked discarded)."""
    mail = _dead_mail(mail_id)
    mail.status = MailStatus.DISCARDED
    audit.record("jobs.mail_discarded", actor=actor, summary=f"Dead mail to {mail.to_address} discarded: {mail.subject}",
                 after={"message_id": mail.message_id, "last_error": mail.last_error})
    return mail
