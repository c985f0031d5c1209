"""Exam catalogue, authorizations to test (ATT), results, certifications and maintenance points.

Every number from DOMAIN.md (fees, score ranges, pass marks, windows, points) is a column here,
seeded by catalogue.ensure_catalogue and editable by staff.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import TimestampMixin, utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.members.models import Member
    from chapter.payments.models import Order


def _enum(enum_class):
    return sa.Enum(enum_class, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class CertificationStatus(str, enum.Enum):
    """A certification's standing on a day, computed from its deadline."""

    CURRENT = "current"
    SUSPENDED = "suspended"  # deadline missed; can be reinstated with extra points
    TERMINATED = "terminated"  # suspended too long: the exams must be retaken

    @property
    def label(self) -> str:
        return {"current": "Current", "suspended": "Suspended", "terminated": "Terminated"}[self.value]


class ApplicationStatus(str, enum.Enum):
    """Where a maintenance or fellowship application stands."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class CertificationType(db.Model):
    """A designation (CPIM, CSCP, CLTD, CFPIM) and its maintenance rules."""

    __tablename__ = "certification_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    number_prefix: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    points_required: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    cycle_years: Mapped[int] = mapped_column(sa.Integer, default=5, nullable=False)
    teaching_cap_percent: Mapped[int] = mapped_column(sa.Integer, default=60, nullable=False)
    reinstatement_points_per_year: Mapped[int] = mapped_column(sa.Integer, default=15, nullable=False)
    terminated_after_years: Mapped[int] = mapped_column(sa.Integer, default=5, nullable=False)
    awarded_by_application: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    # CFPIM: the certification the applicant must hold, and the points the application needs.
    requires_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certification_types.id"))
    application_points_required: Mapped[int | None] = mapped_column(sa.Integer)
    # CFPIM application: CPIM exam points count up to a cap, presentations up to a cap and only
    # from the last so many years (DOMAIN.md: 75, 40, 3); None: no cap.
    application_exam_points_cap: Mapped[int | None] = mapped_column(sa.Integer)
    application_presentation_points_cap: Mapped[int | None] = mapped_column(sa.Integer)
    application_presentation_years: Mapped[int | None] = mapped_column(sa.Integer)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=100, nullable=False)

    requires_type: Mapped[CertificationType | None] = relationship(remote_side=[id])


class ExamProgram(db.Model):
    """A set of exams that together earn a certification: all passed within `window_months`."""

    __tablename__ = "exam_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    certification_type_id: Mapped[int] = mapped_column(sa.ForeignKey("certification_types.id"), nullable=False)
    window_months: Mapped[int | None] = mapped_column(sa.Integer)  # None: a single exam, no window
    # Passes before this day are not bound by the window (CPIM modules: valid 10 years from 2013 on).
    window_applies_from: Mapped[date | None] = mapped_column(sa.Date)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=100, nullable=False)

    certification_type: Mapped[CertificationType] = relationship()
    exams: Mapped[list[Exam]] = relationship(back_populates="program", order_by="Exam.sort_order")


class Exam(db.Model):
    """One exam with its fees, score range, pass mark and the dates it can be bought."""

    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("exam_programs.id"), index=True, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD", nullable=False)
    member_fee_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    non_member_fee_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    score_min: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    score_max: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    pass_score: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    available_from: Mapped[date] = mapped_column(sa.Date, nullable=False)
    available_until: Mapped[date | None] = mapped_column(sa.Date)  # None: still offered
    att_valid_months: Mapped[int] = mapped_column(sa.Integer, default=6, nullable=False)
    retake_wait_days: Mapped[int] = mapped_column(sa.Integer, default=14, nullable=False)
    # The maintenance points a pass earns (CPIM exam 10, CSCP exam 20); None: no points.
    point_category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("point_categories.id"))
    requires_eligibility: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=100, nullable=False)

    program: Mapped[ExamProgram] = relationship(back_populates="exams")
    point_category: Mapped[PointCategory | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("member_fee_cents >= 0 AND non_member_fee_cents >= 0", name="fees_not_negative"),
        sa.CheckConstraint("score_min <= pass_score AND pass_score <= score_max", name="pass_in_range"),
    )

    def is_available_on(self, day: date) -> bool:
        """Whether the exam can be bought on `day`."""
        return self.available_from <= day and (self.available_until is None or day <= self.available_until)


class ExamEligibility(db.Model):
    """An approved eligibility application (CSCP: a degree or 3 years' experience)."""

    __tablename__ = "exam_eligibilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True, nullable=False)
    exam_id: Mapped[int] = mapped_column(sa.ForeignKey("exams.id"), nullable=False)
    approved_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (sa.UniqueConstraint("member_id", "exam_id"),)


class ExamRegistration(TimestampMixin, db.Model):
    """A bought exam: the Authorization to Test (ATT), its code and validity."""

    __tablename__ = "exam_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True, nullable=False)
    exam_id: Mapped[int] = mapped_column(sa.ForeignKey("exams.id"), nullable=False)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), unique=True)
    price_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    member_price: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    # Set when the order is paid: until then the registration awaits payment.
    att_code: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    issued_on: Mapped[date | None] = mapped_column(sa.Date)
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    used_on: Mapped[date | None] = mapped_column(sa.Date)

    exam: Mapped[Exam] = relationship()
    member: Mapped[Member] = relationship()
    order: Mapped[Order | None] = relationship()

    @property
    def is_refunded(self) -> bool:
        """A fully refunded exam fee cancels the ATT."""
        return self.order is not None and self.order.status.value == "refunded"

    def is_usable_on(self, day: date) -> bool:
        """An ATT can be used once, between its issue and expiry dates, unless its fee was refunded."""
        return (self.used_on is None and self.issued_on is not None and self.issued_on <= day <= self.expires_on
                and not self.is_refunded)

    def state_on(self, day: date) -> str:
        """awaiting payment, valid, used or expired, from the dates."""
        if self.issued_on is None:
            return "awaiting payment"
        if self.is_refunded:
            return "refunded"
        if self.used_on is not None:
            return "used"
        return "valid" if day <= self.expires_on else "expired"


class ExamResult(db.Model):
    """One attempt at an exam: date, scaled score, and whether it passed under the mark of that day."""

    __tablename__ = "exam_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), nullable=False)
    exam_id: Mapped[int] = mapped_column(sa.ForeignKey("exams.id"), nullable=False)
    registration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exam_registrations.id"))
    taken_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    score: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    passed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    exam: Mapped[Exam] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("member_id", "exam_id", "taken_on"),  # also the index for a member's attempts
    )


class MemberCertification(TimestampMixin, db.Model):
    """A certification held by a member: number, earned date and the current maintenance deadline."""

    __tablename__ = "member_certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True, nullable=False)
    certification_type_id: Mapped[int] = mapped_column(sa.ForeignKey("certification_types.id"), nullable=False)
    certificate_number: Mapped[str] = mapped_column(sa.String(30), unique=True, nullable=False)
    earned_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    # The end of the current maintenance cycle; status is computed from it (see status_on).
    cycle_ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)

    certification_type: Mapped[CertificationType] = relationship()
    member: Mapped[Member] = relationship()

    # No unique (member, type): after termination, passing the exams again is a new award (history kept).
    __table_args__ = (
        sa.Index("ix_member_certifications_type_member", "certification_type_id", "member_id"),
    )


class PointKind(str, enum.Enum):
    """What a point category is for the rules: claimed by members, or recorded by the system."""

    MEMBERSHIP = "membership"  # from the terms only: never typed in
    EXAM = "exam"  # from recorded results only: never typed in
    EDUCATION = "education"
    PRESENTATION = "presentation"
    PUBLICATION = "publication"

    @property
    def claimable(self) -> bool:
        return self not in (PointKind.MEMBERSHIP, PointKind.EXAM)


class PointStatus(str, enum.Enum):
    """A logged activity counts only once approved, by staff or the chapter's VP Education."""

    CLAIMED = "claimed"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"claimed": "Claimed, awaiting approval", "approved": "Approved", "rejected": "Rejected"}[self.value]


def _default_point_status(context) -> str:
    """Entries the system records (exam passes) are approved; what a member logs is claimed."""
    return (PointStatus.APPROVED if context.get_current_parameters().get("automatic") else PointStatus.CLAIMED).value


class PointCategory(db.Model):
    """A kind of professional-development activity and the points it is worth per unit."""

    __tablename__ = "point_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    points_per_unit: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(30), nullable=False)  # year, event, hour, exam, article
    is_teaching: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    kind: Mapped[PointKind] = mapped_column(_enum(PointKind), default=PointKind.EDUCATION,
                                            server_default=PointKind.EDUCATION.value, nullable=False)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=100, nullable=False)


class PointEntry(db.Model):
    """Points a member earned on a day, in a category: recorded automatically, or claimed with evidence."""

    __tablename__ = "point_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), nullable=False)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("point_categories.id"), nullable=False)
    earned_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    units: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)
    points: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    description: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    automatic: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    status: Mapped[PointStatus] = mapped_column(_enum(PointStatus), default=_default_point_status, nullable=False)
    evidence_url: Mapped[str | None] = mapped_column(sa.String(500))
    # A chapter event's points can be approved by that chapter's VP Education as well as by staff.
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_on: Mapped[date | None] = mapped_column(sa.Date)
    review_note: Mapped[str | None] = mapped_column(sa.String(300))

    category: Mapped[PointCategory] = relationship()
    member: Mapped[Member] = relationship()

    __table_args__ = (
        sa.Index("ix_point_entries_member_earned", "member_id", "earned_on"),
        sa.Index("ix_point_entries_status_chapter", "status", "chapter_id"),
    )


class CertificationApplication(TimestampMixin, db.Model):
    """A maintenance application (extends the cycle) or a fellowship application (awards CFPIM)."""

    __tablename__ = "certification_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True, nullable=False)
    certification_type_id: Mapped[int] = mapped_column(sa.ForeignKey("certification_types.id"), nullable=False)
    member_certification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member_certifications.id"))
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # maintenance | fellowship
    status: Mapped[ApplicationStatus] = mapped_column(_enum(ApplicationStatus), default=ApplicationStatus.SUBMITTED,
                                                      nullable=False)
    submitted_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    points_counted: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    recommended_by: Mapped[str | None] = mapped_column(sa.String(200))  # fellowship: a CFPIM holder's number
    note: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_on: Mapped[date | None] = mapped_column(sa.Date)
    # The membership days this application counted (membership points come from the terms, not entries).
    membership_points: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0", nullable=False)
    membership_points_through: Mapped[date | None] = mapped_column(sa.Date)

    certification_type: Mapped[CertificationType] = relationship()
    member: Mapped[Member] = relationship()
    member_certification: Mapped[MemberCertification | None] = relationship()
    points_used: Mapped[list[PointEntry]] = relationship(secondary="application_points")


application_points = sa.Table(
    "application_points", db.metadata,
    sa.Column("application_id", sa.ForeignKey("certification_applications.id"), primary_key=True),
    sa.Column("point_entry_id", sa.ForeignKey("point_entries.id"), primary_key=True, index=True),
)
"""Which point entries each application used: an entry used by an application still standing cannot count again."""


class Benefit(db.Model):
    """Something membership entitles to (magazine, dictionary, member exam prices...)."""

    __tablename__ = "benefits"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=100, nullable=False)


membership_type_benefits = sa.Table(
    "membership_type_benefits", db.metadata,
    sa.Column("membership_type_id", sa.ForeignKey("membership_types.id"), primary_key=True),
    sa.Column("benefit_id", sa.ForeignKey("benefits.id"), primary_key=True),
)
