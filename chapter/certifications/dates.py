"""Calendar helpers of the certification rules: month ends."""
from __future__ import annotations

import calendar
from datetime import date


def end_of_month(day: date) -> date:
    """The last day of `day`'s month."""
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
