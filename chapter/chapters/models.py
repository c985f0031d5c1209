"""Districts, chapters, officer positions and terms, district managers, chapter history."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import TimestampMixin, utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User


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
    country: Mapped[str] = mapped_column(sa.String(2), default="US", nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD", nullable=False)
    # The chapter's share of each dues payment, in cents, when the membership type does not
    # say otherwise (see MembershipType.chapter_share_cents).
    dues_share_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    website: Mapped[str | None] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    # Student chapters report to a parent chapter.
    parent_chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"))

    district: Mapped[District] = relationship(back_populates="chapters")
    parent_chapter: Mapped[Chapter | None] = relationship(remote_side=[id])
    officer_terms: Mapped[list[OfficerTerm]] = relationship(back_populates="chapter")

    __table_args__ = (sa.CheckConstraint("dues_share_cents >= 0", name="dues_share_not_negative"),)

    @property
    def display_name(self) -> str:
        return f"{self.name} #{self.number}"

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

    from_chapter: Mapped[Chapter | None] = relationship(foreign_keys=[from_chapter_id])
    to_chapter: Mapped[Chapter | None] = relationship(foreign_keys=[to_chapter_id])
    actor: Mapped[User | None] = relationship()
