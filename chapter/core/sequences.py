"""Gap-tolerant counters kept in a table, for human-facing numbers such as member numbers."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from chapter.extensions import db


class Counter(db.Model):
    """The next value of a named counter (member numbers, certificate numbers, ...)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    next_value: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)


def reserve_numbers(name: str, count: int = 1, start: int = 1) -> int:
    """Reserve `count` consecutive values of counter `name` and return the first.

    The row is locked (FOR UPDATE on PostgreSQL; SQLite serialises writers) so two
    requests never get the same number.
    """
    row = db.session.execute(
        sa.select(Counter).where(Counter.name == name).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = Counter(name=name, next_value=start)
        db.session.add(row)
        db.session.flush()
    first = row.next_value
    row.next_value = first + count
    db.session.flush()
    return first
