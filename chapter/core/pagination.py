"""Pagination done in SQL: a count and one LIMIT/OFFSET query, whatever the page size.

A search over tens of thousands of rows need not wait for an exact count: with `count_limit`, the
count stops at that many rows and the page says "more than 10,000" (`Page.more_than`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, Sequence, TypeVar

import sqlalchemy as sa

from chapter.extensions import db

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of results with what a pager needs."""

    items: Sequence[T]
    total: int
    page: int
    per_page: int
    # Set when counting stopped at `count_limit`: the real total is larger than `total`, and
    # whether a next page exists was found by reading one row more than the page holds.
    more_than: int | None = None
    next_exists: bool = False

    @property
    def pages(self) -> int:
        if self.more_than is not None:
            return max(math.ceil(self.more_than / self.per_page), self.page + (1 if self.next_exists else 0))
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.more_than is not None:
            return self.next_exists
        return self.page < self.pages

    @property
    def count_label(self) -> str:
        """The count as shown: exact ("1,234"), or "more than 10,000" when counting stopped."""
        if self.more_than is not None:
            return f"more than {self.more_than:,}"
        return f"{self.total:,}"

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        if self.more_than is not None:
            return (self.page - 1) * self.per_page + len(self.items)
        return min(self.total, self.page * self.per_page)

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show around the current one; None stands for a gap.

        When the count stopped short (`more_than`), the last page is unknown: the window ends with a
        gap after the pages around the current one instead of a last page number.
        """
        shown: list[int | None] = []
        last = self.pages
        for number in range(1, last + 1):
            is_end = number == last and self.more_than is None
            if number == 1 or is_end or abs(number - self.page) <= size:
                shown.append(number)
            elif shown and shown[-1] is not None:
                shown.append(None)
        if self.more_than is not None and self.next_exists and shown and shown[-1] is not None:
            shown.append(None)
        return shown


def paginate(statement: sa.Select[Any], page: int, per_page: int, scalars: bool = True,
             count_limit: int | None = None, total: int | None = None) -> Page:
    """Run `statement` for one page, plus a COUNT over the same filters (stopping at `count_limit` rows).

    `total`: the number of rows the statement finds, when the caller already knows it (no COUNT is run).
    """
    page = max(1, page)
    if total is None:
        counted = statement.order_by(None)
        if count_limit is not None:
            counted = counted.limit(count_limit + 1)
        total = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    if count_limit is not None and total > count_limit:
        # Past the counted rows the last page is unknown: read one row more to know if a next page exists.
        rows = db.session.execute(statement.limit(per_page + 1).offset((page - 1) * per_page))
        items = rows.scalars().all() if scalars else rows.all()
        return Page(items=items[:per_page], total=count_limit, page=page, per_page=per_page,
                    more_than=count_limit, next_exists=len(items) > per_page)
    last_page = max(1, math.ceil(total / per_page))
    page = min(page, last_page)
    paged = statement.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(paged)
    items = result.scalars().all() if scalars else result.all()
    return Page(items=items, total=total, page=page, per_page=per_page)


def paginate_rows_counted_along(statement: sa.Select[Any], page: int, per_page: int) -> Page:
    """One page of rows and their total in one query: `count(*) OVER ()` is taken while the matching rows are
    found, where `paginate` runs a COUNT that finds them a second time. Meant for lists that are read whole to be
    sorted anyway (a chapter's roster filtered or searched), not for counts that need a cap. A page past the end
    falls back to `paginate` (a count, then the last page)."""
    page = max(1, page)
    counted = statement.add_columns(sa.func.count().over().label("total_rows_found"))
    rows = db.session.execute(counted.limit(per_page).offset((page - 1) * per_page)).all()
    if rows:
        return Page(items=rows, total=rows[0].total_rows_found, page=page, per_page=per_page)
    if page == 1:
        return Page(items=[], total=0, page=1, per_page=per_page)
    return paginate(statement, page, per_page, scalars=False)


def requested_page(args, name: str = "page") -> int:
    """The page number a query string asks for; anything that is not a positive number means 1."""
    try:
        return min(max(1, int(args.get(name, 1))), 10**9)  # an OFFSET past 10^9 pages is no page
    except (TypeError, ValueError):
        return 1
