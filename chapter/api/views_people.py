"""Rosters, members and the token owner's own record."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from chapter.api import access, bp
from chapter.api.cursor import keyset_page
from chapter.api.schemas import MemberSchema, MeSchema, RosterArgs, RosterPageSchema
from chapter.api.views import needs_token
from chapter.chapters.services import RosterQuery, RosterView, roster_conditions
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus

# Keyset order of the API's roster: by name, as the page's default sort, with the id to break ties.
ROSTER_KEY = (Member.last_name, Member.first_name, Member.id)


def roster_query(args: dict) -> RosterQuery:
    """The roster page's query object from the API's arguments (the same filters, one meaning)."""
    return RosterQuery(
        search=args["q"], status=MembershipStatus(args["status"]) if args.get("status") else None,
        membership_type=args.get("type") or None, joined_from=args.get("joined_from"),
        joined_to=args.get("joined_to"), ends_from=args.get("ends_from"), ends_to=args.get("ends_to"),
        view=RosterView(args["view"]) if args.get("view") else None, certification=args.get("certification") or None,
    )


@bp.get("/chapters/<int:number>/roster")
@bp.arguments(RosterArgs, location="query")
@bp.response(200, RosterPageSchema)
@needs_token(403, 404, 422)
def roster(args, number: int):
    """A chapter's roster with the roster page's filters, by name, in pages of `limit` (scope roster:read)."""
    chapter = access.chapter_for(number, "roster:read")
    statement = (sa.select(Member).options(joinedload(Member.current_type))
                 .where(*roster_conditions(chapter, roster_query(args), today())))
    items, next_cursor = keyset_page(statement, ROSTER_KEY, args.get("cursor"), (str, str, int), args["limit"],
                                     key_of=lambda m: (m.last_name, m.first_name, m.id))
    return {"items": items, "next_cursor": next_cursor}


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
