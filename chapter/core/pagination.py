"""Pagination done in SQL: a count and one LIMIT/OFFSET query, whatever the page size."""
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

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show around the current one; None stands for a gap."""
        shown: list[int | None] = []
        for number in range(1, self.pages + 1):
            if number in (1, self.pages) or abs(number - self.page) <= size:
                shown.append(number)
            elif shown and shown[-1] is not None:
                shown.append(None)
        return shown


def paginate(statement: sa.Select[Any], page: int, per_page: int, scalars: bool = True) -> Page:
    """Run `statement` for one page, plus a COUNT over the same filters."""
    page = max(1, page)
    count_statement = sa.select(sa.func.count()).select_from(
        statement.order_by(None).subquery()
    )
    total = db.session.scalar(count_statement) or 0
    last_page = max(1, math.ceil(total / per_page))
    page = min(page, last_page)
    paged = statement.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(paged)
    items = result.scalars().all() if scalars else result.all()
    return Page(items=items, total=total, page=page, per_page=per_page)


def requested_page(args, name: str = "page") -> int:
    """The page number a query string asks for; anything that is not a positive number means 1."""
    try:
        return min(max(1, int(args.get(name, 1))), 10**9)  # an OFFSET past 10^9 pages is no page
    except (TypeError, ValueError):
        return 1
