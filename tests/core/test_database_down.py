"""The database going away is not a 500: 503 with Retry-After and a page that needs no database, /healthz
says 503, and the app recovers by itself when the database is back. Real failures, no mocks: on PostgreSQL
the server terminates the app's connections (pg_terminate_backend) and refuses new ones; on SQLite the
database file is moved away."""
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from chapter.core.liveness import connection_is_closed
from chapter.extensions import db
from tests import factories


def _logged_in(client):
    factories.member(email="ada@example.org", with_user=True, first_name="Ada")
    db.session.commit()
    client.login("ada@example.org")
    assert client.get("/dashboard").status_code == 200


def _assert_unavailable(client, url="/dashboard"):
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    assert response.headers["Retry-After"] == "30"
    assert "Back in a moment" in page and "Traceback" not in page
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["database"] == "unavailable"


def _release_session():
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (its connection was killed: nothing to roll back)
        pass
    db.session.remove()


@pytest.fixture
def admin(database_url):
    """A connection to the server's maintenance database, to act on the test database from outside."""
    if not database_url.startswith("postgresql"):
        pytest.skip("terminating backends is PostgreSQL's; SQLite has its own test below")
    url = sa.engine.make_url(database_url)
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection, url.database
        connection.execute(sa.text(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true'))
    engine.dispose()


def test_postgresql_terminated_and_refused_answers_503_then_recovers(app, client, admin):
    connection, name = admin
    _logged_in(client)
    _release_session()
    connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
    connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
    _assert_unavailable(client)
    _release_session()
    connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    assert client.get("/dashboard").status_code == 200  # back by itself: no restart
    assert client.get("/healthz").status_code == 200


def test_postgresql_connection_killed_in_the_middle_of_a_request_is_a_503(app, client, admin):
    connection, _name = admin
    _logged_in(client)
    _release_session()
    statements = []

    def kill_on_the_second_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        if len(statements) == 2:  # the user is loaded; the page's own query is next
            pid = conn.connection.dbapi_connection.info.backend_pid
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    sa.event.listen(db.engine, "before_cursor_execute", kill_on_the_second_statement)
    try:
        response = client.get("/dashboard")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", kill_on_the_second_statement)
    assert len(statements) >= 2
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "Back in a moment" in response.get_data(as_text=True)
    _release_session()
    assert client.get("/dashboard").status_code == 200


def test_sqlite_database_gone_answers_503_then_recovers(app, client, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite variant; PostgreSQL has its own above")
    _logged_in(client)
    path = Path(database_url.removeprefix("sqlite:///"))
    moved = path.with_name(path.name + ".away")
    _release_session()
    db.engine.dispose()
    os.rename(path, moved)
    path.mkdir()  # a directory where the file was: SQLite cannot open it ("unable to open database file")
    try:
        _assert_unavailable(client)
    finally:
        _release_session()
        db.engine.dispose()
        path.rmdir()
        os.rename(moved, path)
    assert client.get("/dashboard").status_code == 200


def test_postgresql_connections_closed_while_idle_are_replaced_without_an_error_or_a_ping(app, client, admin):
    """The server restarting (its backends terminated) between two requests costs the next one nothing: the pool's
    connection is found closed on checkout, without a round trip, and a fresh one answers the page."""
    connection, name = admin
    _logged_in(client)
    _release_session()
    assert db.engine.pool._pre_ping is False  # no statement a checkout: chapter/core/liveness.py instead
    before = set(connection.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name "
                                            "AND pid <> pg_backend_pid()"), {"name": name}).scalars())
    connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
    for _ in range(100):  # termination is asynchronous: wait until the backends are gone
        left = connection.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                  {"pids": list(before)}).scalar()
        if not left:
            break
        time.sleep(0.05)
    response = client.get("/dashboard")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Ada" in response.get_data(as_text=True)


def test_the_liveness_check_tells_an_open_connection_from_one_the_server_closed(app, admin):
    connection, _name = admin
    raw = db.engine.raw_connection()
    try:
        dbapi = raw.dbapi_connection
        assert connection_is_closed(dbapi) is False
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": dbapi.info.backend_pid})
        for _ in range(100):
            if connection_is_closed(dbapi):
                break
            time.sleep(0.05)
        assert connection_is_closed(dbapi) is True
    finally:
        raw.invalidate()


def test_the_liveness_check_works_for_a_socket_numbered_above_1023(app, admin):
    """A busy process can hold more than 1,024 descriptors, where select() refuses to look (poll is used)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if max(soft, hard if hard != resource.RLIM_INFINITY else 4096) < 1200:
        pytest.skip("this process may not open 1,200 files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    db.engine.dispose()  # first: the pool's sockets closed now would free low numbers for the new one
    fillers = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    raw = None
    try:
        raw = db.engine.raw_connection()
        dbapi = raw.dbapi_connection
        assert dbapi.pgconn.socket > 1023
        assert connection_is_closed(dbapi) is False
    finally:
        for descriptor in fillers:
            os.close(descriptor)
        if raw is not None:
            raw.invalidate()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
