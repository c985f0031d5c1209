"""The staff search's count is kept until members change, whoever changes them, and is never stale.

The count is kept per process under the generation of the members' search texts, which database triggers
raise on every insert, delete and change of a search text (chapter.members.search_counts). These tests change
members the ways the application and its operators do (the ORM, raw SQL on a connection of its own, as another
worker or an import would, a delete) and read what the staff list says, on SQLite and PostgreSQL.
"""
import re

import pytest
import sqlalchemy as sa

from chapter.core import generations
from chapter.extensions import db
from chapter.members import search_counts
from chapter.members.models import Member
from chapter.members.search import find_members
from tests import factories
from tests.querycount import committed_elsewhere, statements


@pytest.fixture
def smiths(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    made = [factories.member(home=home, first_name=name, last_name="Smith", email=f"{name.lower()}@example.org")
            for name in ("Ann", "Bo", "Cy")]
    factories.member(home=home, first_name="Dana", last_name="Okafor", email="dana@example.org")
    db.session.commit()
    return made


def shown_count(client, query: str) -> str:
    """The count line of the staff member list, e.g. "3 members"."""
    response = client.get("/admin/members", query_string={"q": query})
    assert response.status_code == 200
    return re.search(r'role="status">([^<]+)</p>', response.get_data(as_text=True)).group(1).strip()


def count_statements(run) -> int:
    """How many COUNT statements `run()` sends to the database."""
    with statements() as sent:
        run()
    return sum("count(" in statement.lower() for statement in sent)


def test_paging_through_a_search_counts_it_once(smiths, staff_client):
    assert count_statements(lambda: shown_count(staff_client, "smith")) == 1
    assert count_statements(lambda: shown_count(staff_client, "smith")) == 0
    assert shown_count(staff_client, "smith") == "3 members"
    # Another search is counted for itself.
    assert count_statements(lambda: shown_count(staff_client, "okafor")) == 1


def insert_smith(home_id: int) -> None:
    """A member written by raw SQL on another connection (no ORM event runs: only the trigger sees it)."""
    committed_elsewhere(
        "INSERT INTO members (member_number, first_name, last_name, email, country, home_chapter_id, auto_renew, "
        "created_at, updated_at, search_text) VALUES ('9000001', 'Di', 'Smith', 'di@example.org', 'US', :home, "
        ":no, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'smith di | di smith | di@example.org | 9000001 | ')",
        home=home_id, no=False)


def test_a_member_added_by_another_process_is_counted_at_once(smiths, staff_client):
    assert shown_count(staff_client, "smith") == "3 members"
    insert_smith(smiths[0].home_chapter_id)
    assert shown_count(staff_client, "smith") == "4 members"


def test_a_rename_and_a_delete_change_the_count(smiths, staff_client):
    assert shown_count(staff_client, "smith") == "3 members"
    smiths[0].last_name = "Jones"  # through the ORM: the search text is rewritten with it
    db.session.commit()
    assert shown_count(staff_client, "smith") == "2 members"
    assert shown_count(staff_client, "jones") == "1 member"
    insert_smith(smiths[0].home_chapter_id)
    assert shown_count(staff_client, "smith") == "3 members"
    committed_elsewhere("DELETE FROM members WHERE member_number = '9000001'")
    assert shown_count(staff_client, "smith") == "2 members"


def test_a_change_to_other_columns_keeps_the_count(smiths, staff_client):
    shown_count(staff_client, "smith")
    committed_elsewhere("UPDATE members SET paid_through = NULL, phone = '555' WHERE id = :id", id=smiths[0].id)
    assert count_statements(lambda: shown_count(staff_client, "smith")) == 0


def test_a_transaction_that_wrote_neither_reads_nor_keeps_counts(smiths, app):
    assert find_members("smith", 1, 50).total == 3
    factories.member(home=None, first_name="Eve", last_name="Smith", email="eve@example.org")
    db.session.flush()  # written, not committed: this transaction sees four
    assert find_members("smith", 1, 50).total == 4
    db.session.rollback()
    assert find_members("smith", 1, 50).total == 3  # the uncommitted four was not kept
    assert count_statements(lambda: find_members("smith", 1, 50)) == 0


def test_the_generation_only_grows_even_when_its_row_is_deleted(smiths, app):
    def generation() -> int:
        return db.session.scalar(sa.text("SELECT next_value FROM counters WHERE name = :name"),
                                 {"name": search_counts.GENERATION})

    before = generation()
    committed_elsewhere("DELETE FROM counters WHERE name = :name", name=search_counts.GENERATION)
    assert find_members("smith", 1, 50).total == 3  # no generation: counted, not kept
    assert count_statements(lambda: find_members("smith", 1, 50)) == 1
    factories.member(home=None, first_name="Flo", last_name="Smith", email="flo@example.org")
    db.session.commit()
    assert generation() > before
    assert find_members("smith", 1, 50).total == 4


def test_a_kept_count_expires(smiths, app, monkeypatch):
    find_members("smith", 1, 50)
    monkeypatch.setattr(search_counts.counts, "seconds", -1.0)
    assert count_statements(lambda: find_members("smith", 1, 50)) == 1


def test_a_bulk_update_of_search_texts_changes_the_count(smiths, app):
    assert find_members("smith", 1, 50).total == 3
    db.session.execute(sa.update(Member).where(Member.id == smiths[2].id).values(search_text="zed cy | cy zed"))
    db.session.commit()
    assert find_members("smith", 1, 50).total == 2


def test_no_generation_is_read_inside_a_transaction_that_wrote(smiths, app):
    assert generations.read(search_counts.GENERATION) is not None
    smiths[0].first_name = "Anne"
    db.session.flush()
    assert generations.read(search_counts.GENERATION) is None  # its own raise is not committed, and may never be
    db.session.rollback()
    assert generations.read(search_counts.GENERATION) is not None
