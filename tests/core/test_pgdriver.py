"""The app's psycopg cursor describes a result exactly as psycopg does, only later (chapter.core.pgdriver.py)."""
import psycopg
import pytest
import sqlalchemy as sa

from chapter.core.pgdriver import KeepPreparedConnection, LazyDescription, LazyDescriptionCursor
from chapter.extensions import db
from tests import factories


@pytest.fixture
def raw(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg's cursor: PostgreSQL only")
    connection = db.engine.raw_connection()
    yield connection.dbapi_connection
    connection.close()


def test_the_engine_uses_it(raw):
    assert isinstance(raw.cursor(), LazyDescriptionCursor)


def test_its_description_is_psycopg_s_read_after_the_cursor_moved_on(raw):
    query = "SELECT 1 AS one, 'x'::text AS letter, now() AS at, NULL::numeric(10, 2) AS money"
    theirs = psycopg.Cursor(raw)
    theirs.execute(query)
    expected = [(c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale) for c in theirs.description]
    ours = raw.cursor()
    ours.execute(query)
    description = ours.description
    assert isinstance(description, LazyDescription) and len(description) == 4
    ours.execute("SELECT 2 AS other")  # the cursor moves on: the description still speaks of its own result
    assert [(c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale) for c in description] == expected
    assert description[1].name == "letter" and [c.name for c in description[-2:]] == ["at", "money"]


def test_it_is_none_where_psycopg_s_is_none_and_empty_for_a_select_of_nothing(raw):
    cursor = raw.cursor()
    cursor.execute("CREATE TEMPORARY TABLE scratch (n integer)")
    assert cursor.description is None
    cursor.execute("INSERT INTO scratch VALUES (1)")
    assert cursor.description is None
    cursor.execute("SELECT")
    assert cursor.description is not None and len(cursor.description) == 0


def test_sqlalchemy_reads_rows_and_column_names_through_it(raw, app):
    result = db.session.execute(sa.text("SELECT 7 AS seven, 'Ada' AS name"))
    assert list(result.keys()) == ["seven", "name"] and result.one() == (7, "Ada")
    assert db.session.execute(sa.text("SELECT 1 WHERE false")).all() == []


def test_statements_stay_prepared_across_the_rollback_that_ends_every_request(app, client, database_url):
    """psycopg prepares a statement after five runs but forgot them at every rollback; the app's connections keep
    them, so PostgreSQL stops parsing and planning the pages' queries."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements: PostgreSQL only")
    factories.member(email="ada@example.org", with_user=True, first_name="Ada")
    db.session.commit()
    client.login("ada@example.org")
    db.session.remove()
    db.engine.dispose()  # one connection from here on (requests one after another), the one asked below
    for _ in range(8):
        assert client.get("/dashboard").status_code == 200
        db.session.remove()
    prepared = db.session.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    db.session.rollback()
    assert any("FROM users" in statement for statement in prepared), prepared  # the session's user, every page
    assert isinstance(db.session.connection().connection.dbapi_connection, KeepPreparedConnection)


def test_a_rollback_still_undoes_the_transaction(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL connection's rollback")
    for _ in range(6):  # the count below is prepared by now
        db.session.execute(sa.text("SELECT count(*) FROM districts")).scalar()
        db.session.rollback()
    before = db.session.execute(sa.text("SELECT count(*) FROM districts")).scalar()
    db.session.execute(sa.text("INSERT INTO districts (code, name, created_at, updated_at) "
                               "VALUES ('ZZ', 'Rolled back', now(), now())"))
    assert db.session.execute(sa.text("SELECT count(*) FROM districts")).scalar() == before + 1
    db.session.rollback()
    assert db.session.execute(sa.text("SELECT count(*) FROM districts")).scalar() == before
