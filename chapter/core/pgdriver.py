"""How the app drives psycopg: statements kept prepared across rollbacks, and results described on demand.

**Prepared statements.** psycopg prepares a statement on the server once it has run five times on a connection,
so PostgreSQL stops parsing and planning it (0.2-1.5 ms of the server's CPU for most of the app's queries). But
it forgets them all on every rollback, in case the transaction created a type or table a statement used, and
every request ends in one (the session closes, the pool resets the connection): nothing was ever prepared. The
app's requests run no DDL (migrations run in their own process, and deploying restarts the workers), so
`KeepPreparedConnection` keeps them through a rollback; PostgreSQL itself keeps prepared statements across
rollbacks and re-plans one whose tables changed.

**Descriptions.**

SQLAlchemy asks every cursor for its description after each statement, but for a statement it has run before
(its compiled form cached, which is every query of a page after the first) it only checks that the description
is not None and takes the result's columns from its cache. psycopg builds a `Column` object for each column of
the result on every such call (the name decoded, the type looked up): a page reading a user, a member and a few
lists spends about a sixth of its CPU time there. This cursor hands out a `LazyDescription` instead: a
sequence of the same columns, made the first time one is read, from the result it was taken from.
"""
from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg._preparing import PrepareManager
from psycopg.pq import ExecStatus

_TUPLES = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class LazyDescription(Sequence):
    """psycopg's description of one result (a list of `psycopg.Column`), made on first use."""

    __slots__ = ("_source", "_count", "_columns")

    def __init__(self, cursor: psycopg.Cursor, result) -> None:
        # What psycopg's Column reads from a cursor, kept for this result: the cursor may move on to another.
        self._source = SimpleNamespace(pgresult=result, _encoding=cursor._encoding, adapters=cursor.adapters)
        self._count = result.nfields
        self._columns: list[psycopg.Column] | None = None

    def _made(self) -> list[psycopg.Column]:
        if self._columns is None:
            self._columns = [psycopg.Column(self._source, i) for i in range(self._count)]
        return self._columns

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self._made()[index]

    def __iter__(self):
        return iter(self._made())

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return repr(self._made())


class LazyDescriptionCursor(psycopg.Cursor):
    """psycopg's client cursor, but `description` is a `LazyDescription` (None exactly when psycopg's is None)."""

    @property
    def description(self) -> LazyDescription | None:
        result = self.pgresult
        if result and (result.nfields or result.status in _TUPLES):
            return LazyDescription(self, result)
        return None


class _KeptThroughRollback(PrepareManager):
    """psycopg's prepared-statement bookkeeping, except that a rollback of the connection does not clear it."""

    rolling_back = False

    def clear(self) -> bool:
        if self.rolling_back:
            return False
        return super().clear()


class KeepPreparedConnection(psycopg.Connection):
    """psycopg's connection, keeping its prepared statements when a transaction is rolled back (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepared = _KeptThroughRollback()

    def rollback(self) -> None:
        self._prepared.rolling_back = True
        try:
            super().rollback()
        finally:
            self._prepared.rolling_back = False


def connect_with(engine: sa.Engine) -> None:
    """Open the engine's PostgreSQL connections as `KeepPreparedConnection`s with `LazyDescriptionCursor`s."""

    @sa.event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        cparams.setdefault("cursor_factory", LazyDescriptionCursor)
        return KeepPreparedConnection.connect(*cargs, **cparams)
