"""Messages officers send to a list of members, their frozen recipients, opt-outs, daily caps."""
from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import Chapter

# A chapter sends at most this many messages a day unless staff set another cap (ChapterMessageCap).
DEFAULT_DAILY_CAP = 3


def _enum(cls) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class MailCategory(str, enum.Enum):
    """Kinds of mail a member may opt out of; receipts, reminders and security mail have none (always sent)."""

    CHAPTER_NEWS = "chapter_news"
    EVENT_ANNOUNCEMENTS = "event_announcements"
    ASSOCIATION_NEWS = "association_news"

    @property
    def label(self) -> str:
        return {"chapter_news": "Chapter news", "event_announcements": "Event announcements",
                "association_news": "Association news"}[self.value]

    @property
    def description(self) -> str:
        return {"chapter_news": "messages from your chapter's officers",
                "event_announcements": "announcements of events and messages to an event's registrants",
                "association_news": "news from the national association"}[self.value]


class MailOptOut(db.Model):
    """An address that asked not to receive one kind of mail (kept by address: it works without a log-in)."""

    __tablename__ = "mail_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)  # lower-case
    category: Mapped[MailCategory] = mapped_column(_enum(MailCategory), nullable=False)
    # How: the preferences page, the link in a mail, or a mail client's one-click (RFC 8058) POST.
    source: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    __table_args__ = (sa.UniqueConstraint("email", "category", name="uq_mail_opt_outs_email_category"),)


class MessageStatus(str, enum.Enum):
    """scheduled (send_at later) or queued -> sending (a worker holds it) -> sent; or cancelled before."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class RecipientStatus(str, enum.Enum):
    """What became of one person of the frozen audience."""

    PENDING = "pending"                # its mail not written yet
    MAILED = "mailed"                  # its mail is in the outbox (delivery status: OutboxMail)
    SKIPPED_PREFERENCE = "skipped"     # opted out of this kind of mail
    NO_ADDRESS = "no_address"          # on the list, but without an e-mail address


class Message(db.Model):
    """A message from a chapter to a list of its members: what was written, to whom, and when."""

    __tablename__ = "member_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"), nullable=False)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    category: Mapped[MailCategory] = mapped_column(_enum(MailCategory), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)  # Markdown with merge fields
    # The audience as asked: "roster" (a roster list's filters), "event_registrants" (audiences registry).
    audience_kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    audience_params: Mapped[str] = mapped_column(sa.Text, nullable=False, default="{}")  # JSON
    audience_description: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus), nullable=False, default=MessageStatus.QUEUED)
    send_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    # Set when the audience is frozen (the recipients recorded): the moment the message counts as sent.
    frozen_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # While SENDING: a worker killed mid-send loses its claim then, and the periodic task takes it over.
    lease_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    audience_count: Mapped[int] = mapped_column(default=0, nullable=False)
    subject_folded: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")

    chapter: Mapped[Chapter] = relationship()
    author: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.Index("ix_member_messages_chapter_id_send_at", "chapter_id", "send_at"),
        sa.Index("ix_member_messages_status_send_at", "status", "send_at"),
    )

    @property
    def params(self) -> dict:
        return json.loads(self.audience_params or "{}")


class MessageRecipient(db.Model):
    """One person of a message's audience, frozen when sending began; its mail's Message-ID links the outbox row."""

    __tablename__ = "member_message_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("member_messages.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    first_name: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    member_until: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")
    status: Mapped[RecipientStatus] = mapped_column(_enum(RecipientStatus), nullable=False)
    outbox_message_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)

    __table_args__ = (sa.Index("ix_member_message_recipients_message_id_status", "message_id", "status"),)


class ChapterMessageCap(db.Model):
    """How many messages a chapter may send a day, when staff set other than DEFAULT_DAILY_CAP."""

    __tablename__ = "chapter_message_caps"

    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"), primary_key=True)
    daily_cap: Mapped[int] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (sa.CheckConstraint("daily_cap >= 0", name="daily_cap_not_negative"),)
