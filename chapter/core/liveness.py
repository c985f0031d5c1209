"""A pooled PostgreSQL connection is checked before each use without a round trip to the server.

SQLAlchemy's `pool_pre_ping` sends a statement and waits for its answer every time a request takes a connection
from the pool: one round trip a request, a few per cent of a worker's time under load. A connection the server has
closed (PostgreSQL restarted, the backend terminated, the database taken offline) announces it on its socket: the
server sends its FATAL message and closes, so the socket becomes readable while the connection is idle, when
nothing else can arrive. That is checked with a zero-timeout `poll`, and a connection that fails it is thrown
away before the request sees it (the pool opens another). A connection lost without a word (a network cut) is
found by the request's first statement, which is answered 503 like any database failure, and the pool drops it.
"""
from __future__ import annotations

import select

import sqlalchemy as sa


def connection_is_closed(dbapi_connection) -> bool:
    """True when a psycopg connection, idle in the pool, was closed by the server (or is unusable here)."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    try:
        socket = dbapi_connection.pgconn.socket
        if hasattr(select, "poll"):  # poll, not select: select refuses descriptors above 1023
            poller = select.poll()
            poller.register(socket, select.POLLIN | select.POLLPRI)
            waiting = poller.poll(0)
        else:
            waiting = select.select([socket], [], [], 0)[0]
    except Exception:  # noqa: BLE001  (no socket left: psycopg raises OperationalError; select, ValueError)
        return True
    return bool(waiting)  # an idle connection expects nothing: data, EOF or an error means the server has gone


def check_on_checkout(engine: sa.Engine) -> None:
    """Before the pool hands out a connection, discard it if the server closed it (DisconnectionError makes the
    pool open a fresh one, up to three times)."""

    @sa.event.listens_for(engine, "checkout")
    def _checked(dbapi_connection, _record, _proxy) -> None:
        if connection_is_closed(dbapi_connection):
            raise sa.exc.DisconnectionError("the server closed this pooled connection")
