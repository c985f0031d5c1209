"""The "communication" kind of chapter activity: messages the chapter sent, for health and the standards."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app

from chapter.chapters.models import Chapter
from chapter.communications.models import Message, MessageRecipient, MessageStatus, RecipientStatus
from chapter.core import activity
from chapter.extensions import db


def messages_sent(chapter_id: int, start: date, end: date) -> list[activity.Item]:
    """Messages of the chapter whose audience was frozen (sending began) in [start, end); count = recipients mailed."""
    mailed = (sa.select(sa.func.count(MessageRecipient.id))
              .where(MessageRecipient.message_id == Message.id, MessageRecipient.status == RecipientStatus.MAILED)
              .correlate(Message).scalar_subquery())
    rows = db.session.execute(
        sa.select(Message.id, Message.subject, Message.frozen_at, Chapter.number, mailed.label("mailed"))
        .join(Chapter, Chapter.id == Message.chapter_id)
        .where(Message.chapter_id == chapter_id, Message.status.in_([MessageStatus.SENDING, MessageStatus.SENT]),
               Message.frozen_at >= datetime(start.year, start.month, start.day),
               Message.frozen_at < datetime(end.year, end.month, end.day))
        .order_by(Message.frozen_at, Message.id)).all()
    adapter = current_app.url_map.bind("")
    return [activity.Item(day=row.frozen_at.date(), title=row.subject, count=row.mailed,
                          url=adapter.build("communications.message", {"number": row.number, "message_id": row.id}))
            for row in rows]


activity.register("communication", "Member communications sent", messages_sent)
