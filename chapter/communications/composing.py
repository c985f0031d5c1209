"""Writing a message: merge fields, the preview as one real recipient sees it, the test send, the daily cap,
and the send itself (now, or at a set time). Services: explicit arguments, `flush()` only."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from markupsafe import Markup

from chapter.chapters.models import Chapter
from chapter.communications import audience, preferences
from chapter.communications.models import (
    DEFAULT_DAILY_CAP, ChapterMessageCap, MailCategory, Message, MessageStatus,
)
from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.formatting import format_date
from chapter.core.links import public_url
from chapter.core.mail import send_mail
from chapter.core.markdown import markdown_to_text, render_markdown
from chapter.core.models import utcnow
from chapter.core.text import fold
from chapter.extensions import db

MERGE_FIELDS = {
    "first_name": "the recipient's first name",
    "member_until": "the last day of their membership (e.g. 31 Dec 2026)",
    "renew_link": "the link to renew (it logs nobody in: the member logs in as usual)",
}
_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class MessageRefused(DomainError):
    """A message that cannot be sent as written (a bad merge field, the daily cap, a time in the past)."""


@dataclass(frozen=True)
class Rendered:
    """A message as one recipient receives it."""

    subject: str
    html: Markup
    text: str
    recipient: audience.Candidate | None


def check_merge_fields(*texts: str) -> None:
    """Refuse a merge field that does not exist (a typo would reach every member as written)."""
    unknown = sorted({name for text in texts for name in _FIELD.findall(text or "") if name not in MERGE_FIELDS})
    if unknown:
        raise MessageRefused(f"Unknown merge field {{{{{unknown[0]}}}}}: use " +
                             ", ".join(f"{{{{{name}}}}}" for name in MERGE_FIELDS) + ".", field="body")


def merge_values(person: audience.Candidate | None) -> dict[str, str]:
    """The merge fields' values for one recipient (a sample when there is none)."""
    return {
        "first_name": (person.first_name if person else "") or "member",
        "member_until": format_date(person.paid_through, "") if person else "",
        "renew_link": public_url("members.renew"),
    }


def merge(text: str, values: dict[str, str]) -> str:
    return _FIELD.sub(lambda match: values.get(match.group(1), match.group(0)), text or "")


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def render_for(subject: str, body: str, person: audience.Candidate | None,
               values: dict[str, str] | None = None) -> Rendered:
    """Subject and body with the merge fields of `person` filled in; the body as sanitised HTML and as text.

    For the HTML, a member's own values (a first name with * or [ ]) are escaped, so they stay text and never
    become emphasis or a link; the renew link is ours and goes in as it is (it may be a link's target).
    """
    values = values or merge_values(person)
    literal = {name: value if name == "renew_link" else _MARKDOWN_PUNCTUATION.sub(r"\\\1", value)
               for name, value in values.items()}
    return Rendered(merge(subject, values), render_markdown(merge(body, literal)), markdown_to_text(merge(body, values)),
                    person)


def first_recipient(chapter: Chapter, kind: str, params: dict, category: MailCategory, day: date):
    """The first person of the audience who would receive the message (an address, not opted out)."""
    opted_out = set(db.session.scalars(preferences.opted_out_addresses(category)))
    for person in audience.resolve(chapter, kind, params, day, limit=200):
        if person.email and person.email not in opted_out:
            return person
    return None


def preview(chapter: Chapter, *, kind: str, params: dict, category: MailCategory, subject: str, body: str,
            day: date) -> Rendered:
    """The message as its first real recipient will see it."""
    check_merge_fields(subject, body)
    audience.check(chapter, kind, params)
    return render_for(subject, body, first_recipient(chapter, kind, params, category, day))


def deliver(chapter: Chapter, rendered: Rendered, *, to: str, category: MailCategory, test: bool = False):
    """Put one recipient's mail in the outbox, with List-Unsubscribe headers and a visible link; returns the mail."""
    token = preferences.unsubscribe_token(to, category)
    return send_mail(to, ("[Test] " if test else "") + rendered.subject, "member_message",
              headers=preferences.list_unsubscribe_headers(to, category, token),
              chapter_name=chapter.display_name, body_html=rendered.html, body_text=rendered.text,
              category=category, unsubscribe_link=public_url("communications.unsubscribe", token=token),
              preferences_link=public_url("communications.preferences"), test=test)


def send_test(chapter: Chapter, *, actor, kind: str, params: dict, category: MailCategory, subject: str, body: str,
              day: date) -> Rendered:
    """Send the preview to the officer themself (it is not a message of the chapter: no cap, no log)."""
    rendered = preview(chapter, kind=kind, params=params, category=category, subject=subject, body=body, day=day)
    if not actor.email:
        raise MessageRefused("Your account has no e-mail address to send the test to.")
    deliver(chapter, rendered, to=actor.email, category=category, test=True)
    return rendered


# --- The daily cap -------------------------------------------------------------------------------

def daily_cap(chapter: Chapter) -> int:
    """How many messages the chapter may send a day (staff can change it)."""
    cap = db.session.get(ChapterMessageCap, chapter.id)
    return cap.daily_cap if cap is not None else DEFAULT_DAILY_CAP


def set_daily_cap(chapter: Chapter, cap: int, *, actor) -> None:
    """Staff set the chapter's daily cap (audited)."""
    if cap < 0 or cap > 1000:
        raise MessageRefused("The daily cap is a number from 0 to 1000.", field="daily_cap")
    before = daily_cap(chapter)
    row = db.session.get(ChapterMessageCap, chapter.id)
    if row is None:
        row = ChapterMessageCap(chapter_id=chapter.id, daily_cap=cap)
        db.session.add(row)
    row.daily_cap, row.updated_at, row.updated_by_id = cap, utcnow(), actor.id
    audit.record("communications.cap_changed", actor=actor, chapter_id=chapter.id,
                 summary=f"Daily message cap of {chapter.display_name}: {before} → {cap}",
                 before={"daily_cap": before}, after={"daily_cap": cap})
    db.session.flush()


def messages_on(chapter: Chapter, day: date) -> int:
    """Messages the chapter sends (or has scheduled) on `day`, cancelled ones aside."""
    start = datetime(day.year, day.month, day.day)
    return db.session.scalar(sa.select(sa.func.count(Message.id)).where(
        Message.chapter_id == chapter.id, Message.status != MessageStatus.CANCELLED,
        Message.send_at >= start, Message.send_at < start + timedelta(days=1))) or 0


# --- Sending -------------------------------------------------------------------------------------

def create_message(chapter: Chapter, *, actor, kind: str, params: dict, category: MailCategory, subject: str,
                   body: str, send_at: datetime | None = None, now: datetime | None = None) -> Message:
    """Send a message now (its audience frozen at once, its mail written by the worker) or at `send_at`."""
    from chapter.communications import sending

    now = now or utcnow()
    check_merge_fields(subject, body)
    audience.check(chapter, kind, params)
    if send_at is not None and send_at < now - timedelta(minutes=1):
        raise MessageRefused("Choose a time in the future, or send it now.", field="send_at")
    moment = send_at if send_at is not None and send_at > now else now
    cap = daily_cap(chapter)
    if messages_on(chapter, moment.date()) >= cap:
        raise MessageRefused(f"{chapter.display_name} has reached its cap of {cap} message{'s' if cap != 1 else ''} "
                             f"on {format_date(moment.date())}. Send it another day, or ask the national office "
                             "to raise the cap.")
    message = Message(chapter_id=chapter.id, author_id=actor.id, category=category, subject=subject.strip(),
                      body=body, audience_kind=kind, audience_params=json.dumps(params, sort_keys=True),
                      audience_description=audience.describe(kind, params), send_at=moment, created_at=now,
                      status=MessageStatus.SCHEDULED if moment > now else MessageStatus.QUEUED,
                      subject_folded=fold(subject)[:200])
    db.session.add(message)
    db.session.flush()
    if message.status is MessageStatus.QUEUED:
        sending.freeze_audience(message, now)
        sending.queue_sending(message)
    audit.record("communications.message_sent" if message.status is MessageStatus.QUEUED
                 else "communications.message_scheduled", actor=actor, chapter_id=chapter.id,
                 summary=f"Message “{message.subject}” to {message.audience_description}"
                         + (f" ({message.audience_count} on the list)" if message.frozen_at else
                            f", scheduled for {message.send_at:%Y-%m-%d %H:%M} UTC"),
                 after={"message_id": message.id, "audience": message.audience_description,
                        "audience_count": message.audience_count, "send_at": message.send_at})
    return message


def cancel_message(message: Message, *, actor) -> None:
    """Cancel a scheduled message before it goes out."""
    if message.status is not MessageStatus.SCHEDULED:
        raise MessageRefused("Only a message that is still scheduled can be cancelled.")
    claimed = db.session.execute(sa.update(Message).where(Message.id == message.id,
                                                          Message.status == MessageStatus.SCHEDULED)
                                 .values(status=MessageStatus.CANCELLED)
                                 .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        raise MessageRefused("That message has started sending meanwhile.")
    db.session.refresh(message)
    audit.record("communications.message_cancelled", actor=actor, chapter_id=message.chapter_id,
                 summary=f"Scheduled message “{message.subject}” cancelled", after={"message_id": message.id})
