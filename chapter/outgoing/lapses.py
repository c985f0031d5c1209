"""member.lapsed: computed once a day, since a lapse is a date passing, not something anyone does.

A member lapses the first day after their grace ends (status is computed from dates, DESIGN.md); the
daily job publishes member.lapsed for members whose grace ended yesterday (or within the week before,
should the job not have run) and who have not renewed, once per lapse (`AnnouncedLapse`).
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from chapter.chapters.models import Chapter
from chapter.core import domain_events
from chapter.extensions import db
from chapter.members.models import Member, MembershipType
from chapter.outgoing.models import AnnouncedLapse

LOOK_BACK_DAYS = 7


def lapsed_payload(member_id: int, member_number: str, chapter_id: int | None, chapter_number: int | None,
                   type_code: str | None, paid_through: date, grace_ended_on: date) -> dict:
    return {"member_id": member_id, "member_number": member_number, "chapter_id": chapter_id,
            "chapter_number": chapter_number, "membership_type": type_code, "paid_through": paid_through.isoformat(),
            "lapsed_on": (grace_ended_on + timedelta(days=1)).isoformat()}


def publish_lapses(day: date) -> int:
    """Publish member.lapsed for every member whose grace ended in the week before `day`, not yet announced."""
    yesterday = day - timedelta(days=1)
    announced = sa.exists().where(AnnouncedLapse.member_id == Member.id, AnnouncedLapse.grace_ended_on == Member.grace_ends_on)
    rows = db.session.execute(
        sa.select(Member.id, Member.member_number, Member.home_chapter_id, Chapter.number, MembershipType.code,
                  Member.paid_through, Member.grace_ends_on)
        .outerjoin(Chapter, Chapter.id == Member.home_chapter_id)
        .outerjoin(MembershipType, MembershipType.id == Member.current_type_id)
        .where(Member.grace_ends_on.between(yesterday - timedelta(days=LOOK_BACK_DAYS - 1), yesterday),
               Member.paid_through < day, ~announced)
        .order_by(Member.id)).all()
    for member_id, number, chapter_id, chapter_number, type_code, paid_through, grace_ended_on in rows:
        db.session.add(AnnouncedLapse(member_id=member_id, grace_ended_on=grace_ended_on))
        domain_events.publish("member.lapsed", lapsed_payload(member_id, number, chapter_id, chapter_number, type_code,
                                                              paid_through, grace_ended_on))
    db.session.flush()
    return len(rows)
