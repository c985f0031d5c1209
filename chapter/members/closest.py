"""The closest chapter for a member who picks none, so every dues payment carries a chapter share.

The rule, in order (documented in README, "Home chapter"):
1. the chapter whose postal code shares the longest prefix with the member's, at least 3 characters
   (a US ZIP code's first three digits name its sectional center), in the member's country;
2. else a chapter in the member's city and state/region;
3. else a chapter in the member's state/region;
4. else the lowest-numbered chapter of the member's country, and failing that of any country.
Ties go to the lowest chapter number. Student chapters (with a parent chapter) and inactive chapters
are never assigned. The member can change the chapter at any time at no cost.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import sqlalchemy as sa

from chapter.chapters.models import Chapter
from chapter.core.text import fold
from chapter.extensions import db
from chapter.members.models import Member

if TYPE_CHECKING:
    from chapter.auth.models import User

MIN_POSTAL_PREFIX = 3


def _postal(code: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (code or "").upper())


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def closest_chapter(member: Member) -> tuple[Chapter | None, str]:
    """The chapter to assign to `member`, and why (for the member's chapter history)."""
    chapters = db.session.scalars(sa.select(Chapter).where(Chapter.is_active.is_(True), Chapter.parent_chapter_id.is_(None))
                                  .order_by(Chapter.number)).all()
    if not chapters:
        return None, ""
    country = (member.country or "US").upper()
    local = [c for c in chapters if (c.country or "US").upper() == country]
    postal = _postal(member.postal_code)
    if postal:
        scored = [(_common_prefix(postal, _postal(c.postal_code)), c) for c in local if c.postal_code]
        best = max((score for score, _ in scored), default=0)
        if best >= MIN_POSTAL_PREFIX:
            chosen = next(c for score, c in scored if score == best)
            return chosen, f"Closest chapter by postal code {member.postal_code}"
    city, region = fold(member.city), fold(member.region)
    if city and region:
        for chapter in local:
            if fold(chapter.city) == city and fold(chapter.region) == region:
                return chapter, f"Closest chapter by city ({member.city}, {member.region})"
    if region:
        for chapter in local:
            if fold(chapter.region) == region:
                return chapter, f"Closest chapter by state or region ({member.region})"
    chosen = (local or chapters)[0]
    return chosen, "No chapter near the address given: the first chapter " + ("of the country" if local else "listed")


def assign_closest_chapter(member: Member, *, actor: User | None) -> Chapter | None:
    """Give a member without a home chapter the closest one (recorded in the chapter history)."""
    if member.home_chapter_id is not None:
        return member.home_chapter
    chapter, reason = closest_chapter(member)
    if chapter is None:
        return None
    from chapter.members.services import change_home_chapter

    change_home_chapter(member, chapter, actor=actor, reason=reason)
    db.session.refresh(member, ["home_chapter"])
    return chapter
