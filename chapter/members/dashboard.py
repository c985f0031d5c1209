"""What the member's dashboard shows besides the member record, in few queries whatever the member's history.

Most members have no transfer request or seat offer waiting, are nobody's corporate contact and may
never have changed chapters: one query reads the home chapter and says which of these lists has
anything, and only those are read (one query each, their rows' chapters and organizations joined).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from chapter.chapters.models import Chapter, ChapterTransfer
from chapter.extensions import db
from chapter.members.models import Member

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import TransferRequest
    from chapter.members.corporate_offers import SeatOffer
    from chapter.members.models import Organization


@dataclass(frozen=True)
class DashboardLists:
    home_chapter: Chapter | None
    transfer_requests: list[TransferRequest]
    seat_offers: list[SeatOffer]
    organizations: list[Organization]
    history: list[ChapterTransfer]


def dashboard_lists(member: Member, user: User) -> DashboardLists:
    """The member's home chapter, and the requests, offers, organizations and moves to show (only those there are)."""
    from chapter.chapters.services import pending_requests_for_member
    from chapter.members.corporate import organizations_of
    from chapter.members.corporate_offers import pending_offers_for_member
    from chapter.members.services import chapter_history

    parameters = {"member_id": member.id, "user_id": user.id, "chapter_id": member.home_chapter_id}
    if member.home_chapter_id is not None:
        home, *flags = db.session.execute(_which_lists(with_home_chapter=True), parameters).one()
    else:
        home, flags = None, db.session.execute(_which_lists(with_home_chapter=False), parameters).one()
    requests, offers, organizations, moves = flags
    return DashboardLists(
        home_chapter=home,
        transfer_requests=pending_requests_for_member(member) if requests else [],
        seat_offers=pending_offers_for_member(member) if offers else [],
        organizations=organizations_of(user) if organizations else [],
        history=chapter_history(member) if moves else [],
    )


@functools.cache
def _which_lists(with_home_chapter: bool) -> sa.Select:
    """The home chapter (when there is one) and whether each list has a row: built once per process."""
    from chapter.chapters.services import pending_for_member
    from chapter.members.corporate import contacted_by
    from chapter.members.corporate_offers import offered_to

    member_id = sa.bindparam("member_id", type_=sa.Integer)
    user_id = sa.bindparam("user_id", type_=sa.Integer)
    flags = [
        sa.exists().where(pending_for_member(member_id)).label("transfer_requests"),
        sa.exists().where(offered_to(member_id)).label("seat_offers"),
        sa.exists().where(contacted_by(user_id)).label("organizations"),
        sa.exists().where(ChapterTransfer.member_id == member_id).label("moves"),
    ]
    if not with_home_chapter:
        return sa.select(*flags)
    return sa.select(Chapter, *flags).where(Chapter.id == sa.bindparam("chapter_id", type_=sa.Integer))
