"""Districts, chapters, officer positions and terms, district managers, chapter history."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.formatting import format_chapter
from chapter.core.models import TimestampMixin, utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.members.models import Member


class District(TimestampMixin, db.Model):
    """One of the association's districts (Canadian, Great Lakes, ...)."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True, nullable=False)

    chapters: Mapped[list[Chapter]] = relationship(
        back_populates="district", order_by="Chapter.number"
    )
    manager_terms: Mapped[list[DistrictManagerTerm]] = relationship(back_populates="district")


class Chapter(TimestampMixin, db.Model):
    """A numbered local chapter: its district, currency and share of dues."""

    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(sa.Integer, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(150), nullable=False)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    city: Mapped[str | None] = mapped_column(sa.String(100))
    region: Mapped[str | None] = mapped_column(sa.String(100))
    # Where the chapter meets: finds the closest chapter for a member who picks none.
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    country: Mapped[str] = mapped_column(sa.String(2), default="US", nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD", nullable=False)
    # The month the chapter's fiscal year starts (July by default, as is common for chapters).
    fiscal_year_start_month: Mapped[int] = mapped_column(sa.Integer, default=7, server_default="7", nullable=False)
    # The chapter's share of each dues payment, in cents, when the membership type does not
    # say otherwise (see MembershipType.chapter_share_cents).
    dues_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    website: Mapped[str | None] = mapped_column(sa.String(200))
    # What the chapter's public page tells a visitor: who they are, where they meet, whom to write to.
    description: Mapped[str | None] = mapped_column(sa.Text)
    meeting_place: Mapped[str | None] = mapped_column(sa.String(300))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    # The chapter's local time (an IANA name such as America/New_York): its audit log reads in it.
    timezone: Mapped[str | None] = mapped_column(sa.String(50))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    # Student chapters report to a parent chapter.
    parent_chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"))

    district: Mapped[District] = relationship(back_populates="chapters")
    parent_chapter: Mapped[Chapter | None] = relationship(remote_side=[id])
    officer_terms: Mapped[list[OfficerTerm]] = relationship(back_populates="chapter")

    __table_args__ = (
        sa.CheckConstraint("dues_share_cents >= 0", name="dues_share_not_negative"),
        sa.CheckConstraint("fiscal_year_start_month BETWEEN 1 AND 12", name="fiscal_month_valid"),
    )

    @property
    def display_name(self) -> str:
        return format_chapter(self)

    def __repr__(self) -> str:
        return f"<Chapter #{self.number} {self.name}>"


class OfficerPosition(db.Model):
    """A position on a chapter board, with the rights its holder has (data, editable by staff)."""

    __tablename__ = "officer_positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=100, nullable=False)
    can_view_roster: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    can_export_roster: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    can_manage_officers: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    can_view_finances: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    # Import members from a CSV file and ask members of other chapters to transfer in.
    can_manage_members: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false(), nullable=False
    )
    can_read_audit_log: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false(), nullable=False
    )
    # Create, publish, edit and cancel the chapter's events (President, VP Programs, VP Education by default).
    can_manage_events: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false(), nullable=False
    )


class OfficerTerm(TimestampMixin, db.Model):
    """A user holding an officer position in a chapter from starts_on to ends_on (inclusive)."""

    __tablename__ = "officer_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("officer_positions.id"))
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)  # None: until further notice
    appointed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    chapter: Mapped[Chapter] = relationship(back_populates="officer_terms")
    user: Mapped[User] = relationship(back_populates="officer_terms", foreign_keys=[user_id])
    position: Mapped[OfficerPosition] = relationship()

    __table_args__ = (
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    def is_current(self, on: date) -> bool:
        """True when the term covers the given day."""
        return self.starts_on <= on and (self.ends_on is None or self.ends_on >= on)


class DistrictManagerTerm(TimestampMixin, db.Model):
    """A user acting as district manager, who may view every chapter of the district."""

    __tablename__ = "district_manager_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)

    district: Mapped[District] = relationship(back_populates="manager_terms")
    user: Mapped[User] = relationship(back_populates="district_manager_terms")

    def is_current(self, on: date) -> bool:
        """True when the term covers the given day."""
        return self.starts_on <= on and (self.ends_on is None or self.ends_on >= on)


class ChapterTransfer(db.Model):
    """A change of a member's home chapter: kept forever, shown in both chapters' history."""

    __tablename__ = "chapter_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    from_chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    to_chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    effective_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(sa.String(200))

    member: Mapped[Member] = relationship()
    from_chapter: Mapped[Chapter | None] = relationship(foreign_keys=[from_chapter_id])
    to_chapter: Mapped[Chapter | None] = relationship(foreign_keys=[to_chapter_id])
    actor: Mapped[User | None] = relationship()


def _enum(enum_class):
    return sa.Enum(enum_class, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class MemberNote(db.Model):
    """A dated note an officer keeps on a member; seen by whoever sees that chapter's roster (its officers
    with the roster right, its district manager, staff), never by the member."""

    __tablename__ = "member_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    noted_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    author: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_member_notes_member_chapter", "member_id", "chapter_id"),)


class TransferRequestStatus(str, enum.Enum):
    """Where an officer's request to move a member into their chapter stands."""

    PENDING = "pending"  # waiting for the member
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn by the requesting chapter


class TransferRequest(db.Model):
    """An officer of the receiving chapter asks a member to move there; the move happens when the member confirms."""

    __tablename__ = "transfer_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    from_chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"))
    to_chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    status: Mapped[TransferRequestStatus] = mapped_column(
        _enum(TransferRequestStatus), default=TransferRequestStatus.PENDING, nullable=False
    )
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    transfer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapter_transfers.id"))

    member: Mapped[Member] = relationship()
    from_chapter: Mapped[Chapter | None] = relationship(foreign_keys=[from_chapter_id])
    to_chapter: Mapped[Chapter] = relationship(foreign_keys=[to_chapter_id])
    requested_by: Mapped[User | None] = relationship()


class RosterImportStatus(str, enum.Enum):
    """An uploaded roster file: waiting for confirmation, written, or given up."""

    PREVIEWED = "previewed"
    COMPLETED = "completed"
    DISCARDED = "discarded"


class RosterImport(db.Model):
    """A CSV file uploaded for import, kept in the database between the preview and the confirmation.

    The file lives here rather than in a worker's memory or disk, so any app process can confirm it.
    Its content is cleared once it is imported or discarded; the counts stay as a record.
    """

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    status: Mapped[RosterImportStatus] = mapped_column(
        _enum(RosterImportStatus), default=RosterImportStatus.PREVIEWED, nullable=False
    )
    uploaded_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    new_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    matched_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    invalid_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)

    chapter: Mapped[Chapter] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
