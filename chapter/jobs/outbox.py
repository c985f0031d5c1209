"""The mail outbox: a mail is a row committed with the change that causes it, delivered by the worker.

States (`MailStatus`): pending -> sending -> sent, or back to pending with a later attempt, or dead
after the last attempt. A delivery first *claims* the row (one UPDATE that only one worker can win),
so a mail queued twice, or seen by two workers, is sent once; a claim whose worker died runs out
(`lease_expires_at`) and the sweep queues the mail again. The Message-ID never changes across
attempts, so the rare repeat (a worker killed after the server said 250, before the row said sent)
carries the same Message-ID and is dropped as a duplicate downstream.
"""
from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
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
               message_id: str, headers: dict[str, str] | None = None) -> OutboxMail:
    """Add a mail to the current transaction; its delivery is queued when that transaction commits."""
    from chapter.jobs import queue, tasks

    now = utcnow()
    mail = OutboxMail(message_id=message_id, sender=sender, to_address=to, subject=subject[:300], template=template,
                      body_text=body_text, body_html=body_html, status=MailStatus.PENDING, attempts=0,
                      created_at=now, next_attempt_at=now, headers=json.dumps(headers) if headers else None)
    db.session.add(mail)
    queue.enqueue_batched_after_commit(tasks.deliver_mails, message_id, batch_size=BATCH_SIZE)
    return mail


def retry_delay(attempts: int) -> int:
    """Seconds before attempt `attempts + 1`: MAIL_RETRY_BASE_SECONDS, four times longer each time, at most 4 h."""
    base = current_app.config.get("MAIL_RETRY_BASE_SECONDS", 30)
    return int(min(base * 4 ** max(attempts - 1, 0), 4 * 3600))


# Mails committed together are delivered by one job over one SMTP connection, this many at a time.
BATCH_SIZE = 100
_COLUMNS = (OutboxMail.message_id, OutboxMail.sender, OutboxMail.to_address, OutboxMail.subject,
            OutboxMail.created_at, OutboxMail.body_text, OutboxMail.body_html, OutboxMail.headers)


def _relaxed_durability() -> None:
    """On PostgreSQL, do not wait for this transaction's WAL flush: a claim or a "sent" lost in a crash
    only means the mail is sent again, with the same Message-ID (the guarantee is at least once)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


def _claim(message_ids: list[str], now: datetime) -> list[str]:
    """Take the mails for this worker in one statement: only pending ones, or ones whose sender's claim ran out."""
    lease = timedelta(seconds=current_app.config.get("MAIL_LEASE_SECONDS", 120))
    claimable = sa.or_(OutboxMail.status == MailStatus.PENDING,
                       sa.and_(OutboxMail.status == MailStatus.SENDING, OutboxMail.lease_expires_at < now))
    _relaxed_durability()
    claimed = db.session.scalars(
        sa.update(OutboxMail).where(OutboxMail.message_id.in_(message_ids), claimable)
        .values(status=MailStatus.SENDING, lease_expires_at=now + lease, attempts=OutboxMail.attempts + 1)
        .returning(OutboxMail.message_id).execution_options(synchronize_session=False)).all()
    db.session.commit()
    return claimed


def deliver_batch(message_ids: list[str]) -> dict[str, int]:
    """Deliver outbox mails, each once: claim them, hand them to the mail server, record each outcome.

    Returns how many were sent, skipped (already sent, or another worker has them), retried later,
    dead, or put back (not tried: the server failed before their turn).
    """
    from chapter.core import mail as mail_transport
    from chapter.jobs import queue, tasks

    outcomes: Counter[str] = Counter()
    claimed = _claim(list(message_ids), utcnow())
    outcomes["skipped"] = len(set(message_ids)) - len(claimed)
    rows = db.session.execute(sa.select(*_COLUMNS).where(OutboxMail.message_id.in_(claimed))
                              .order_by(OutboxMail.id)).all() if claimed else []
    db.session.rollback()
    retries: dict[int, list[str]] = defaultdict(list)
    for position, row in enumerate(rows):
        message = mail_transport.build_message(row.sender, row.to_address, row.subject, row.message_id,
                                               row.created_at, row.body_text, row.body_html,
                                               json.loads(row.headers) if row.headers else None)
        try:
            mail_transport.transmit(message)
        except Exception as error:  # smtplib errors, OSError, a bad TLS certificate: all mean "not sent"
            db.session.rollback()
            outcome, delay = _failed(row.message_id, error)
            outcomes[outcome] += 1
            if delay is not None:
                retries[delay].append(row.message_id)
            # A refusal of this message lets the others go on; any other error (connection, TLS,
            # log-in, time-out) stops the batch, and the rest waits with it.
            if not isinstance(error, mail_transport.MESSAGE_REFUSALS):
                rest = [later.message_id for later in rows[position + 1:]]
                if rest:
                    wait = delay if delay is not None else retry_delay(1)
                    _put_back(rest, wait)
                    retries[wait].extend(rest)
                    outcomes["put back"] += len(rest)
                break
            continue
        _relaxed_durability()
        db.session.execute(sa.update(OutboxMail).where(OutboxMail.message_id == row.message_id).values(
            status=MailStatus.SENT, sent_at=utcnow(), lease_expires_at=None, last_error=None)
            .execution_options(synchronize_session=False))
        db.session.commit()
        outcomes["sent"] += 1
    for delay, later in retries.items():
        queue.enqueue_safely(tasks.deliver_mails, later, delay=delay)
    return {name: count for name, count in outcomes.items() if count}


def _put_back(message_ids: list[str], delay: int) -> None:
    """Mails claimed but not tried (the server failed first): pending again, the attempt not counted."""
    db.session.execute(sa.update(OutboxMail).where(OutboxMail.message_id.in_(message_ids),
                                                   OutboxMail.status == MailStatus.SENDING)
                       .values(status=MailStatus.PENDING, attempts=OutboxMail.attempts - 1, lease_expires_at=None,
                               next_attempt_at=utcnow() + timedelta(seconds=delay))
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _failed(message_id: str, error: BaseException) -> tuple[str, int | None]:
    """Record a failed attempt: pending again with back-off, or dead after the last attempt (or a 5xx)."""
    from chapter.core.mail import is_permanent

    mail = db.session.scalar(sa.select(OutboxMail).where(OutboxMail.message_id == message_id))
    mail.last_error = f"{type(error).__name__}: {error}"[:1000]
    mail.lease_expires_at = None
    max_attempts = current_app.config.get("MAIL_MAX_ATTEMPTS", 8)
    if mail.attempts >= max_attempts or is_permanent(error):
        mail.status = MailStatus.DEAD
        db.session.commit()
        log.error("mail %s to %s is dead after %s attempt(s): %s", message_id, mail.to_address, mail.attempts, error)
        return "dead", None
    delay = retry_delay(mail.attempts)
    mail.status = MailStatus.PENDING
    mail.next_attempt_at = utcnow() + timedelta(seconds=delay)
    db.session.commit()
    log.warning("mail %s to %s not sent (attempt %s), retrying in %s s: %s", message_id, mail.to_address,
                mail.attempts, delay, error)
    return "retry", delay


def sweep(now: datetime | None = None) -> int:
    """Queue again every mail whose prompt was lost: pending and long overdue, or claimed by a worker that died."""
    from chapter.jobs import queue, tasks

    now = now or utcnow()
    stuck = db.session.scalars(sa.select(OutboxMail.message_id).where(sa.or_(
        sa.and_(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at < now - SWEEP_GRACE),
        sa.and_(OutboxMail.status == MailStatus.SENDING, OutboxMail.lease_expires_at < now),
    )).order_by(OutboxMail.id).limit(5000)).all()
    db.session.rollback()
    for start in range(0, len(stuck), BATCH_SIZE):
        queue.enqueue_safely(tasks.deliver_mails, stuck[start:start + BATCH_SIZE])
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
