"""Count the SQL statements a block sends (for pages that promise a constant number of queries)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa

from chapter.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block, in order."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def queries_of_page(client, url: str) -> tuple[int, str]:
    """The number of statements of one GET of `url` (after a warm-up GET) and the page's text.

    The test's requests share the test's session (one app context): its identity map would hide the
    lazy loads of rows the test made. A request in production starts with an empty one, so the
    session is emptied first (the test's objects are detached: read what you need before, by id after).
    """
    client.get(url)
    db.session.expunge_all()
    with statements() as sent:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(sent), response.get_data(as_text=True)


def committed_elsewhere(sql: str, **parameters) -> None:
    """Run a write on a connection of its own and commit it, as another worker, an import or raw SQL would."""
    with db.engine.begin() as connection:
        connection.execute(sa.text(sql), parameters)
