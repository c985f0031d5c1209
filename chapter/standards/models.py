"""Chapter minimum standards and recognition levels (data staff edit), roster reviews, yearly reports."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import TimestampMixin, utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import Chapter


def _enum(enum_class):
    return sa.Enum(enum_class, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class StandardKind(str, enum.Enum):
    """What a standard counts."""

    ACTIVITY = "activity"  # items of an activity kind (chapter/core/activity.py): events held, messages sent
    OFFICERS = "officers"  # officer positions filled during the year
    ROSTER_REVIEW = "roster_review"  # the roster reviewed by an officer during the year

    @property
    def label(self) -> str:
        return {"activity": "Activity counted", "officers": "Officer positions filled",
                "roster_review": "Roster reviewed"}[self.value]


class Standard(TimestampMixin, db.Model):
    """One minimum standard: what is counted over the chapter's fiscal year and how many are needed."""

    __tablename__ = "chapter_standards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(150), nullable=False)
    kind: Mapped[StandardKind] = mapped_column(_enum(StandardKind), nullable=False)
    activity_kind: Mapped[str | None] = mapped_column(sa.String(40))  # ACTIVITY: the registry's key
    # ACTIVITY and ROSTER_REVIEW: how many in the year; OFFICERS: ignored (every position listed must be filled).
    minimum: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)
    position_codes: Mapped[str | None] = mapped_column(sa.String(400))  # OFFICERS: codes, comma-separated
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=100, nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    __table_args__ = (sa.CheckConstraint("minimum >= 0", name="minimum_not_negative"),)

    @property
    def positions(self) -> list[str]:
        return [code.strip() for code in (self.position_codes or "").split(",") if code.strip()]


class RecognitionLevel(db.Model):
    """Bronze, Silver, Gold, Platinum: reached when at least `standards_met` standards are met."""

    __tablename__ = "recognition_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    standards_met: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    __table_args__ = (sa.CheckConstraint("standards_met >= 0", name="threshold_not_negative"),)


class RosterReview(db.Model):
    """An officer's record that they went through the chapter's roster: on which day, and who."""

    __tablename__ = "roster_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"), nullable=False)
    reviewed_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    reviewed_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_roster_reviews_chapter_day", "chapter_id", "reviewed_on"),)


class ReportStatus(str, enum.Enum):
    """Where a chapter's yearly standards report stands."""

    SUBMITTED = "submitted"  # waiting for the district manager
    APPROVED = "approved"
    RETURNED = "returned"  # sent back with a comment: the president may submit again

    @property
    def label(self) -> str:
        return {"submitted": "Submitted", "approved": "Approved", "returned": "Returned"}[self.value]


class StandardsReport(TimestampMixin, db.Model):
    """A chapter's standards for one fiscal year as submitted: a frozen snapshot, then the district's review."""

    __tablename__ = "standards_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"), nullable=False)
    fiscal_year_starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    fiscal_year_ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), nullable=False)
    # What the standards page showed when submitted (standards, evidence, level): later data changes nothing.
    snapshot: Mapped[dict] = mapped_column(sa.JSON, nullable=False)
    level: Mapped[str | None] = mapped_column(sa.String(40))
    standards_met: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    review_comment: Mapped[str | None] = mapped_column(sa.Text)

    chapter: Mapped[Chapter] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "fiscal_year_starts_on", name="one_report_per_year"),
        sa.Index("ix_standards_reports_status", "status"),
    )
