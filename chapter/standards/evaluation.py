"""A chapter's minimum standards for one fiscal year, counted from the data: evidence, what is missing, level.

The result is plain data (dicts and lists of str/int), the very value a submitted report freezes, so the
live page and a frozen report render through the same template.
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.fiscal import FiscalYear
from chapter.chapters.models import Chapter, OfficerPosition, OfficerTerm
from chapter.core import activity
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.standards.models import RecognitionLevel, RosterReview, Standard, StandardKind


def active_standards() -> list[Standard]:
    return list(db.session.scalars(sa.select(Standard).where(Standard.is_active)
                                   .order_by(Standard.sort_order, Standard.id)))


def levels() -> list[RecognitionLevel]:
    """Recognition levels, lowest threshold first."""
    return list(db.session.scalars(sa.select(RecognitionLevel)
                                   .order_by(RecognitionLevel.standards_met, RecognitionLevel.id)))


def _evidence(day: date | None, title: str, url: str | None = None, count: int | None = None) -> dict:
    return {"day": day.isoformat() if day else None, "title": title, "url": url, "count": count}


def _activity(standard: Standard, chapter: Chapter, year: FiscalYear) -> dict:
    """Items of the standard's activity kind in the fiscal year (its last day included)."""
    items = sorted(activity.items(standard.activity_kind or "", chapter.id, year.starts_on,
                                  year.ends_on + timedelta(days=1)), key=lambda item: (item.day, item.title))
    label = next((kind.label for kind in activity.kinds() if kind.key == standard.activity_kind), standard.title)
    counted, needed = len(items), standard.minimum
    missing = f"{needed - counted} more to count ({label.lower()})" if counted < needed else ""
    return {"counted": counted, "required": needed, "met": counted >= needed, "missing": missing,
            "evidence": [_evidence(item.day, item.title, item.url, item.count) for item in items]}


def _officers(standard: Standard, chapter: Chapter, year: FiscalYear) -> dict:
    """Each listed position held by someone at some time in the fiscal year."""
    codes = standard.positions
    positions = {p.code: p for p in db.session.scalars(sa.select(OfficerPosition)
                                                         .where(OfficerPosition.code.in_(codes or [""])))}
    terms = db.session.execute(
        sa.select(OfficerPosition.code, User.name, OfficerTerm.starts_on, OfficerTerm.ends_on)
        .join(OfficerPosition, OfficerPosition.id == OfficerTerm.position_id).join(User, User.id == OfficerTerm.user_id)
        .where(OfficerTerm.chapter_id == chapter.id, OfficerPosition.code.in_(codes or [""]),
               OfficerTerm.starts_on <= year.ends_on,
               sa.or_(OfficerTerm.ends_on.is_(None), OfficerTerm.ends_on >= year.starts_on))
        .order_by(OfficerTerm.starts_on)).all()
    evidence, filled = [], set()
    for code, name, starts_on, ends_on in terms:
        filled.add(code)
        title = positions[code].title
        until = f" to {ends_on.isoformat()}" if ends_on else ", until further notice"
        evidence.append(_evidence(starts_on, f"{title}: {name} (from {starts_on.isoformat()}{until})"))
    vacant = [positions[code].title if code in positions else code for code in codes if code not in filled]
    return {"counted": len(codes) - len(vacant), "required": len(codes), "met": not vacant,
            "missing": ("Not filled: " + ", ".join(vacant)) if vacant else "", "evidence": evidence}


def _roster_reviews(standard: Standard, chapter: Chapter, year: FiscalYear) -> dict:
    """Roster reviews recorded in the fiscal year."""
    rows = db.session.execute(
        sa.select(RosterReview.reviewed_on, User.name).outerjoin(User, User.id == RosterReview.reviewed_by_id)
        .where(RosterReview.chapter_id == chapter.id, RosterReview.reviewed_on >= year.starts_on,
               RosterReview.reviewed_on <= year.ends_on)
        .order_by(RosterReview.reviewed_on, RosterReview.id)).all()
    counted, needed = len(rows), standard.minimum
    return {"counted": counted, "required": needed, "met": counted >= needed,
            "missing": f"{needed - counted} more roster review(s): an officer marks the roster reviewed"
            if counted < needed else "",
            "evidence": [_evidence(day, f"Roster reviewed by {name or 'a former user'}") for day, name in rows]}


COUNTERS = {StandardKind.ACTIVITY: _activity, StandardKind.OFFICERS: _officers,
            StandardKind.ROSTER_REVIEW: _roster_reviews}


def evaluate(chapter: Chapter, year: FiscalYear) -> dict:
    """Every active standard for the chapter's fiscal year, the number met and the level reached so far."""
    results = []
    for standard in active_standards():
        result = COUNTERS[standard.kind](standard, chapter, year)
        results.append({"code": standard.code, "title": standard.title, "kind": standard.kind.value, **result})
    met = sum(1 for result in results if result["met"])
    reached = [level for level in levels() if level.standards_met <= met]
    higher = [level for level in levels() if level.standards_met > met]
    return {"chapter": {"number": chapter.number, "name": chapter.display_name},
            "fiscal_year": {"label": year.label, "starts_on": year.starts_on.isoformat(),
                            "ends_on": year.ends_on.isoformat()},
            "standards": results, "met": met, "total": len(results),
            "level": reached[-1].name if reached else None,
            "next_level": ({"name": higher[0].name, "standards_met": higher[0].standards_met} if higher else None),
            "counted_at": utcnow().isoformat(timespec="seconds")}
