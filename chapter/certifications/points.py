"""Maintenance points: what is logged, what counts in a cycle, and the rules staff edit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.extensions import db
from chapter.certifications.models import CertificationType, MemberCertification, PointCategory, PointEntry
from chapter.members.models import Member, MembershipTerm
from chapter.members.services import add_months
from chapter.certifications.awards import points_required

if TYPE_CHECKING:
    from chapter.auth.models import User


def counted_points(regular: int, teaching: int, cap_percent: int) -> int:
    """Total points with teaching-type points capped at `cap_percent` of the total counted."""
    if cap_percent >= 100:
        return regular + teaching
    allowed_teaching = cap_percent * regular // (100 - cap_percent)
    return regular + min(teaching, allowed_teaching)


def cycle_starts_on(held: MemberCertification) -> date:
    """The first day of the current cycle."""
    return add_months(held.cycle_ends_on, -12 * held.certification_type.cycle_years) + timedelta(days=1)


def membership_points(member: Member, start: date, end: date) -> int:
    """Membership points for the terms that start in [start, end]: so many per year of membership."""
    category = db.session.scalar(sa.select(PointCategory).where(PointCategory.code == "membership"))
    if category is None:
        return 0
    terms = db.session.scalars(sa.select(MembershipTerm).where(
        MembershipTerm.member_id == member.id, MembershipTerm.voided_at.is_(None),
        MembershipTerm.starts_on <= end, MembershipTerm.ends_on >= start)).all()
    years = 0
    for term in terms:
        first, last = max(term.starts_on, start), min(term.ends_on, end)
        years += max(0, round(((last - first).days + 1) / 365.25))
    return years * category.points_per_unit


@dataclass(frozen=True)
class PointsSummary:
    """Points earned in a window, by kind, and what counts towards the requirement."""

    regular: int
    teaching: int
    membership: int
    counted: int
    required: int

    @property
    def missing(self) -> int:
        return max(0, self.required - self.counted)


def points_summary(held: MemberCertification, day: date) -> PointsSummary:
    """The points counted for the current cycle (through `day` when suspended) against the requirement."""
    start = cycle_starts_on(held)
    end = max(held.cycle_ends_on, day)
    rows = db.session.execute(sa.select(PointCategory.is_teaching, sa.func.sum(PointEntry.points))
                              .join(PointEntry.category).where(PointEntry.member_id == held.member_id,
                                                               PointEntry.earned_on.between(start, end))
                              .group_by(PointCategory.is_teaching)).all()
    totals = {bool(teaching): int(total or 0) for teaching, total in rows}
    member = db.session.get(Member, held.member_id)
    membership = membership_points(member, start, min(end, day))
    regular = totals.get(False, 0) + membership
    teaching = totals.get(True, 0)
    return PointsSummary(regular, teaching, membership,
                         counted_points(regular, teaching, held.certification_type.teaching_cap_percent),
                         points_required(held, day))


def certification_types() -> list[CertificationType]:
    return list(db.session.scalars(sa.select(CertificationType).order_by(CertificationType.sort_order)))


RULE_FIELDS = ("points_required", "cycle_years", "teaching_cap_percent", "reinstatement_points_per_year",
               "terminated_after_years", "application_points_required")


def update_certification_rules(certification_type: CertificationType, values: dict, *, actor: User) -> None:
    """Staff change a certification's maintenance rules (points, cycle, cap, reinstatement, termination)."""
    before = {name: getattr(certification_type, name) for name in RULE_FIELDS}
    for name in RULE_FIELDS:
        if name in values:
            setattr(certification_type, name, values[name])
    audit.record("certification.rules_changed", actor=actor, summary=f"{certification_type.code} rules changed",
                 before=before, after={name: getattr(certification_type, name) for name in RULE_FIELDS})
    db.session.flush()


def update_point_category(category: PointCategory, points_per_unit: int, *, actor: User) -> None:
    """Staff change what an activity is worth; points already logged keep their value."""
    before = category.points_per_unit
    category.points_per_unit = points_per_unit
    audit.record("certification.points_changed", actor=actor, summary=f"{category.name}: {points_per_unit} per {category.unit}",
                 before={"points_per_unit": before}, after={"points_per_unit": points_per_unit})
    db.session.flush()


def point_categories() -> list[PointCategory]:
    return list(db.session.scalars(sa.select(PointCategory).order_by(PointCategory.sort_order)))


def log_points(member: Member, category: PointCategory, units: int, earned_on: date, description: str, *,
               day: date) -> PointEntry:
    """A member logs an activity; its points are the category's points per unit."""
    if units <= 0:
        raise DomainError("Enter a positive number.", field="units")
    if earned_on > day:
        raise DomainError("The date cannot be in the future.", field="earned_on")
    entry = PointEntry(member_id=member.id, category_id=category.id, earned_on=earned_on, units=units,
                       points=units * category.points_per_unit, description=description)
    db.session.add(entry)
    db.session.flush()
    return entry


def point_entries_of(member: Member) -> list[PointEntry]:
    return list(db.session.scalars(sa.select(PointEntry).where(PointEntry.member_id == member.id)
                                   .options(joinedload(PointEntry.category)).order_by(PointEntry.earned_on.desc())))
