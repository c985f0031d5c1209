"""The communications feature's seed: who may e-mail members (reference), a year of sent messages (demo)."""
from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from chapter.chapters.fiscal import fiscal_year_of
from chapter.chapters.models import Chapter, OfficerPosition, OfficerTerm
from chapter.communications.models import (
    MailCategory, Message, MessageRecipient, MessageStatus, RecipientStatus,
)
from chapter.core.formatting import format_date
from chapter.core.text import fold
from chapter.extensions import db
from chapter.jobs.models import MailStatus, OutboxMail
from chapter.members.models import Member
from chapter.seed.bulk import insert_rows

# The positions that may e-mail the chapter's members unless staff change it (the c14a migration says the same).
MESSAGING_POSITIONS = ("president", "secretary", "vp_membership", "vp_marketing")


def with_messaging_rights(positions: list[OfficerPosition]) -> list[OfficerPosition]:
    """The standard positions with their messaging right (the reference data; staff may change it later)."""
    for position in positions:
        position.can_message_members = position.code in MESSAGING_POSITIONS
    return positions


DEMO_SUBJECTS = [
    ("Your membership ends soon: renew in two minutes", "Hello {{first_name}},\n\nYour membership runs until "
     "{{member_until}}. Renew now and keep every benefit: {{renew_link}}\n\nSee you at the next meeting!"),
    ("This month's plant tour and dinner meeting", "Hello {{first_name}},\n\nJoin us for a **plant tour** and dinner. "
     "Seats are limited: register on the chapter's page."),
    ("Study group for the CPIM exam starts next week", "Hello {{first_name}},\n\nOur study group meets on Tuesdays "
     "for eight weeks.\n\n- Module 1: Supply chains\n- Module 2: Strategy"),
    ("Chapter newsletter", "Hello {{first_name}},\n\nNews from the board, new members, and the year's programme."),
    ("Welcome to the chapter", "Hello {{first_name}},\n\nWelcome! Here is what the chapter does for its members."),
    ("Volunteers wanted for the spring conference", "Hello {{first_name}},\n\nWe need a few hands: reply to this e-mail."),
]


def seed_demo_messages(rng: random.Random, day: date, *, chapters: int = 12) -> int:
    """Sent messages in the first chapters over this fiscal year so far and the whole of the last one (8 to 11
    in each for most chapters; every fourth falls short with 3 to 5, so the standards show a miss), bulk-inserted,
    each with its recipients and their mail marked sent in the outbox. Returns how many messages."""
    rows = db.session.execute(sa.select(Chapter.id, Chapter.fiscal_year_start_month).order_by(Chapter.number)
                              .limit(chapters)).all()
    authors = dict(db.session.execute(sa.select(OfficerTerm.chapter_id, sa.func.min(OfficerTerm.user_id))
                                      .group_by(OfficerTerm.chapter_id)).all())
    sent: list[tuple[Message, list]] = []
    for index, (chapter_id, start_month) in enumerate(rows):
        members = db.session.execute(sa.select(Member.id, Member.email, Member.first_name, Member.paid_through)
                                     .where(Member.home_chapter_id == chapter_id, Member.email.is_not(None))
                                     .order_by(Member.id)).all()
        if not members:
            continue
        this_year = fiscal_year_of(start_month, day)
        for year in (this_year.previous(), this_year):
            last = min(year.ends_on, day - timedelta(days=1))
            span = max((last - year.starts_on).days, 1)
            how_many = rng.randint(8, 11) if index % 4 != 3 else rng.randint(3, 5)
            sent += _seed_year(rng, chapter_id, authors.get(chapter_id), members, year.starts_on, span, how_many)
    db.session.flush()  # every message at once (their ids name the recipients' mail)
    _seed_recipients(sent)
    return len(sent)


def _seed_year(rng, chapter_id, author_id, members, first_day: date, span: int, how_many: int) -> list[tuple[Message, list]]:
    """A year's messages of one chapter (added to the session, not yet written), each with its audience."""
    made = []
    for n in range(how_many):
        sent_day = first_day + timedelta(days=int(span * (n + rng.random()) / how_many))
        moment = datetime.combine(sent_day, time(hour=rng.randint(8, 19), minute=rng.choice((0, 15, 30, 45))))
        subject, body = DEMO_SUBJECTS[rng.randrange(len(DEMO_SUBJECTS))]
        audience = rng.sample(members, min(len(members), rng.randint(20, 80)))
        message = Message(chapter_id=chapter_id, author_id=author_id, category=MailCategory.CHAPTER_NEWS,
                          subject=subject, body=body, audience_kind="demo", audience_params=json.dumps({}),
                          audience_description="Demo list (a sample of the roster)", status=MessageStatus.SENT,
                          send_at=moment, created_at=moment, frozen_at=moment,
                          finished_at=moment + timedelta(minutes=2), audience_count=len(audience),
                          subject_folded=fold(subject))
        db.session.add(message)
        made.append((message, audience))
    return made


def _seed_recipients(sent: list[tuple[Message, list]]) -> None:
    """The recipients of the written messages and their mail, sent (every 29th skipped by preference)."""
    recipients, mails = [], []
    for message, audience in sent:
        moment = message.send_at
        for position, person in enumerate(audience):
            skipped = position % 29 == 28
            message_id = f"<demo-{message.id}-{person.id}@chapter.local>"
            recipients.append({"message_id": message.id, "member_id": person.id, "email": person.email,
                               "first_name": person.first_name, "member_until": format_date(person.paid_through, ""),
                               "status": RecipientStatus.SKIPPED_PREFERENCE if skipped else RecipientStatus.MAILED,
                               "outbox_message_id": None if skipped else message_id})
            if not skipped:
                mails.append({"message_id": message_id, "sender": "Chapter <no-reply@chapter.local>",
                              "to_address": person.email, "subject": message.subject, "template": "member_message",
                              "body_text": message.body, "body_html": None, "status": MailStatus.SENT, "attempts": 1,
                              "created_at": moment, "next_attempt_at": moment, "sent_at": moment})
    insert_rows(MessageRecipient.__table__, recipients)
    insert_rows(OutboxMail.__table__, mails)
