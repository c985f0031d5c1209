"""One way to write money, dates and chapters for people: pages, mail and CSVs all call these.

- money: `$210.00`; the ISO code is added only for a currency that is not the site's (`CAD 35.00`);
- dates: `1 Dec 2026` (a lifetime end date reads "Lifetime");
- chapters: `Schuylkill Valley #40`.
"""
from __future__ import annotations

import functools
from datetime import date

from chapter.core.models import FOREVER

SITE_CURRENCY = "USD"
SYMBOLS = {"USD": "$"}


def format_amount(cents: int) -> str:
    """The bare amount, for a CSV column next to a currency column: 21000 -> '210.00', -550 -> '-5.50'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def format_money(cents: int | None, currency: str = SITE_CURRENCY, site_currency: str = SITE_CURRENCY) -> str:
    """21000, 'USD' -> '$210.00'; 3500, 'CAD' -> 'CAD 35.00' (the code only when it is not the site's)."""
    if cents is None:
        return ""
    currency = (currency or site_currency).upper()
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    number = f"{whole:,}.{part:02d}"
    if currency == site_currency.upper() and currency in SYMBOLS:
        return f"{sign}{SYMBOLS[currency]}{number}"
    return f"{sign}{currency} {number}"


def format_date(value: date | None, empty: str = "—") -> str:
    """Dates as people read them: 1 Dec 2026; a lifetime end shows as 'Lifetime'."""
    if value is None:
        return empty
    return _formatted_date(value)


@functools.lru_cache(maxsize=4096)
def _formatted_date(value: date) -> str:
    """format_date's text, kept: a roster page writes a hundred dates, most of them the same few (strftime is slow)."""
    if value == FOREVER:
        return "Lifetime"
    return f"{value.day} {value:%b %Y}"


def format_month(value: str | date) -> str:
    """'2026-12' (as reports group by) or a date -> 'Dec 2026'."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value + "-01")
        except ValueError:
            return value
    return f"{value:%b %Y}"


def format_chapter(chapter=None, *, name: str | None = None, number: int | None = None) -> str:
    """'Schuylkill Valley #40', from a chapter or from its name and number (as a report row has them)."""
    if chapter is not None:
        name, number = chapter.name, chapter.number
    if name is None:
        return "National (no chapter)"
    return f"{name} #{number}" if number is not None else name
