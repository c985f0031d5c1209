"""Webhook endpoints, their deliveries, and the lapses already announced."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import Chapter


class WebhookEndpoint(db.Model):
    """A URL that receives signed deliveries of the events it subscribes to, for one chapter or all."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: every chapter (staff only).
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000), nullable=False)
    description: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    # The subscribed event names between commas (",member.joined,payment.succeeded,"): matched in SQL with LIKE.
    events: Mapped[str] = mapped_column(sa.String(500), nullable=False, default=",")
    # The signing secret, encrypted (Fernet, key derived from SECRET_KEY): it must be readable to sign.
    secret_encrypted: Mapped[str] = mapped_column(sa.Text, nullable=False)
    is_enabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(300))
    # The first failed attempt since the last success: after WEBHOOK_DISABLE_AFTER_SECONDS it is disabled.
    failing_since: Mapped[datetime | None] = mapped_column(sa.DateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)

    chapter: Mapped[Chapter | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def event_names(self) -> list[str]:
        return [name for name in self.events.split(",") if name]


class DeliveryStatus(str, enum.Enum):
    """Where a delivery is: waiting (or between retries), being sent, answered 2xx, given up."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class WebhookDelivery(db.Model):
    """One event for one endpoint: the body frozen when the event happened, and every attempt's outcome."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False)
    # The event's id (the same for every endpoint): an event published twice is delivered once.
    event_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    # The Webhook-Id header: unique per delivery, the same on every attempt (receivers de-duplicate on it).
    webhook_id: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    event_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        sa.Enum(DeliveryStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False, default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)
    # Retries stop then (3 days after the event, or after a Redeliver).
    give_up_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    lease_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    response_code: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(1000))

    endpoint: Mapped[WebhookEndpoint] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        sa.Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )


class AnnouncedLapse(db.Model):
    """A member's lapse already published as member.lapsed (once per lapse, whatever the job's reruns)."""

    __tablename__ = "announced_lapses"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False)
    # The last day of grace: the membership lapsed the day after.
    grace_ended_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    announced_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("member_id", "grace_ended_on", name="uq_announced_lapses_member_day"),)
