"""Shared model pieces: timestamps and the clock every feature uses."""
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

# A lifetime membership is a term that never ends; a far date keeps every comparison simple.
FOREVER = date(9999, 12, 31)


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    """Today's date in UTC: the date every status is computed against."""
    return utcnow().date()


class TimestampMixin:
    """created_at / updated_at columns kept by the database session."""

    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


