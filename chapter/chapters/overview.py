"""Figures for the dashboards of staff and district managers: members by status, chapter by chapter."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from chapter.chapters.models import Chapter, District
from chapter.chapters.services import RosterView
from chapter.core.permissions import Roles
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus

EXPIRING_WITHIN_DAYS = 60


@dataclass
class Figures:
    """Members of one chapter (or a sum of chapters) by status today, and those whose term ends soon."""

    label: str
    counts: dict[MembershipStatus, int] = field(default_factory=lambda: {s: 0 for s in MembershipStatus})
    expiring: int = 0
    chapter: Chapter | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, other: Figures) -> None:
        for status, count in other.counts.items():
            self.counts[status] += count
        self.expiring += other.expiring


@dataclass
class Overview:
    """What a staff member or district manager sees first: totals, then one row per chapter or district."""

    totals: Figures
    rows: list[Figures]
    rows_are: str  # "chapters" or "districts"
    expiring_within_days: int = EXPIRING_WITHIN_DAYS


def overview_for(roles: Roles, day: date) -> Overview:
    """Members by status in the chapters `roles` oversees: by district for staff, by chapter for a district manager."""
    chapters = sa.select(Chapter).where(Chapter.is_active.is_(True)).order_by(Chapter.number)
    if not roles.is_staff:
        chapters = chapters.where(Chapter.district_id.in_(roles.managed_district_ids or {-1}))
    chapter_rows = db.session.scalars(chapters.options(sa.orm.joinedload(Chapter.district))).all()
    by_chapter = _figures_by_chapter([c.id for c in chapter_rows], day)
    totals = Figures("All")
    per_chapter = []
    for chapter in chapter_rows:
        figures = by_chapter.get(chapter.id) or Figures(chapter.display_name)
        figures.label, figures.chapter = chapter.display_name, chapter
        totals.add(figures)
        per_chapter.append(figures)
    if not roles.is_staff:
        return Overview(totals, per_chapter, "chapters")
    districts: dict[int, Figures] = {}
    for figures in per_chapter:
        district: District = figures.chapter.district
        districts.setdefault(district.id, Figures(district.name)).add(figures)
    return Overview(totals, sorted(districts.values(), key=lambda f: f.label), "districts")


def _figures_by_chapter(chapter_ids: list[int], day: date) -> dict[int, Figures]:
    """One grouped query: each chapter's members by status and how many end within the window."""
    if not chapter_ids:
        return {}
    columns = [sa.func.count(sa.case((Member.status_clause(status, day), 1))).label(status.value)
               for status in MembershipStatus]
    # The same condition as the roster's "Expiring in 60 days" list, so the figure and the list agree.
    expiring = sa.func.count(sa.case((RosterView.EXPIRING_60.condition(day), 1)))
    rows = db.session.execute(
        sa.select(Member.home_chapter_id, *columns, expiring.label("expiring"))
        .where(Member.home_chapter_id.in_(chapter_ids)).group_by(Member.home_chapter_id)
    ).all()
    result = {}
    for row in rows:
        figures = Figures("", {status: getattr(row, status.value) for status in MembershipStatus}, row.expiring)
        result[row.home_chapter_id] = figures
    return result
