"""Maintenance points: claimed with evidence, approved by staff or the chapter's VP Education, counted once.

Membership points come from the terms and exam points from recorded results: neither can be typed in.
An application records the entries and membership days it used, so they cannot count again.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core import audit, caching
from chapter.core.errors import DomainError
from chapter.extensions import db
from chapter.certifications.models import (
    ApplicationStatus, CertificationApplication, CertificationType, Exam, ExamProgram, MemberCertification,
    PointCategory, PointEntry, PointKind, PointStatus, application_points,
)
from chapter.members.models import Member, MembershipTerm
from chapter.members.services import add_months
from chapter.certifications.awards import cycle_end_for, points_required

if TYPE_CHECKING:
    from chapter.auth.models import User


def counted_points(regular: int, teaching: int, cap_percent: int) -> int:
    """Total points with teaching-type points capped at `cap_percent` of the total counted."""
    if cap_percent >= 100:
        return regular + teaching
    allowed_teaching = cap_percent * regular // (100 - cap_percent)
    return regular + min(teaching, allowed_teaching)


def cycle_starts_on(held: MemberCertification) -> date:
    """The first day of the current cycle: the day earned for the first cycle, else the day after the last deadline."""
    if held.cycle_ends_on == cycle_end_for(held.certification_type, held.earned_on):
        return held.earned_on
    return add_months(held.cycle_ends_on, -12 * held.certification_type.cycle_years) + timedelta(days=1)


def membership_days(member_id: int, start: date, end: date) -> int:
    """Days of membership in [start, end], over all the member's terms (overlaps and type changes count once)."""
    terms = db.session.execute(sa.select(MembershipTerm.starts_on, MembershipTerm.ends_on).where(
        MembershipTerm.member_id == member_id, MembershipTerm.voided_at.is_(None),
        MembershipTerm.starts_on <= end, MembershipTerm.ends_on >= start).order_by(MembershipTerm.starts_on)).all()
    days, covered_to = 0, start - timedelta(days=1)
    for starts_on, ends_on in terms:
        first, last = max(starts_on, covered_to + timedelta(days=1)), min(ends_on, end)
        if last >= first:
            days += (last - first).days + 1
            covered_to = last
    return days


DAYS_PER_MEMBERSHIP_YEAR = 365


def membership_points(member: Member, start: date, end: date) -> int:
    """So many points per whole year of membership in [start, end], counted over the whole membership."""
    category = db.session.scalar(sa.select(PointCategory).where(PointCategory.kind == PointKind.MEMBERSHIP))
    if category is None or end < start:
        return 0
    return membership_days(member.id, start, end) // DAYS_PER_MEMBERSHIP_YEAR * category.points_per_unit


def standing_applications(member_id: int, certification_type_id: int) -> sa.Select:
    """The member's applications for a certification that still stand (submitted or approved)."""
    return sa.select(CertificationApplication.id).where(
        CertificationApplication.member_id == member_id,
        CertificationApplication.certification_type_id == certification_type_id,
        CertificationApplication.status.in_([ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED]))


def used_entry_ids(member_id: int, certification_type_id: int) -> sa.Select:
    """Entries an application still standing already used: they cannot count again."""
    return sa.select(application_points.c.point_entry_id).where(
        application_points.c.application_id.in_(standing_applications(member_id, certification_type_id)))


def membership_counted_through(member_id: int, certification_type_id: int) -> date | None:
    """The last membership day an application still standing already counted."""
    return db.session.scalar(sa.select(sa.func.max(CertificationApplication.membership_points_through)).where(
        CertificationApplication.id.in_(standing_applications(member_id, certification_type_id))))


def available_entries(member_id: int, certification_type_id: int, start: date, end: date) -> list[PointEntry]:
    """Approved entries dated in [start, end] that no standing application has used."""
    return list(db.session.scalars(sa.select(PointEntry).join(PointEntry.category).where(
        PointEntry.member_id == member_id, PointEntry.status == PointStatus.APPROVED,
        PointEntry.earned_on.between(start, end),
        PointEntry.id.not_in(used_entry_ids(member_id, certification_type_id)))
        .options(joinedload(PointEntry.category)).order_by(PointEntry.earned_on, PointEntry.id)))


@dataclass(frozen=True)
class PointsSummary:
    """Points earned in a window, by kind, and what counts towards the requirement."""

    regular: int
    teaching: int
    membership: int
    counted: int
    required: int
    entries: tuple[PointEntry, ...] = ()
    membership_from: date | None = None
    membership_through: date | None = None

    @property
    def missing(self) -> int:
        return max(0, self.required - self.counted)


def points_summary(held: MemberCertification, day: date) -> PointsSummary:
    """The approved points of the current cycle (through `day` when suspended) that no earlier application used."""
    return summary_of(member_points(held.member_id), held, day)


@dataclass(frozen=True)
class MemberPoints:
    """What a member's points summaries are computed from, read once for all their certifications."""

    entries: tuple[PointEntry, ...]  # every entry of the member, any status, with its category; newest first
    used: dict[int, frozenset[int]]  # certification type id -> entries a standing application used
    counted_through: dict[int, date]  # certification type id -> last membership day an application counted
    terms: tuple[tuple[date, date], ...]  # the member's terms that are not voided, by start
    membership_category: PointCategory | None


def member_points(member_id: int, categories: list[PointCategory] | None = None, *,
                  with_applications: bool = True) -> MemberPoints:
    """The member's entries, standing applications and terms in three queries, whatever the number of certifications.

    `categories` (every point category, when the caller has them) saves the query for the membership one;
    without `with_applications` (a member holding no certification) only the entries are read.
    """
    entries = tuple(point_entries_of_id(member_id))
    if not with_applications:
        return MemberPoints(entries, {}, {}, (), None)
    used: dict[int, set[int]] = {}
    counted_through: dict[int, date] = {}
    for type_id, through, entry_id in db.session.execute(_standing_statement(), {"member_id": member_id}):
        used.setdefault(type_id, set())
        if entry_id is not None:
            used[type_id].add(entry_id)
        if through is not None and (type_id not in counted_through or through > counted_through[type_id]):
            counted_through[type_id] = through
    terms = tuple((starts_on, ends_on) for starts_on, ends_on in
                  db.session.execute(_terms_statement(), {"member_id": member_id}))
    if categories is None:
        category = db.session.scalar(sa.select(PointCategory).where(PointCategory.kind == PointKind.MEMBERSHIP))
    else:
        category = next((c for c in categories if c.kind is PointKind.MEMBERSHIP), None)
    return MemberPoints(entries, {k: frozenset(v) for k, v in used.items()}, counted_through, terms, category)


@functools.cache
def _standing_statement() -> sa.Select:
    """The member's standing applications with the entries each used (one row per entry), built once per process."""
    return (sa.select(CertificationApplication.certification_type_id, CertificationApplication.membership_points_through,
                      application_points.c.point_entry_id)
            .outerjoin(application_points, application_points.c.application_id == CertificationApplication.id)
            .where(CertificationApplication.member_id == sa.bindparam("member_id", type_=sa.Integer),
                   CertificationApplication.status.in_([ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED])))


@functools.cache
def _terms_statement() -> sa.Select:
    """The member's terms that count (not voided), by start, built once per process."""
    return (sa.select(MembershipTerm.starts_on, MembershipTerm.ends_on)
            .where(MembershipTerm.member_id == sa.bindparam("member_id", type_=sa.Integer),
                   MembershipTerm.voided_at.is_(None))
            .order_by(MembershipTerm.starts_on))


def _days_covered(terms: tuple[tuple[date, date], ...], start: date, end: date) -> int:
    """Days in [start, end] covered by the terms (sorted by start): overlaps count once (as membership_days)."""
    days, covered_to = 0, start - timedelta(days=1)
    for starts_on, ends_on in terms:
        if starts_on > end or ends_on < start:
            continue
        first, last = max(starts_on, covered_to + timedelta(days=1)), min(ends_on, end)
        if last >= first:
            days += (last - first).days + 1
            covered_to = last
    return days


def summary_of(points: MemberPoints, held: MemberCertification, day: date,
               awards: list[MemberCertification] | None = None) -> PointsSummary:
    """points_summary from what member_points read: no query (none either for the status with `awards`)."""
    start = cycle_starts_on(held)
    end = max(held.cycle_ends_on, day)
    used = points.used.get(held.certification_type_id, frozenset())
    entries = sorted((e for e in points.entries if e.status is PointStatus.APPROVED
                      and start <= e.earned_on <= end and e.id not in used), key=lambda e: (e.earned_on, e.id))
    regular = sum(e.points for e in entries if not e.category.is_teaching)
    teaching = sum(e.points for e in entries if e.category.is_teaching)
    counted_through = points.counted_through.get(held.certification_type_id)
    membership_from = max(start, counted_through + timedelta(days=1)) if counted_through else start
    membership_through = min(end, day)
    membership = 0
    if points.membership_category is not None and membership_through >= membership_from:
        membership = (_days_covered(points.terms, membership_from, membership_through) // DAYS_PER_MEMBERSHIP_YEAR
                      * points.membership_category.points_per_unit)
    regular += membership
    return PointsSummary(regular, teaching, membership,
                         counted_points(regular, teaching, held.certification_type.teaching_cap_percent),
                         points_required(held, day, awards), tuple(entries), membership_from, membership_through)


@dataclass(frozen=True)
class FellowshipPoints:
    """What a CFPIM application counts: CPIM exams (capped), recent presentations (capped), publications."""

    exams: int
    presentations: int
    publications: int
    entries: tuple[PointEntry, ...]

    @property
    def total(self) -> int:
        return self.exams + self.presentations + self.publications


def fellowship_points(member: Member, fellow: CertificationType, day: date) -> FellowshipPoints:
    """The CFPIM application's points on `day`, with the caps and the presentation window staff set."""
    exam_categories = set(db.session.scalars(sa.select(Exam.point_category_id).join(Exam.program).where(
        ExamProgram.certification_type_id == fellow.requires_type_id, Exam.point_category_id.is_not(None))))
    presentations_from = add_months(day, -12 * fellow.application_presentation_years) \
        if fellow.application_presentation_years else date.min
    entries = available_entries(member.id, fellow.id, date.min, day)
    exams = [e for e in entries if e.category_id in exam_categories]
    presentations = [e for e in entries if e.category.kind is PointKind.PRESENTATION and e.earned_on >= presentations_from]
    publications = [e for e in entries if e.category.kind is PointKind.PUBLICATION]

    def capped(rows, cap):
        total = sum(e.points for e in rows)
        return total if cap is None else min(total, cap)

    return FellowshipPoints(capped(exams, fellow.application_exam_points_cap),
                            capped(presentations, fellow.application_presentation_points_cap),
                            sum(e.points for e in publications), tuple(exams + presentations + publications))


def certification_types() -> list[CertificationType]:
    """The certifications in display order."""
    return list(db.session.scalars(sa.select(CertificationType).order_by(CertificationType.sort_order)))


def certification_codes() -> list[str]:
    """The certifications' codes in display order, for filter lists; kept per process (`caching.references`)."""
    return caching.references.get("certification_codes", lambda: [t.code for t in certification_types()],
                                  models=(CertificationType,))


RULE_FIELDS = ("points_required", "cycle_years", "teaching_cap_percent", "reinstatement_points_per_year",
               "terminated_after_years", "application_points_required", "application_exam_points_cap",
               "application_presentation_points_cap", "application_presentation_years")


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
               day: date, evidence_url: str | None = None, chapter_id: int | None = None) -> PointEntry:
    """A member claims an activity with its date, hours or units and evidence; it counts once approved."""
    if not category.kind.claimable:
        raise DomainError(f"{category.name} points come from the association's records and cannot be entered.",
                          field="category_id")
    if units <= 0:
        raise DomainError("Enter a positive number.", field="units")
    if earned_on > day:
        raise DomainError("The date cannot be in the future.", field="earned_on")
    evidence_url = (evidence_url or "").strip() or None
    if evidence_url and not evidence_url.lower().startswith(("https://", "http://")):
        raise DomainError("The link must start with https:// or http://.", field="evidence_url")
    entry = PointEntry(member_id=member.id, category_id=category.id, earned_on=earned_on, units=units,
                       points=units * category.points_per_unit, description=description.strip()[:300],
                       status=PointStatus.CLAIMED, evidence_url=evidence_url, chapter_id=chapter_id, automatic=False)
    db.session.add(entry)
    db.session.flush()
    return entry


def can_review_points(entry: PointEntry, user: User, day: date) -> bool:
    """Staff review every claim; a chapter's VP Education reviews the claims for that chapter's events."""
    if user.is_staff:
        return True
    if entry.chapter_id is None:
        return False
    from chapter.chapters.models import Chapter
    from chapter.core.permissions import roles_of

    chapter = db.session.get(Chapter, entry.chapter_id)
    return chapter is not None and any(p.code == VP_EDUCATION for p in roles_of(user, day).positions_in(chapter))


VP_EDUCATION = "vp_education"


def review_points(entry: PointEntry, *, approve: bool, actor: User, day: date, note: str | None = None) -> PointEntry:
    """Approve or reject a claimed activity (staff, or the chapter's VP Education for its events)."""
    if not can_review_points(entry, actor, day):
        raise DomainError("Only staff, or the VP Education of the chapter that held the event, review this claim.")
    if entry.status is not PointStatus.CLAIMED:
        raise DomainError("This claim was already reviewed.")
    entry.status = PointStatus.APPROVED if approve else PointStatus.REJECTED
    entry.reviewed_by_id, entry.reviewed_on = actor.id, day
    entry.review_note = (note or "").strip()[:300] or None
    audit.record("certification.points_reviewed", actor=actor, member_id=entry.member_id, chapter_id=entry.chapter_id,
                 summary=f"{entry.points} points ({entry.description}) {entry.status.value}")
    db.session.flush()
    return entry


def claims_to_review(user: User, day: date) -> list[PointEntry]:
    """Claims waiting for this reviewer: all of them for staff, the chapter's for a VP Education."""
    statement = (sa.select(PointEntry).where(PointEntry.status == PointStatus.CLAIMED)
                 .options(joinedload(PointEntry.category), joinedload(PointEntry.member)).order_by(PointEntry.earned_on, PointEntry.id))
    if not user.is_staff:
        from chapter.core.permissions import roles_of

        roles = roles_of(user, day)
        chapter_ids = [chapter_id for chapter_id, positions in roles.positions_by_chapter.items()
                       if any(p.code == VP_EDUCATION for p in positions)]
        if not chapter_ids:
            return []
        statement = statement.where(PointEntry.chapter_id.in_(chapter_ids))
    return list(db.session.scalars(statement.limit(500)))


def point_entries_of(member: Member) -> list[PointEntry]:
    """Every entry of the member with its category, newest first."""
    return point_entries_of_id(member.id)


def point_entries_of_id(member_id: int) -> list[PointEntry]:
    return list(db.session.scalars(sa.select(PointEntry).where(PointEntry.member_id == member_id)
                                   .options(joinedload(PointEntry.category))
                                   .order_by(PointEntry.earned_on.desc(), PointEntry.id.desc())))


def record_earned_points(member_id: int, category: PointCategory, units: int, earned_on: date, description: str, *,
                         chapter_id: int | None = None, evidence_url: str | None = None) -> PointEntry:
    """Points the association's own records prove (a chapter event's attendance): approved at once, automatic."""
    if units <= 0:
        raise DomainError("Points are recorded for a positive number of units.")
    entry = PointEntry(member_id=member_id, category_id=category.id, earned_on=earned_on, units=units,
                       points=units * category.points_per_unit, description=description.strip()[:300],
                       status=PointStatus.APPROVED, automatic=True, evidence_url=evidence_url, chapter_id=chapter_id)
    db.session.add(entry)
    db.session.flush()
    return entry


def default_attendance_category() -> PointCategory | None:
    """What an hour of a chapter's education is worth when an event names no category ("education")."""
    return db.session.scalar(sa.select(PointCategory).where(PointCategory.code == "education"))
