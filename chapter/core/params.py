"""Reading numbers and dates typed into URLs: values the database or the calendar cannot hold are ignored
(treated as absent) instead of failing deep inside a query with a 500."""
from __future__ import annotations

import re
from datetime import date

DATABASE_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER: ids, chapter numbers
MIN_YEAR, MAX_YEAR = 1900, 2200  # dates outside are typing mistakes, and would overflow date arithmetic
_DIGITS = re.compile(r"[0-9]{1,10}")


def db_int(text: str | None, maximum: int = DATABASE_INT_MAX) -> int | None:
    """ASCII digits that fit a database INTEGER, or None (no superscripts, no 10^30)."""
    text = (text or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


def plausible_date(text: str | None) -> date | None:
    """An ISO date (YYYY-MM-DD) between MIN_YEAR and MAX_YEAR, or None."""
    try:
        value = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return value if MIN_YEAR <= value.year <= MAX_YEAR else None


def plausible_month(text: str | None) -> date | None:
    """The first day of an ISO month (YYYY-MM) between MIN_YEAR and MAX_YEAR, or None."""
    text = (text or "").strip()
    return plausible_date(text + "-01") if re.fullmatch(r"\d{4}-\d{2}", text) else None
