"""Date arithmetic in SQL that reads the same on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class days_before(FunctionElement):
    """`day` minus `days` (an integer column or value), as a date."""

    type = sa.Date()
    inherit_cache = True
    name = "days_before"
    sign = "-"


class days_after(days_before):
    """`day` plus `days` (an integer column or value), as a date."""

    inherit_cache = True
    name = "days_after"
    sign = "+"


@compiles(days_before)
@compiles(days_after)
def _days_shift_default(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"(CAST({compiler.process(day, **kw)} AS DATE) {element.sign} {compiler.process(days, **kw)})"


@compiles(days_before, "sqlite")
@compiles(days_after, "sqlite")
def _days_shift_sqlite(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '{element.sign}' || ({compiler.process(days, **kw)}) || ' days')"
