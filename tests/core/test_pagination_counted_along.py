"""paginate_rows_counted_along: one query gives the page and the total, the same as paginate's two."""
import pytest
import sqlalchemy as sa

from chapter.core.pagination import paginate, paginate_rows_counted_along
from chapter.extensions import db
from chapter.members.models import Member
from tests import factories


@pytest.fixture
def seven(app):
    home = factories.chapter(40)
    for n, last in enumerate(["Allen", "Babbage", "Church", "Dijkstra", "Euler", "Frege", "Gauss"]):
        factories.member(home=home, first_name=f"F{n}", last_name=last)
    db.session.commit()
    return sa.select(Member.id, Member.last_name).order_by(Member.last_name)


@pytest.mark.parametrize("page", [1, 2, 3])
def test_each_page_and_its_total_are_paginate_s(seven, page):
    ours, theirs = paginate_rows_counted_along(seven, page, 3), paginate(seven, page, 3, scalars=False)
    assert [r.last_name for r in ours.items] == [r.last_name for r in theirs.items]
    assert (ours.total, ours.page, ours.pages, ours.has_next) == (theirs.total, theirs.page, theirs.pages, theirs.has_next) \
        == (7, page, 3, page < 3)


def test_a_page_past_the_end_is_the_last_page_and_nothing_found_is_an_empty_first_page(seven):
    past = paginate_rows_counted_along(seven, 9, 3)
    assert (past.page, past.total, [r.last_name for r in past.items]) == (3, 7, ["Gauss"])
    none = paginate_rows_counted_along(seven.where(Member.last_name == "Nobody"), 1, 3)
    assert (none.page, none.total, list(none.items)) == (1, 0, [])
    assert paginate_rows_counted_along(seven.where(Member.last_name == "Nobody"), 4, 3).total == 0
