"""CSV cells that spreadsheets open safely: the one helper every CSV we produce goes through.

A cell that starts with =, +, -, @, a tab or a carriage return is run as a formula by Excel, LibreOffice
and Google Sheets (CSV/formula injection); a leading apostrophe makes it text. Numbers (-12.50) and
phone numbers (+1 555 0100) are left alone, so amounts still add up.
"""
from __future__ import annotations

import csv
import re
from typing import Any, Iterable

FORMULA_START = re.compile(r"^[=@\t\r]|^[+-](?![\d\s().-]*$)")


def safe_cell(value: Any) -> str:
    """Text for a CSV cell; a leading apostrophe stops spreadsheets from running text as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if FORMULA_START.match(text) else text


def safe_row(values: Iterable[Any]) -> list[str]:
    """Every cell of a row through safe_cell."""
    return [safe_cell(value) for value in values]


class SafeWriter:
    """csv.writer whose rows go through safe_cell: use it for every CSV file the application writes."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out, **options) -> SafeWriter:
    """A CSV writer that neutralises formulas in every cell (options as for csv.writer)."""
    return SafeWriter(out, **options)
