"""What part B of events (the door, attendance, reminders) records beyond ev-core's models: reminders sent."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from chapter.core.models import utcnow
from chapter.extensions import db


class ReminderKind(str, enum.Enum):
    """The reminders a registrant gets before an event, each once."""

    WEEK = "week"
    DAY = "day"

    @property
    def label(self) -> str:
        return {"week": "a week before", "day": "a day before"}[self.value]


class EventReminder(db.Model):
    """A reminder mailed to one registration: the unique pair (registration, kind) sends each once."""

    __tablename__ = "event_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("event_registrations.id", ondelete="CASCADE"),
                                                 nullable=False)
    kind: Mapped[ReminderKind] = mapped_column(
        sa.Enum(ReminderKind, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        nullable=False)
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    __table_args__ = (sa.UniqueConstraint("registration_id", "kind", name="uq_event_reminders_registration_kind"),)
