"""Rosters, members and the token owner's own record."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app
from sqlalchemy.orm import joinedload

from chapter.api import access, bp
from chapter.api.cursor import sorted_keyset_page
from chapter.api.schemas import MemberSchema, MeSchema, RosterArgs, RosterPageSchema, roster_line
from chapter.api.views import needs_token
from chapter.chapters.services import RosterQuery, RosterSort, RosterView, roster_sort_key, roster_statement
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus



def roster_query(args: dict) -> RosterQuery:
    """The roster page's query object from the API's arguments (the same filters and sorts, one meaning)."""
    view = RosterView(args["view"]) if args.get("view") else None
    return RosterQuery(
        search=args["q"], status=MembershipStatus(args["status"]) if args.get("status") else None,
        membership_type=args.get("type") or None, joined_from=args.get("joined_from"),
        joined_to=args.get("joined_to"), ends_from=args.get("ends_from"), ends_to=args.get("ends_to"),
        view=view, certification=args.get("certification") or None,
        sort=RosterSort(args["sort"]) if args.get("sort") else (view.default_sort if view else RosterSort.NAME),
        descending=args["dir"] == "desc",
    )


def _may_be_null(column) -> bool:
    """Whether a sort column can hold NULL: a nullable member column, or one of the outer-joined type."""
    found = getattr(column, "expression", None)
    if not isinstance(found, sa.Column):
        return False  # the search rank: a CASE with an ELSE
    return found.nullable or found.table is not Member.__table__


@bp.get("/chapters/<int:number>/roster")
@bp.arguments(RosterArgs, location="query")
@bp.response(200, RosterPageSchema)
@needs_token(403, 404, 422)
def roster(args, number: int):
    """A chapter's roster with the roster page's filters and sorts (search matches first when sorted by name),
    in keyset pages of `limit` (scope roster:read)."""
    chapter = access.chapter_for(number, "roster:read")
    query, day = roster_query(args), today()
    columns = roster_sort_key(query)
    items, next_cursor = sorted_keyset_page(
        roster_statement(chapter, query, day), columns, [_may_be_null(c) for c in columns],
        f"{query.sort.value},{'desc' if query.descending else 'asc'}", args.get("cursor"), args["limit"],
        descending=query.descending)
    return current_app.json.response({"items": [roster_line(member, day) for member in items],
                                      "next_cursor": next_cursor})


@bp.get("/chapters/<int:number>/members/<string(maxlength=20):member_number>")
@bp.response(200, MemberSchema)
@needs_token(403, 404)
def member(number: int, member_number: str):
    """One member of the chapter, as its officers see them (scope members:read)."""
    chapter = access.chapter_for(number, "members:read")
    found = db.session.scalar(sa.select(Member).options(joinedload(Member.current_type), joinedload(Member.home_chapter))
                              .where(Member.member_number == member_number, Member.home_chapter_id == chapter.id))
    if found is None:
        abort(404, f"Chapter {number} has no member {member_number}.")
    return found


@bp.get("/me")
@bp.response(200, MeSchema)
@needs_token(403)
def me():
    """The token owner's account and member record (scope me:read)."""
    user = access.require_scope("me:read").token.user
    found = db.session.scalar(sa.select(Member).options(joinedload(Member.current_type), joinedload(Member.home_chapter))
                              .where(Member.user_id == user.id))
    return {"name": user.name, "email": user.email, "member": found}
