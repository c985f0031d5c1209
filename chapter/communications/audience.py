"""Who a message goes to: a roster list (the roster's own `RosterQuery`, so the same filters find the same
members), or an audience another feature registered in `chapter.core.audiences` (an event's registrants)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from chapter.chapters.models import Chapter
from chapter.chapters.services import RosterQuery, RosterView, roster_conditions, roster_count
from chapter.core import audiences
from chapter.core.errors import DomainError
from chapter.core.formatting import format_date
from chapter.core.params import db_int
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus

ROSTER = "roster"
# What a roster list keeps of its query string: the filters, not how the page was sorted or paged.
_NOT_AUDIENCE = {"sort", "dir", "page"}


class UnknownAudience(DomainError):
    """An audience kind nobody registered, or one without what it needs (an event number)."""


@dataclass(frozen=True)
class Candidate:
    """One person of an audience as the message will address them."""

    email: str | None
    first_name: str
    member_id: int | None = None
    paid_through: date | None = None


def roster_params(args) -> dict[str, str]:
    """The filters of a roster list (a query string), normalised through RosterQuery: what the audience keeps."""
    return {key: value for key, value in RosterQuery.from_args(args).as_args().items() if key not in _NOT_AUDIENCE}


def view_params(view: RosterView) -> dict[str, str]:
    return roster_params({"view": view.value})


def _roster_query(params: dict) -> RosterQuery:
    return RosterQuery.from_args(params)


def describe(kind: str, params: dict) -> str:
    """The audience in words, as the sent log shows it ("Roster: Expiring in 30 days, status Active")."""
    if kind == ROSTER:
        query = _roster_query(params)
        if not query.is_filtered:
            return "Everyone on the roster"
        parts = []
        if query.view:
            parts.append(query.view.label)
        if query.status:
            parts.append(f"status {query.status.label}")
        if query.membership_type:
            parts.append(f"type {query.membership_type}")
        if query.search:
            parts.append(f"search “{query.search}”")
        for label, value in (("joined from", query.joined_from), ("joined to", query.joined_to),
                             ("ends from", query.ends_from), ("ends to", query.ends_to)):
            if value:
                parts.append(f"{label} {format_date(value)}")
        if query.certification:
            parts.append(f"certification {query.certification}")
        return ("Roster: " + ", ".join(parts))[:300]
    registered = audiences.get(kind)
    if registered is None:
        raise UnknownAudience("That audience is not available.")
    return registered.describe(params)[:300]


def check(chapter: Chapter, kind: str, params: dict) -> None:
    """Refuse an audience that cannot be resolved (an unknown kind, an event without a number)."""
    if kind == ROSTER:
        return
    if audiences.get(kind) is None:
        raise UnknownAudience("That audience is not available.")
    if kind == "event_registrants" and db_int(str(params.get("event_id", ""))) is None:
        raise UnknownAudience("Give the number of the event whose registrants you write to.")


def count(chapter: Chapter, kind: str, params: dict, day: date) -> int:
    """How many people the audience holds today (the roster's own COUNT for a roster list)."""
    if kind == ROSTER:
        return roster_count(chapter, _roster_query(params), day)
    return len(resolve(chapter, kind, params, day))


def resolve(chapter: Chapter, kind: str, params: dict, day: date, *, limit: int | None = None) -> list[Candidate]:
    """Everyone in the audience today, in a stable order (one query for a roster list)."""
    if kind == ROSTER:
        statement = (sa.select(Member.id, Member.email, Member.first_name, Member.paid_through)
                     .where(*roster_conditions(chapter, _roster_query(params), day)).order_by(Member.id))
        if limit:
            statement = statement.limit(limit)
        return [Candidate(row.email, row.first_name, row.id, row.paid_through) for row in db.session.execute(statement)]
    registered = audiences.get(kind)
    if registered is None:
        raise UnknownAudience("That audience is not available.")
    people = registered.resolve(chapter.id, params)[:limit] if limit else registered.resolve(chapter.id, params)
    member_ids = [p.member_id for p in people if p.member_id]
    paid = dict(db.session.execute(sa.select(Member.id, Member.paid_through).where(Member.id.in_(member_ids))).all()) \
        if member_ids else {}
    return [Candidate(p.email, (p.name or "").split(" ")[0], p.member_id, paid.get(p.member_id)) for p in people]


def choices(chapter: Chapter) -> list[tuple[str, str]]:
    """The ready-made audiences the compose page offers: the whole roster, current members, each roster view."""
    options = [("all", "Everyone on the roster"), ("current", "Active members")]
    options += [(f"view:{view.value}", view.label) for view in RosterView]
    if audiences.get("event_registrants") is not None:
        options.append(("event", "Registrants of an event"))
    return options


def from_choice(choice: str, *, event_id: int | None = None) -> tuple[str, dict]:
    """The audience (kind, params) of a compose-page choice."""
    if choice == "all":
        return ROSTER, {}
    if choice == "current":
        return ROSTER, roster_params({"status": MembershipStatus.ACTIVE.value})
    if choice.startswith("view:"):
        try:
            return ROSTER, view_params(RosterView(choice[5:]))
        except ValueError:
            raise UnknownAudience("Choose a list to write to.") from None
    if choice == "event":
        return "event_registrants", {"event_id": event_id}
    raise UnknownAudience("Choose a list to write to.")
