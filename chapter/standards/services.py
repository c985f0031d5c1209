"""Standards services: roster reviews, submitting and reviewing the yearly report, staff editing the standards.

Who may do what is decided here from the actor's roles (rights as position data), so a service called from
a CLI or a test obeys the same rules as a page."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.fiscal import FiscalYear
from chapter.chapters.models import Chapter
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import today, utcnow
from chapter.core.permissions import Roles, roles_of
from chapter.extensions import db
from chapter.standards.evaluation import evaluate
from chapter.standards.models import (
    RecognitionLevel,
    ReportStatus,
    RosterReview,
    Standard,
    StandardKind,
    StandardsReport,
)


def can_mark_roster_reviewed(roles: Roles, chapter: Chapter) -> bool:
    """The chapter's officers who see its roster (not district managers or staff: it is the chapter's review)."""
    return any(p.can_view_roster for p in roles.positions_in(chapter))


def can_submit(roles: Roles, chapter: Chapter) -> bool:
    """Positions with the submit right (the president by default)."""
    return any(getattr(p, "can_submit_standards", False) for p in roles.positions_in(chapter))


def can_review(roles: Roles, chapter: Chapter) -> bool:
    """The chapter's district manager, and national staff."""
    return roles.is_staff or chapter.district_id in roles.managed_district_ids


def report_for(chapter: Chapter, year: FiscalYear) -> StandardsReport | None:
    return db.session.scalar(sa.select(StandardsReport).where(StandardsReport.chapter_id == chapter.id,
                                                              StandardsReport.fiscal_year_starts_on == year.starts_on))


def mark_roster_reviewed(chapter: Chapter, *, actor: User, day: date | None = None) -> RosterReview:
    """Record that an officer reviewed the chapter's roster today (once a day is enough)."""
    if not can_mark_roster_reviewed(roles_of(actor), chapter):
        raise NotAllowed("Only the chapter's officers mark its roster reviewed.")
    day = day or today()
    existing = db.session.scalar(sa.select(RosterReview).where(RosterReview.chapter_id == chapter.id,
                                                               RosterReview.reviewed_on == day))
    if existing is not None:
        return existing
    review = RosterReview(chapter_id=chapter.id, reviewed_on=day, reviewed_by_id=actor.id)
    db.session.add(review)
    db.session.flush()
    return review


def submit_report(chapter: Chapter, year: FiscalYear, *, actor: User) -> StandardsReport:
    """Freeze the year's standards as they are counted now and send them to the district manager."""
    if not can_submit(roles_of(actor), chapter):
        raise NotAllowed("Only the chapter's president submits the standards report.")
    if year.starts_on > today():
        raise DomainError(f"{year.label} has not started yet.")
    snapshot = evaluate(chapter, year)
    report = report_for(chapter, year)
    if report is not None and report.status is not ReportStatus.RETURNED:
        raise DomainError(f"The {year.label} report was already submitted ({report.status.label.lower()}).")
    if report is None:
        report = StandardsReport(chapter_id=chapter.id, fiscal_year_starts_on=year.starts_on,
                                 fiscal_year_ends_on=year.ends_on)
        db.session.add(report)
    report.snapshot, report.level, report.standards_met = snapshot, snapshot["level"], snapshot["met"]
    report.status, report.submitted_by_id, report.submitted_at = ReportStatus.SUBMITTED, actor.id, utcnow()
    report.reviewed_by_id = report.reviewed_at = None
    db.session.flush()
    return report


def review_report(report: StandardsReport, *, actor: User, approve: bool, comment: str | None) -> StandardsReport:
    """The district manager approves the report, or returns it to the chapter with a comment saying why."""
    if not can_review(roles_of(actor), report.chapter):
        raise NotAllowed("Only the chapter's district manager reviews its report.")
    if report.status is not ReportStatus.SUBMITTED:
        raise DomainError(f"This report is {report.status.label.lower()}: there is nothing to review.")
    comment = (comment or "").strip() or None
    if not approve and not comment:
        raise DomainError("Say why the report goes back to the chapter.", field="comment")
    report.status = ReportStatus.APPROVED if approve else ReportStatus.RETURNED
    report.reviewed_by_id, report.reviewed_at, report.review_comment = actor.id, utcnow(), comment
    db.session.flush()
    return report


def _staff_only(actor: User) -> None:
    if not actor.is_staff:
        raise NotAllowed("Only national staff edit the standards.")


def update_standard(standard: Standard, *, actor: User, title: str, minimum: int, position_codes: str | None,
                    is_active: bool, sort_order: int) -> Standard:
    """Change a standard's wording, threshold, positions or whether it counts."""
    _staff_only(actor)
    if standard.kind is StandardKind.OFFICERS:
        _check_positions(position_codes)
    standard.title, standard.minimum, standard.is_active, standard.sort_order = title, minimum, is_active, sort_order
    standard.position_codes = position_codes if standard.kind is StandardKind.OFFICERS else None
    db.session.flush()
    return standard


def add_standard(*, actor: User, code: str, title: str, kind: StandardKind, activity_kind: str | None, minimum: int,
                 position_codes: str | None) -> Standard:
    """A new standard counted from now on (a submitted report keeps what it was submitted with)."""
    _staff_only(actor)
    if db.session.scalar(sa.select(Standard.id).where(Standard.code == code)) is not None:
        raise DomainError(f"A standard with the code {code!r} exists already.", field="code")
    if kind is StandardKind.ACTIVITY and not activity_kind:
        raise DomainError("Choose what activity this standard counts.", field="activity_kind")
    if kind is StandardKind.OFFICERS:
        _check_positions(position_codes)
    standard = Standard(code=code, title=title, kind=kind, minimum=minimum,
                        activity_kind=activity_kind if kind is StandardKind.ACTIVITY else None,
                        position_codes=position_codes if kind is StandardKind.OFFICERS else None)
    db.session.add(standard)
    db.session.flush()
    return standard


def _check_positions(position_codes: str | None) -> None:
    from chapter.chapters.models import OfficerPosition

    codes = [code.strip() for code in (position_codes or "").split(",") if code.strip()]
    if not codes:
        raise DomainError("List at least one position code.", field="position_codes")
    known = set(db.session.scalars(sa.select(OfficerPosition.code).where(OfficerPosition.code.in_(codes))))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise DomainError(f"No officer position has the code {', '.join(unknown)}.", field="position_codes")


def update_level(level: RecognitionLevel, *, actor: User, name: str, standards_met: int) -> RecognitionLevel:
    """Rename a recognition level or change how many standards reach it."""
    _staff_only(actor)
    clash = db.session.scalar(sa.select(RecognitionLevel.id).where(RecognitionLevel.name == name,
                                                                   RecognitionLevel.id != level.id))
    if clash is not None:
        raise DomainError(f"Another level is called {name}.", field="name")
    level.name, level.standards_met = name, standards_met
    db.session.flush()
    return level
