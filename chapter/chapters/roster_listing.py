"""The roster page's rows: a chapter's members as the roster table shows them, read as rows, not ORM members.

Loading 50 members as entities (every column, their type joined) cost the roster page more CPU than its SQL; the
table needs a dozen columns. The search, filters, views and sort are the roster's own (`services.roster_conditions`,
`services.roster_order`), so the rows are the same members, in the same order, as the export and the API see.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from chapter.chapters.models import Chapter
from chapter.chapters.services import RosterQuery, roster_conditions, roster_order
from chapter.core.models import today
from chapter.core.pagination import Page, paginate, paginate_rows_counted_along
from chapter.members.models import Member, MembershipStatus, MembershipType, listed_status


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One member on the roster page."""

    id: int
    member_number: str
    user_id: int | None
    first_name: str
    last_name: str
    email: str | None
    employer: str | None
    type_name: str | None  # the current membership type's name; None without one
    paid_through: date | None
    joined_on: date | None
    status: MembershipStatus


_COLUMNS = (Member.id, Member.member_number, Member.user_id, Member.first_name, Member.last_name, Member.email,
            Member.employer, Member.paid_through, Member.joined_on, Member.grace_ends_on, Member.continuous_since,
            MembershipType.name.label("type_name"))


def roster_rows_statement(chapter: Chapter, query: RosterQuery, day: date) -> sa.Select:
    """The roster's SELECT (search, filters, sort) of the columns the page shows."""
    return (sa.select(*_COLUMNS).select_from(Member)
            .outerjoin(MembershipType, Member.current_type_id == MembershipType.id)
            .where(*roster_conditions(chapter, query, day)).order_by(*roster_order(query)))


def roster_rows_page(chapter: Chapter, query: RosterQuery, per_page: int, day: date | None = None,
                     counts: dict[MembershipStatus, int] | None = None) -> Page[RosterRow]:
    """One page of the roster as rows, paged in SQL.

    `counts`: the chapter's `roster_counts` for the day, when the page shows them anyway: the whole roster's
    total, or one status's, is then read from them instead of counted again.
    """
    day = day or today()
    total = None
    if counts is not None and not query.is_filtered_beyond_status:
        total = counts[query.status] if query.status is not None else sum(counts.values())
    statement = roster_rows_statement(chapter, query, day)
    if total is None:  # a search or filter: the rows are read whole to be sorted, so they are counted on the way
        page = paginate_rows_counted_along(statement, query.page, per_page)
    else:
        page = paginate(statement, query.page, per_page, scalars=False, total=total)
    page.items = [RosterRow(id=row.id, member_number=row.member_number, user_id=row.user_id, first_name=row.first_name,
                            last_name=row.last_name, email=row.email, employer=row.employer, type_name=row.type_name,
                            paid_through=row.paid_through, joined_on=row.joined_on, status=listed_status(day, row))
                  for row in page.items]
    return page
