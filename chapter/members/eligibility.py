"""Eligibility for the Retired and Student types: what the member declared, kept for staff to review.

Retired: a date of birth making the member 62 or more (the age is data: `RETIRED_MIN_AGE` is the
starting figure, kept on the record so a change does not rewrite history) or a retirement declaration.
Student: the school and the expected graduation date.
"""
from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.models import TimestampMixin
from chapter.extensions import db
from chapter.members.models import Member, MembershipKind, MembershipType

if TYPE_CHECKING:
    from chapter.auth.models import User

RETIRED_MIN_AGE = 62  # DOMAIN.md: "Retired (age 62+, by chapter)"; the type's eligibility_min_age wins


class EligibilityStatus(str, enum.Enum):
    """Where a member's eligibility declaration stands."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"submitted": "Awaiting review", "approved": "Approved", "rejected": "Rejected"}[self.value]


class EligibilityRecord(TimestampMixin, db.Model):
    """What a member declared to hold a Retired or Student membership, and the staff review."""

    __tablename__ = "eligibility_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # retired | student
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date)
    retirement_declared: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    school: Mapped[str | None] = mapped_column(sa.String(200))
    expected_graduation: Mapped[date | None] = mapped_column(sa.Date)
    submitted_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[EligibilityStatus] = mapped_column(
        sa.Enum(EligibilityStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=EligibilityStatus.SUBMITTED, nullable=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_on: Mapped[date | None] = mapped_column(sa.Date)
    review_note: Mapped[str | None] = mapped_column(sa.String(300))

    member: Mapped[Member] = relationship()

    @property
    def summary(self) -> str:
        """One line an officer or staff member reads on the member record."""
        if self.kind == MembershipKind.RETIRED.value:
            parts = []
            if self.date_of_birth:
                parts.append(f"born {self.date_of_birth:%d %b %Y}")
            if self.retirement_declared:
                parts.append("declares being retired")
            return "Retired: " + ", ".join(parts)
        return f"Student at {self.school}, graduating {self.expected_graduation:%b %Y}"


def age_on(born: date, day: date) -> int:
    """Whole years of age on `day` (a 29 February birthday turns a year older on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def min_age_for(membership_type: MembershipType) -> int:
    """The age that makes a member eligible for a Retired type: data on the type (62 to start with)."""
    return membership_type.eligibility_min_age or RETIRED_MIN_AGE


def needs_eligibility(membership_type: MembershipType) -> bool:
    """Retired and Student types ask what makes the member eligible."""
    return membership_type.kind in (MembershipKind.RETIRED, MembershipKind.STUDENT)


def declare_eligibility(member: Member, membership_type: MembershipType, *, day: date, date_of_birth: date | None = None,
                        retirement_declared: bool = False, school: str | None = None,
                        expected_graduation: date | None = None) -> EligibilityRecord | None:
    """Record what makes the member eligible for a Retired or Student type; refuse what does not."""
    if not needs_eligibility(membership_type):
        return None
    if membership_type.kind is MembershipKind.RETIRED:
        if date_of_birth is not None and date_of_birth > day:
            raise DomainError("The date of birth cannot be in the future.", field="date_of_birth")
        min_age = min_age_for(membership_type)
        old_enough = date_of_birth is not None and age_on(date_of_birth, day) >= min_age
        if not (old_enough or retirement_declared):
            raise DomainError(f"Retired membership is for members aged {min_age} or more, or who declare "
                              "they have retired.", field="date_of_birth")
        record = EligibilityRecord(member_id=member.id, kind="retired", date_of_birth=date_of_birth,
                                   retirement_declared=retirement_declared, submitted_on=day)
    else:
        school = (school or "").strip()
        if not school:
            raise DomainError("Enter your school.", field="school")
        if expected_graduation is None:
            raise DomainError("Enter your expected graduation date.", field="expected_graduation")
        if expected_graduation < day:
            raise DomainError("The expected graduation date has passed.", field="expected_graduation")
        record = EligibilityRecord(member_id=member.id, kind="student", school=school[:200],
                                   expected_graduation=expected_graduation, submitted_on=day)
    db.session.add(record)
    db.session.flush()
    audit.record("member.eligibility_declared", actor=None, member_id=member.id, chapter_id=member.home_chapter_id,
                 summary=record.summary)
    return record


def review_eligibility(record: EligibilityRecord, *, approve: bool, actor: User, day: date, note: str | None = None) -> None:
    """Staff approve or reject a member's eligibility declaration."""
    if not actor.is_staff:
        raise DomainError("Only staff review eligibility.")
    if record.status is not EligibilityStatus.SUBMITTED:
        raise DomainError("This declaration was already reviewed.")
    record.status = EligibilityStatus.APPROVED if approve else EligibilityStatus.REJECTED
    record.reviewed_by_id, record.reviewed_on, record.review_note = actor.id, day, (note or "").strip() or None
    audit.record("member.eligibility_reviewed", actor=actor, member_id=record.member_id,
                 summary=f"{record.summary}: {record.status.label}")
    db.session.flush()


def has_standing_declaration(member: Member, membership_type: MembershipType) -> bool:
    """Whether the member declared eligibility for this kind of type and it was not rejected."""
    return db.session.scalar(sa.select(EligibilityRecord.id).where(
        EligibilityRecord.member_id == member.id, EligibilityRecord.kind == membership_type.kind.value,
        EligibilityRecord.status != EligibilityStatus.REJECTED).limit(1)) is not None


def eligibility_of(member: Member) -> list[EligibilityRecord]:
    """The member's declarations, newest first."""
    return list(db.session.scalars(sa.select(EligibilityRecord).where(EligibilityRecord.member_id == member.id)
                                   .order_by(EligibilityRecord.submitted_on.desc(), EligibilityRecord.id.desc())))


def eligibility_to_review() -> list[EligibilityRecord]:
    """Declarations waiting for staff, oldest first."""
    return list(db.session.scalars(sa.select(EligibilityRecord).where(
        EligibilityRecord.status == EligibilityStatus.SUBMITTED)
        .options(sa.orm.joinedload(EligibilityRecord.member)).order_by(EligibilityRecord.submitted_on).limit(500)))
