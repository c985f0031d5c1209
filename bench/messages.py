"""Messages at scale: an officer's message to the whole of the largest chapter (2,500 members at the design scale).

- `message_send_request_p50_ms`: the server time of the send request (POST /chapters/N/messages/new, "send
  now" to everyone on the roster): the audience resolved with the roster's own query, opt-outs checked, the
  recipients frozen (bulk insert), audited, committed and the sending job queued. Target 2,000 ms.
- `message_mail_written_seconds`: the worker's job for that message, once: each recipient's mail merged,
  rendered (Markdown, sanitised) and written to the outbox in batches of 100 (no target: it is background work).

The bench's messages, recipients and outbox rows are deleted afterwards; the chapter's cap is put back.
"""
from __future__ import annotations

import time

import sqlalchemy as sa

from bench.common import Bench, log, median, percentile
from bench.roster import STAFF, _largest_chapter

TARGET_MS = 2000
SUBJECT = "Bench: annual meeting"
BODY = ("Hello {{first_name}},\n\nYour membership runs until **{{member_until}}**. "
        "[Renew in two minutes]({{renew_link}}).\n\n- Dinner at 6\n- Talk at 7")


def run(bench: Bench) -> None:
    number, size, _rows = _largest_chapter(bench)
    log(f"messages: chapter #{number} has {size:,} members")
    staff = bench.client(STAFF)
    form = {"audience": "all", "category": "chapter_news", "subject": SUBJECT, "body": BODY, "when": "now",
            "roster_filter": "", "send": "Send"}
    runs = max(3, min(bench.repeat, 10))
    _cap(bench, number, runs + 2)
    timings: list[float] = []
    try:
        for index in range(runs + 1):
            start = time.perf_counter()
            response = staff.post(f"/chapters/{number}/messages/new", data=form)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 302:
                raise RuntimeError(f"send refused: HTTP {response.status_code} {response.get_data(as_text=True)[:300]}")
            if index:  # the first is the warm-up
                timings.append(elapsed)
        log("messages: send request ms " + ", ".join(f"{t:.0f}" for t in timings))
        audience = _last_audience(bench)
        bench.emit("message_send_request_p50_ms", median(timings), "ms", TARGET_MS, chapter=number,
                   recipients=audience, runs=len(timings), p95_ms=round(percentile(timings, 0.95), 2))
        seconds, written = _time_job(bench)
        bench.emit("message_mail_written_seconds", seconds, "s", None, chapter=number, mails=written)
    finally:
        _clean_up(bench, number)


def _cap(bench: Bench, number: int, cap: int) -> None:
    from chapter.chapters.services import get_chapter_by_number
    from chapter.communications.models import ChapterMessageCap
    from chapter.extensions import db

    with bench.app.app_context():
        chapter = get_chapter_by_number(number)
        db.session.merge(ChapterMessageCap(chapter_id=chapter.id, daily_cap=cap))
        db.session.commit()


def _last_audience(bench: Bench) -> int:
    from chapter.communications.models import Message
    from chapter.extensions import db

    with bench.app.app_context():
        return db.session.scalar(sa.select(Message.audience_count).where(Message.subject == SUBJECT)
                                 .order_by(Message.id.desc()).limit(1)) or 0


def _time_job(bench: Bench) -> tuple[float, int]:
    """The sending job of the last bench message, run here as a worker would."""
    from chapter.communications import sending
    from chapter.communications.models import Message, MessageRecipient, RecipientStatus
    from chapter.extensions import db

    with bench.app.app_context():
        message_id = db.session.scalar(sa.select(Message.id).where(Message.subject == SUBJECT)
                                       .order_by(Message.id.desc()).limit(1))
        db.session.rollback()
        start = time.perf_counter()
        sending.send_message(message_id)
        seconds = time.perf_counter() - start
        written = db.session.scalar(sa.select(sa.func.count(MessageRecipient.id)).where(
            MessageRecipient.message_id == message_id, MessageRecipient.status == RecipientStatus.MAILED))
        return seconds, written


def _clean_up(bench: Bench, number: int) -> None:
    from chapter.chapters.services import get_chapter_by_number
    from chapter.communications.models import ChapterMessageCap, Message, MessageRecipient
    from chapter.core.audit import AuditEntry
    from chapter.extensions import db
    from chapter.jobs import queue
    from chapter.jobs.models import OutboxMail

    with bench.app.app_context():
        ids = sa.select(Message.id).where(Message.subject == SUBJECT).scalar_subquery()
        mail_ids = sa.select(MessageRecipient.outbox_message_id).where(MessageRecipient.message_id.in_(ids))
        db.session.execute(sa.delete(OutboxMail).where(OutboxMail.message_id.in_(mail_ids)))
        db.session.execute(sa.delete(MessageRecipient).where(MessageRecipient.message_id.in_(ids)))
        db.session.execute(sa.delete(AuditEntry).where(AuditEntry.action == "communications.message_sent",
                                                       AuditEntry.summary.like(f"%{SUBJECT}%")))
        db.session.execute(sa.delete(Message).where(Message.subject == SUBJECT))
        chapter = get_chapter_by_number(number)
        db.session.execute(sa.delete(ChapterMessageCap).where(ChapterMessageCap.chapter_id == chapter.id))
        db.session.commit()
    queue.huey.flush()
