"""Sending a message: the audience frozen, the mail written in batches by the worker, the counts read back
from the outbox. One worker sends a message: each claims it with one conditional UPDATE first."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from chapter.communications import audience, composing, preferences
from chapter.communications.models import (
    MailOptOut, Message, MessageRecipient, MessageStatus, RecipientStatus,
)
from chapter.core.formatting import format_date
from chapter.core.links import public_url
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs.models import MailStatus, OutboxMail

BATCH_SIZE = 100
# A worker holds a message this long per batch; killed mid-send, the periodic task takes it over after.
LEASE = timedelta(minutes=10)


def freeze_audience(message: Message, now: datetime) -> int:
    """Record who the message goes to, as the list stands now: the filter is kept, the people written down."""
    kind, params = message.audience_kind, message.params
    people = audience.resolve(message.chapter, kind, params, now.date())
    opted_out = set(db.session.scalars(preferences.opted_out_addresses(message.category)))
    rows = []
    for person in people:
        email = (person.email or "").strip().lower() or None
        status = (RecipientStatus.NO_ADDRESS if not email else
                  RecipientStatus.SKIPPED_PREFERENCE if email in opted_out else RecipientStatus.PENDING)
        rows.append({"message_id": message.id, "member_id": person.member_id, "email": email,
                     "first_name": (person.first_name or "")[:100],
                     "member_until": format_date(person.paid_through, ""), "status": status})
    for start in range(0, len(rows), 1000):
        db.session.execute(MessageRecipient.__table__.insert(), rows[start:start + 1000])  # Core: no ORM bookkeeping
    message.audience_count, message.frozen_at = len(rows), now
    db.session.flush()
    return len(rows)


def queue_sending(message: Message) -> None:
    """Prompt a worker to write the message's mail once the request commits."""
    from chapter.jobs import queue, tasks

    queue.enqueue_after_commit(tasks.send_member_message, message.id)


def claim(message_id: int, now: datetime) -> bool:
    """Take the message for this worker: due and not taken, or taken by a worker whose lease ran out."""
    claimable = sa.or_(
        sa.and_(Message.status.in_([MessageStatus.SCHEDULED, MessageStatus.QUEUED]), Message.send_at <= now),
        sa.and_(Message.status == MessageStatus.SENDING, Message.lease_expires_at < now))
    won = db.session.execute(sa.update(Message).where(Message.id == message_id, claimable)
                             .values(status=MessageStatus.SENDING, lease_expires_at=now + LEASE)
                             .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(won)


def send_message(message_id: int, now: datetime | None = None) -> str:
    """The job: claim the message, freeze its audience if not yet, write its mail a batch at a time."""
    now = now or utcnow()
    if not claim(message_id, now):
        return "not claimed (sent, cancelled, not due, or another worker has it)"
    message = db.session.get(Message, message_id)
    if message.frozen_at is None:
        freeze_audience(message, now)
        db.session.commit()
    written = skipped = 0
    renew_link = public_url("members.renew")
    while True:
        batch = db.session.scalars(sa.select(MessageRecipient).where(
            MessageRecipient.message_id == message.id, MessageRecipient.status == RecipientStatus.PENDING)
            .order_by(MessageRecipient.id).limit(BATCH_SIZE)).all()
        if not batch:
            break
        # Read again for every batch: an unsubscribe made while the message is going out counts at once.
        opted_out = set(db.session.scalars(sa.select(MailOptOut.email).where(
            MailOptOut.category == message.category, MailOptOut.email.in_([r.email for r in batch]))))
        for recipient in batch:
            if recipient.email in opted_out:
                recipient.status = RecipientStatus.SKIPPED_PREFERENCE
                skipped += 1
                continue
            values = {"first_name": recipient.first_name or "member", "member_until": recipient.member_until,
                      "renew_link": renew_link}
            rendered = composing.render_for(message.subject, message.body, None, values)
            mail = composing.deliver(message.chapter, rendered, to=recipient.email, category=message.category)
            recipient.status, recipient.outbox_message_id = RecipientStatus.MAILED, mail["Message-ID"]
            written += 1
        message.lease_expires_at = utcnow() + LEASE
        db.session.commit()  # the batch's mail is queued for delivery on this commit
    message.status, message.finished_at, message.lease_expires_at = MessageStatus.SENT, utcnow(), None
    db.session.commit()
    return f"message {message_id}: {written} mail(s) written, {skipped} skipped by preference"


def due_message_ids(now: datetime) -> list[int]:
    """Messages due (scheduled time reached, or queued and never started) or abandoned by a dead worker."""
    return list(db.session.scalars(sa.select(Message.id).where(sa.or_(
        sa.and_(Message.status.in_([MessageStatus.SCHEDULED, MessageStatus.QUEUED]), Message.send_at <= now),
        sa.and_(Message.status == MessageStatus.SENDING, Message.lease_expires_at < now),
    )).order_by(Message.send_at).limit(50)))


def send_due_messages(now: datetime | None = None) -> str:
    """The periodic task: send every due message (each claimed first, so two workers send it once)."""
    now = now or utcnow()
    ids = due_message_ids(now)
    db.session.rollback()
    results = [send_message(message_id, now) for message_id in ids]
    sent = sum(1 for result in results if not result.startswith("not claimed"))
    return f"{sent} message(s) sent of {len(ids)} due"


@dataclass
class Counts:
    """Where a message's recipients are: the numbers the sent log shows, read from the outbox."""

    audience: int = 0
    queued: int = 0      # mail not yet written, or in the outbox and not yet accepted by the mail server
    sent: int = 0        # accepted by the mail server
    failed: int = 0      # given up (dead or discarded)
    skipped: int = 0     # opted out of this kind of mail
    no_address: int = 0

    @property
    def done(self) -> bool:
        return self.queued == 0

    def as_dict(self) -> dict:
        return {"audience": self.audience, "queued": self.queued, "sent": self.sent, "failed": self.failed,
                "skipped": self.skipped, "no_address": self.no_address, "done": self.done}


def counts(message_ids: list[int]) -> dict[int, Counts]:
    """Each message's counts in one grouped query (recipients joined with their outbox mail)."""
    result = {message_id: Counts() for message_id in message_ids}
    if not message_ids:
        return result
    rows = db.session.execute(
        sa.select(MessageRecipient.message_id, MessageRecipient.status, OutboxMail.status, sa.func.count())
        .outerjoin(OutboxMail, OutboxMail.message_id == MessageRecipient.outbox_message_id)
        .where(MessageRecipient.message_id.in_(message_ids))
        .group_by(MessageRecipient.message_id, MessageRecipient.status, OutboxMail.status))
    for message_id, status, mail_status, number in rows:
        tally = result[message_id]
        tally.audience += number
        if status is RecipientStatus.SKIPPED_PREFERENCE:
            tally.skipped += number
        elif status is RecipientStatus.NO_ADDRESS:
            tally.no_address += number
        elif mail_status is MailStatus.SENT:
            tally.sent += number
        elif mail_status in (MailStatus.DEAD, MailStatus.DISCARDED):
            tally.failed += number
        else:
            tally.queued += number
    return result


def recipients_counter(message_id: int) -> Counter:
    """Recipients by status (for tests and the CLI)."""
    return Counter(dict(db.session.execute(sa.select(MessageRecipient.status, sa.func.count())
                                           .where(MessageRecipient.message_id == message_id)
                                           .group_by(MessageRecipient.status)).all()))
