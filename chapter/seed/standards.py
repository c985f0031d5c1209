"""Minimum standards: the default standards and levels (reference data), and a year of demo standards."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.fiscal import fiscal_year_of
from chapter.chapters.models import Chapter, DistrictManagerTerm, OfficerPosition, OfficerTerm
from chapter.extensions import db
from chapter.standards.models import RecognitionLevel, RosterReview, Standard, StandardKind

# code, title, kind, activity kind, minimum, positions (the same defaults as the c14b migration)
DEFAULT_STANDARDS = [
    ("pd_events", "At least 3 professional-development events", StandardKind.ACTIVITY, "pd_event", 3, None),
    ("communications", "At least 8 member communications", StandardKind.ACTIVITY, "communication", 8, None),
    ("officers", "Officer positions filled: President, Treasurer, Secretary, VP Membership", StandardKind.OFFICERS,
     None, 1, "president,treasurer,secretary,vp_membership"),
    ("roster_review", "Roster reviewed during the year", StandardKind.ROSTER_REVIEW, None, 1, None),
]
DEFAULT_LEVELS = [("Bronze", 1), ("Silver", 2), ("Gold", 3), ("Platinum", 4)]
SUBMIT_POSITIONS = ("president",)  # positions given the submit right when the standards are first seeded


def ensure_standards_reference() -> None:
    """The default standards and levels when there are none, and the president's submit right when no position
    has it (positions are often created after the migration ran): staff's later edits are kept."""
    if not db.session.scalar(sa.select(sa.func.count()).select_from(Standard)):
        for order, (code, title, kind, activity_kind, minimum, positions) in enumerate(DEFAULT_STANDARDS):
            db.session.add(Standard(code=code, title=title, kind=kind, activity_kind=activity_kind, minimum=minimum,
                                    position_codes=positions, sort_order=10 * (order + 1)))
    if not db.session.scalar(sa.select(sa.func.count()).select_from(RecognitionLevel)):
        db.session.add_all(RecognitionLevel(name=name, standards_met=met) for name, met in DEFAULT_LEVELS)
    if not db.session.scalar(sa.select(sa.exists().where(OfficerPosition.can_submit_standards))):
        db.session.execute(sa.update(OfficerPosition).where(OfficerPosition.code.in_(SUBMIT_POSITIONS))
                           .values(can_submit_standards=True))
    db.session.flush()


def _holder(chapter: Chapter, code: str, day: date) -> tuple[User, date] | None:
    """The first holder of a position in the chapter by `day`, and when their term began."""
    row = db.session.execute(
        sa.select(User, OfficerTerm.starts_on).join(OfficerTerm, OfficerTerm.user_id == User.id)
        .join(OfficerPosition, OfficerPosition.id == OfficerTerm.position_id)
        .where(OfficerTerm.chapter_id == chapter.id, OfficerPosition.code == code, OfficerTerm.starts_on <= day)
        .order_by(OfficerTerm.starts_on).limit(1)).first()
    return (row[0], row[1]) if row else None


def seed_demo_standards(chapters: list[Chapter], day: date) -> None:
    """A year of standards: roster reviews in the first chapters, last year's report reviewed for chapter #1
    and submitted (waiting for the district manager) for the second chapter."""
    from chapter.standards import services

    ensure_standards_reference()
    for chapter in chapters[:5]:
        found = _holder(chapter, "secretary", day) or _holder(chapter, "president", day)
        if found is None:
            continue
        reviewer, since = found
        year = fiscal_year_of(chapter.fiscal_year_start_month, day)
        days = {max(back, since)  # not before the officer took office
                for back in (year.previous().starts_on + timedelta(days=45), year.starts_on + timedelta(days=20))}
        for reviewed_on in sorted(d for d in days if d <= day):
            db.session.add(RosterReview(chapter_id=chapter.id, reviewed_on=reviewed_on, reviewed_by_id=reviewer.id))
    db.session.flush()
    for index, chapter in enumerate(chapters[:2]):
        found = _holder(chapter, "president", day)
        if found is None:
            continue
        president = found[0]
        last_year = fiscal_year_of(chapter.fiscal_year_start_month, day).previous()
        report = services.submit_report(chapter, last_year, actor=president)
        manager = db.session.scalar(sa.select(User).join(DistrictManagerTerm, DistrictManagerTerm.user_id == User.id)
                                    .where(DistrictManagerTerm.district_id == chapter.district_id).limit(1))
        if index == 0 and manager is not None:
            services.review_report(report, actor=manager, approve=True, comment="Well done: see you at Gold.")
