"""The sent log: a chapter's messages (or every chapter's, for staff), searched, sorted and paged in SQL."""
from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.chapters.models import Chapter
from chapter.communications.models import Message
from chapter.communications.schedule import chapter_zone, shown
from chapter.communications.sending import Counts, counts
from chapter.core.pagination import Page, paginate
from chapter.core.text import LIKE_ESCAPE, contains_pattern, fold


class LogSort(str, enum.Enum):
    SENT = "sent"
    SUBJECT = "subject"
    AUDIENCE = "audience"
    CHAPTER = "chapter"


_SORT_COLUMNS = {
    LogSort.SENT: (Message.send_at, Message.id),
    LogSort.SUBJECT: (Message.subject_folded, Message.id),
    LogSort.AUDIENCE: (Message.audience_count, Message.id),
    LogSort.CHAPTER: (Chapter.number, Message.send_at, Message.id),
}


@dataclass
class LogEntry:
    message: Message
    counts: Counts
    zone: str = ""  # the message's chapter's IANA zone
    sent_at: str = ""  # its send time in that zone


def sent_log(*, chapter: Chapter | None, search: str, sort: LogSort, descending: bool, page: int,
             per_page: int = 25) -> Page[LogEntry]:
    """One page of messages, newest first by default, each with its counts (two queries, whatever the page size)."""
    statement = (sa.select(Message).join(Chapter, Chapter.id == Message.chapter_id)
                 .options(joinedload(Message.chapter), joinedload(Message.author)))
    if chapter is not None:
        statement = statement.where(Message.chapter_id == chapter.id)
    if search.strip():
        statement = statement.where(sa.or_(Message.subject_folded.like(contains_pattern(fold(search)), escape=LIKE_ESCAPE),
                                           Message.audience_description.ilike(contains_pattern(search.strip()),
                                                                              escape=LIKE_ESCAPE)))
    columns = _SORT_COLUMNS[sort]
    statement = statement.order_by(*[c.desc() if descending else c.asc() for c in columns])
    found = paginate(statement, page, per_page)
    tallies = counts([m.id for m in found.items])
    entries = []
    for m in found.items:
        tz = chapter_zone(m.chapter)
        entries.append(LogEntry(m, tallies[m.id], tz, shown(m.send_at, tz)))
    return Page(entries, found.total, found.page, found.per_page)
