"""What each role may do, derived from the permission checks and the officer positions' data.

The table is computed by asking `Roles` (the checks every route makes) about a chapter, once per
position and for the district manager and national staff, so the README's table (printed by
`flask --app wsgi roles --reference --markdown`) cannot drift from the code or the position data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import sqlalchemy as sa

from chapter.chapters.models import OfficerPosition
from chapter.core.permissions import Roles
from chapter.extensions import db


@dataclass(frozen=True)
class _AnyChapter:
    """A stand-in chapter for asking `Roles` what a role may do in a chapter it holds."""

    id: int = -1
    district_id: int = -1


CHAPTER = _AnyChapter()

# (heading, question asked of Roles): one column each, in the order shown.
RIGHTS: list[tuple[str, Callable[[Roles, _AnyChapter], bool]]] = [
    ("roster, member records, notes", lambda roles, chapter: roles.can_view_roster(chapter)),
    ("write notes", lambda roles, chapter: roles.can_write_notes(chapter)),
    ("export CSV", lambda roles, chapter: roles.can_export_roster(chapter)),
    ("import CSV, request transfers", lambda roles, chapter: roles.can_manage_members(chapter)),
    ("appoint officers", lambda roles, chapter: roles.can_manage_officers(chapter)),
    ("audit log", lambda roles, chapter: roles.can_read_audit_log(chapter)),
    ("treasury page, refunds", lambda roles, chapter: roles.can_view_finances(chapter)),
    ("events", lambda roles, chapter: roles.can_manage_events(chapter)),
]


@dataclass(frozen=True)
class RoleRow:
    """One role and, for each right in RIGHTS, whether it has it in the chapter it holds."""

    role: str
    rights: tuple[bool, ...]


def role_rows(positions: Iterable[OfficerPosition]) -> list[RoleRow]:
    """Each position in the order given, then the district manager and national staff."""
    roles = [(f"{position.title} (officer)", Roles(user_id=-1, positions_by_chapter={CHAPTER.id: (position,)}))
             for position in positions]
    roles.append(("District manager (every chapter of the district)",
                  Roles(user_id=-1, managed_district_ids=frozenset({CHAPTER.district_id}))))
    roles.append(("National staff (every chapter)", Roles(user_id=-1, is_staff=True)))
    return [RoleRow(name, tuple(bool(check(held, CHAPTER)) for _heading, check in RIGHTS)) for name, held in roles]


def database_positions() -> list[OfficerPosition]:
    """The officer positions as staff have them now, in their display order."""
    return list(db.session.scalars(sa.select(OfficerPosition).order_by(OfficerPosition.sort_order, OfficerPosition.id)))


def markdown_table(rows: list[RoleRow]) -> str:
    """The table as Markdown, the way README.md shows it."""
    headings = ["role"] + [heading for heading, _check in RIGHTS]
    lines = ["| " + " | ".join(headings) + " |", "| " + " | ".join("---" for _ in headings) + " |"]
    for row in rows:
        lines.append("| " + " | ".join([row.role] + ["yes" if has else "—" for has in row.rights]) + " |")
    return "\n".join(lines) + "\n"


def text_table(rows: list[RoleRow]) -> str:
    """The table as plain columns for a terminal."""
    headings = [heading for heading, _check in RIGHTS]
    width = max(len(row.role) for row in rows)
    lines = [" " * width + "  " + "  ".join(f"[{index + 1}]" for index in range(len(headings)))]
    for row in rows:
        lines.append(row.role.ljust(width) + "  " + "  ".join(("yes" if has else " - ").center(3) for has in row.rights))
    lines.append("")
    lines += [f"[{index + 1}] {heading}" for index, heading in enumerate(headings)]
    return "\n".join(lines) + "\n"
