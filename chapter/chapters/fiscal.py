"""A chapter's fiscal year: its start month is data on the chapter (July by default, as chapters often use)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class FiscalYear:
    """One fiscal year: first and last day, and how people name it (FY 2026-27, or FY 2026 for a calendar year)."""

    starts_on: date
    ends_on: date

    @property
    def label(self) -> str:
        if self.starts_on.month == 1:
            return f"FY {self.starts_on.year}"
        return f"FY {self.starts_on.year}-{str(self.ends_on.year)[-2:]}"

    def previous(self) -> FiscalYear:
        return fiscal_year_starting(date(self.starts_on.year - 1, self.starts_on.month, 1))


def fiscal_year_starting(starts_on: date) -> FiscalYear:
    end = date(starts_on.year + 1, starts_on.month, 1) - timedelta(days=1)
    return FiscalYear(starts_on, end)


def fiscal_year_of(start_month: int, day: date) -> FiscalYear:
    """The fiscal year starting in `start_month` that holds `day`."""
    year = day.year if day.month >= start_month else day.year - 1
    return fiscal_year_starting(date(year, start_month, 1))


def fiscal_year_named(start_month: int, first_year: int) -> FiscalYear:
    """The fiscal year that starts in `first_year` (the year of its first month)."""
    return fiscal_year_starting(date(first_year, start_month, 1))
