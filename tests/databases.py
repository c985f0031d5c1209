"""PostgreSQL databases made for a test run beside TEST_DATABASE_URL's (same server), and dropped afterwards."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa


def create_database_beside(base_url: str, name: str) -> tuple[str, Callable[[], None]]:
    """Create (afresh) database `name` on `base_url`'s server; return its URL and a function that drops it."""
    server = sa.engine.make_url(base_url)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop
