"""Member search, one way for every page (staff members, rosters, payments, results, the API).

Each member row keeps `search_text`, written with the row (a column default on insert, a mapper
event on update): the folded (`chapter.core.text.fold`: case, accents, spacing ignored) last-first
name, first-last name, e-mail, member number and employer, e.g.
``okafor dana | dana okafor | dana.okafor@example.org | 1000123 | acme``. A search is folded the same
way and found anywhere in it, so first names, full names in either order, e-mails and member numbers
all match; `%` and `_` are taken literally.

The contains-search is indexed: on PostgreSQL a pg_trgm GIN index on `search_text` (with the home chapter); on SQLite an FTS5
table with the trigram tokenizer (`members_fts`, external content kept in sync by triggers), queried
with a quoted phrase, which trigram tables answer as a substring match. A search of one or two
characters has no trigram to look up: it finds last names starting with it (the text starts with the
last name), through a B-tree index on the column, and the member number itself; within one chapter's
roster (a few thousand rows at most, `bounded`) it is found anywhere, as longer searches are. The indexes are
created by the migration and, for the tests' `create_all`, by the DDL attached to the table (models.py).

Results are ranked: an exact member number or e-mail first, then last names starting with the
search, then the rest (by name).
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from chapter.core.pagination import Page
from chapter.core.text import LIKE_ESCAPE, contains_pattern, fold, like_escape
from chapter.extensions import db
from chapter.members.search_counts import matches_counted

if TYPE_CHECKING:
    from chapter.members.models import MembershipStatus

SEPARATOR = " | "
# Counting stops here: a page says "more than 10,000" instead of counting 50,000 rows.
COUNT_LIMIT = 10_000
FTS_TABLE = "members_fts"
TRIGRAM = 3  # the shortest search an index can answer
_NOT_SEARCH = re.compile(r"[,|]+")
_ASCII_SPACES = re.compile(r"\s+")  # chapter.core.text.fold's spacing rule

# The SQLite side: an external-content FTS5 trigram table over members.search_text and the triggers
# that keep it in step with every INSERT, UPDATE and DELETE, whoever writes (ORM, bulk, raw SQL).
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    f"search_text, content='members', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS members_fts_insert AFTER INSERT ON members BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS members_fts_delete AFTER DELETE ON members BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS members_fts_update AFTER UPDATE OF search_text ON members BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE INDEX IF NOT EXISTS ix_members_search_text_prefix ON members (search_text)",
)
SQLITE_DROP = (
    "DROP INDEX IF EXISTS ix_members_search_text_prefix", "DROP TRIGGER IF EXISTS members_fts_update", "DROP TRIGGER IF EXISTS members_fts_delete",
    "DROP TRIGGER IF EXISTS members_fts_insert", f"DROP TABLE IF EXISTS {FTS_TABLE}",
)
# The PostgreSQL side: trigram GIN indexes for contains-searches (members, organizations), and the B-tree of
# prefixes (last names starting with the search), carrying the id so that rank is read from the index alone, in
# the index's own order (an index-only scan: a page of it, not every matching row). Its name columns served the
# earlier name-order sort; kept, since rebuilding the index would buy nothing.
POSTGRESQL_PREFIX_INDEX = ("CREATE INDEX IF NOT EXISTS ix_members_search_text_prefix ON members "
                           "(search_text text_pattern_ops) INCLUDE (last_name, first_name, id)")
# The members' trigram index carries the home chapter as a key of its own (btree_gin), so that a roster search
# finds the chapter's matches inside the index: with the chapter in a separate B-tree, PostgreSQL intersected
# every match in the association (9,898 for "smith" at 500,000) with every member of the chapter (24,026), as
# two bitmaps, 7-10 ms. A search without a chapter reads the trigram keys alone, as fast as from a one-column index.
POSTGRESQL_TRIGRAM_INDEX = ("CREATE INDEX IF NOT EXISTS ix_members_chapter_search_trgm ON members "
                            "USING gin (home_chapter_id, search_text gin_trgm_ops)")
POSTGRESQL_DDL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    POSTGRESQL_TRIGRAM_INDEX,
    POSTGRESQL_PREFIX_INDEX,
)
POSTGRESQL_DROP = ("DROP INDEX IF EXISTS ix_members_chapter_search_trgm",
                   "DROP INDEX IF EXISTS ix_members_search_text_prefix")
INDEX_NAMES = ("ix_members_chapter_search_trgm", "ix_members_search_text_trgm", "ix_members_search_text_prefix")

SEARCH_FIELDS = ("first_name", "last_name", "email", "member_number", "employer")


def _fold_unique(text: str | None) -> str:
    """`fold`, with a shortcut for plain ASCII (nearly every e-mail and number): the same result, faster."""
    if text and text.isascii():
        return _ASCII_SPACES.sub(" ", text.lower()).strip()
    return fold(text)


# Names and employers repeat (a few thousand distinct ones for 100,000s of members): fold each once.
_fold_repeated = functools.lru_cache(maxsize=4096)(fold)


def member_search_text(first_name: str | None, last_name: str | None, email: str | None,
                       member_number: str | None, employer: str | None) -> str:
    """What a member is found by, folded: "last first | first last | e-mail | number | employer"."""
    first, last = _fold_repeated(first_name), _fold_repeated(last_name)
    return SEPARATOR.join((f"{last} {first}".strip(), f"{first} {last}".strip(), _fold_unique(email),
                           _fold_unique(member_number), _fold_repeated(employer)))


def search_text_default(context) -> str:
    """Column default: the search text of the row being inserted (ORM or bulk, one row at a time)."""
    values = context.get_current_parameters()
    return member_search_text(*(values.get(name) for name in SEARCH_FIELDS))


def normalise_search(text: str | None) -> str:
    """A search as typed, folded like the stored text ("Okafor, Dana" looks for "okafor dana")."""
    return fold(_NOT_SEARCH.sub(" ", text or ""))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _fts_phrase(folded: str) -> str:
    """An FTS5 string: a quoted phrase (its own quotes doubled), matched as a substring by trigrams."""
    return '"' + folded.replace('"', '""') + '"'


def member_search_condition(search: str | None, member_id=None, bounded: bool = False) -> sa.ColumnElement[bool] | None:
    """SQL: the member (members.id, or `member_id`, e.g. orders.member_id) matches the search; None for no search.

    `bounded`: the caller's other conditions already narrow the rows to a few thousand (one chapter's
    roster, by its index), so a one- or two-letter search may look anywhere in them, not only at the
    start of last names.
    """
    from chapter.members.models import Member

    folded = normalise_search(search)
    if not folded:
        return None
    dialect = _dialect()
    if dialect == "sqlite" and len(folded) >= TRIGRAM and not bounded:
        fts = sa.table(FTS_TABLE, sa.column("rowid"))
        matching = (sa.select(fts.c.rowid)
                    .where(sa.text(f"{FTS_TABLE} MATCH :member_search").bindparams(member_search=_fts_phrase(folded))))
        return (member_id if member_id is not None else Member.id).in_(matching)
    if len(folded) >= TRIGRAM or bounded:
        condition = Member.search_text.like(contains_pattern(folded), escape=LIKE_ESCAPE)
    else:
        condition = sa.or_(_prefix_condition(folded), Member.member_number == (search or "").strip())
    if member_id is None:
        return condition
    return member_id.in_(sa.select(Member.id).where(condition))


def member_search_rank(search: str | None) -> sa.ColumnElement[int]:
    """SQL sort key: 0 exact member number or e-mail, 1 last name starts with the search, 2 the rest."""
    from chapter.members.models import Member

    raw, folded = (search or "").strip(), normalise_search(search)
    return sa.case(
        (sa.or_(Member.member_number == raw, Member.email == raw.lower()), 0),
        (Member.search_text.like(like_escape(folded) + "%", escape=LIKE_ESCAPE), 1),
        else_=2,
    )


def refresh_search_text(member_ids: list[int]) -> None:
    """Rewrite the search text of these members (after a bulk UPDATE that bypassed the ORM)."""
    from chapter.members.models import Member

    for start in range(0, len(member_ids), 1000):
        rows = db.session.execute(
            sa.select(Member.id, *(getattr(Member, name) for name in SEARCH_FIELDS))
            .where(Member.id.in_(member_ids[start:start + 1000]))
        ).all()
        if rows:
            db.session.execute(sa.update(Member), [
                {"id": row[0], "search_text": member_search_text(*row[1:])} for row in rows
            ])


def include_in_autogenerate(object_, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the search index objects made by DDL (FTS5 table and its shadow tables, the
    trigram index) are not in the models' metadata, so comparing schemas leaves them out."""
    if reflected and compare_to is None and name:
        return not (name.startswith(FTS_TABLE) or name in INDEX_NAMES)
    return True


# The staff list's order without a search (ix_members_name_order reads it in order).
def _name_order():
    from chapter.members.models import Member

    return (Member.last_name, Member.first_name, Member.id)


def _folded_order(search_text: sa.ColumnElement[str], member_id: sa.ColumnElement[int]) -> tuple:
    """ORDER BY within a rank of results: the folded text, which starts "last first" (names by their letters,
    accents and case aside), then the member. On PostgreSQL in the prefix index's own order (`USING ~<~`,
    text_pattern_ops), so a page of a common last name is read from that index in order, 51 entries and not
    every Smith of the association; the same order in the other rank, whatever the database's collation."""
    if _dialect() == "postgresql":
        return (_PatternOrder(search_text), member_id)
    return (search_text, member_id)


class _PatternOrder(sa.sql.expression.ColumnElement):
    """ORDER BY a text column in text_pattern_ops' order: `<column> USING ~<~` (PostgreSQL only)."""

    inherit_cache = True
    _traverse_internals = [("column", sa.sql.visitors.InternalTraversal.dp_clauseelement)]

    def __init__(self, column: sa.ColumnElement[str]):
        self.column = column


@compiles(_PatternOrder)
def _compile_pattern_order(element: _PatternOrder, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} USING ~<~"


def _prefix_condition(folded: str) -> sa.ColumnElement[bool]:
    """SQL: the search text starts with `folded` (the last name does), read as a range of its B-tree index."""
    from chapter.members.models import Member

    condition = Member.search_text.like(like_escape(folded) + "%", escape=LIKE_ESCAPE)
    if _dialect() == "sqlite":  # a range SQLite's planner reads from the B-tree index (LIKE alone: a scan)
        condition = sa.and_(condition, Member.search_text >= folded, Member.search_text < folded + "\U0010ffff")
    return condition


def _ranked_ids(search: str, condition: sa.ColumnElement[bool], offset: int, limit: int) -> list[int]:
    """The ids of the ranked results [offset, offset + limit), reading each rank only as far as the page.

    The ranks are queried one after the other: an exact member number or e-mail (by name), then last names
    starting with the search (read in order from its B-tree range: never the other matches), then the rest,
    queried only when the page reaches past the first two; the last two by their folded text.
    """
    from chapter.members.models import Member

    raw, folded = (search or "").strip(), normalise_search(search)
    exact = sa.select(Member.id).where(condition, sa.or_(Member.member_number == raw, Member.email == raw.lower()))
    exact_ids = list(db.session.scalars(exact.order_by(*_name_order())))
    taken = exact_ids[offset:offset + limit]
    skip = max(0, offset - len(exact_ids))  # rows of the next rank that lie before the page
    prefix = _prefix_condition(folded)
    # A prefix of the text is contained in it: the last-name rank needs no other condition.
    for rank in (prefix, sa.and_(condition, sa.not_(prefix))):
        if len(taken) >= limit:
            break
        statement = sa.select(Member.id).where(rank)
        if exact_ids:
            statement = statement.where(Member.id.not_in(exact_ids))
        if rank is prefix:  # in the prefix index's order: the page's rows, not the rank's
            ordered = statement.order_by(*_folded_order(Member.search_text, Member.id))
        else:
            # Read the rank's rows and sort them: left to itself, PostgreSQL's planner walks an index in order
            # instead, guessing the matches are spread evenly through it, and reads far more rows.
            rows = statement.add_columns(Member.search_text).cte("ranked").prefix_with("MATERIALIZED",
                                                                                    dialect="postgresql")
            ordered = sa.select(rows.c.id).order_by(*_folded_order(rows.c.search_text, rows.c.id))
        found = list(db.session.scalars(ordered.offset(skip).limit(limit - len(taken))))
        taken += found
        if found:
            skip = 0
        elif skip:  # the page starts after this rank: skip the rest of the way in the next one
            skip -= db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0
    return taken


@dataclass(frozen=True, slots=True)
class MemberListing:
    """A member as the staff list shows them, read as a row: a list of 50 ORM members, each with its deferred
    columns and its chapter, cost more than the rest of the page's queries together."""

    id: int
    member_number: str
    first_name: str
    last_name: str
    email: str | None
    paid_through: date | None
    chapter_label: str | None  # "Schuylkill Valley #40"; None without a home chapter
    status: MembershipStatus


def _members_in_order(ids: list[int], day: date) -> list[MemberListing]:
    """The members with these ids, in that order, with what the staff list shows (one query; their terms are
    read only for a member whose status on `day` the dates alone cannot tell)."""
    from chapter.chapters.models import Chapter
    from chapter.core.formatting import format_chapter
    from chapter.members.models import Member, listed_status

    if not ids:
        return []
    rows = db.session.execute(
        sa.select(Member.id, Member.member_number, Member.first_name, Member.last_name, Member.email,
                  Member.joined_on, Member.continuous_since, Member.paid_through, Member.grace_ends_on,
                  Chapter.name, Chapter.number)
        .outerjoin(Chapter, Member.home_chapter_id == Chapter.id).where(Member.id.in_(ids))
    ).all()
    by_id = {}
    for row in rows:
        status = listed_status(day, row)
        by_id[row.id] = MemberListing(
            id=row.id, member_number=row.member_number, first_name=row.first_name, last_name=row.last_name,
            email=row.email, paid_through=row.paid_through, status=status,
            chapter_label=format_chapter(name=row.name, number=row.number) if row.name is not None else None)
    return [by_id[member_id] for member_id in ids if member_id in by_id]


def find_members(search: str, page: int, per_page: int, day: date | None = None) -> Page[MemberListing]:
    """Staff search over every member, ranked (exact number or e-mail, last-name prefix, the rest), paged;
    the count stops at COUNT_LIMIT and is kept until members change (`search_counts`), and a page reads only as
    many matches as it shows. Statuses are `day`'s
    (today by default)."""
    from chapter.core.models import today
    from chapter.members.models import Member

    page = max(1, page)
    condition = member_search_condition(search)
    matching = sa.select(Member.id)
    if condition is not None:
        matching = matching.where(condition)
    limit = COUNT_LIMIT
    folded = normalise_search(search)
    # What the condition depends on: the folded search, and the raw one for a short search (a member number).
    key = ("staff", limit, folded, (search or "").strip() if len(folded) < TRIGRAM else "")
    total = matches_counted(key, lambda: db.session.scalar(
        sa.select(sa.func.count()).select_from(matching.limit(limit + 1).subquery())) or 0)
    more = total > limit
    if not more:
        page = min(page, max(1, math.ceil(total / per_page)))
    offset, wanted = (page - 1) * per_page, per_page + 1 if more else per_page
    if not total:
        ids = []
    elif condition is None:
        ids = list(db.session.scalars(sa.select(Member.id).order_by(*_name_order()).offset(offset).limit(wanted)))
    else:
        ids = _ranked_ids(search, condition, offset, wanted)
    items = _members_in_order(ids[:per_page], day or today())
    if more:
        return Page(items=items, total=limit, page=page, per_page=per_page, more_than=limit,
                    next_exists=len(ids) > per_page)
    return Page(items=items, total=total, page=page, per_page=per_page)
