"""API tokens: a user's key to /api/v1, stored as a hash, limited to scopes and chapters."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import utcnow
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import Chapter

api_token_chapters = sa.Table(
    "api_token_chapters",
    db.metadata,
    sa.Column("token_id", sa.ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("chapter_id", sa.ForeignKey("chapters.id", ondelete="CASCADE"), primary_key=True),
)


class ApiToken(db.Model):
    """One token: its public prefix finds the row, the sha256 of the whole token proves it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(sa.String(24), unique=True, nullable=False)
    secret_sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    scopes: Mapped[str] = mapped_column(sa.String(300), nullable=False)  # space-separated, sorted
    all_chapters: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    chapters: Mapped[list[Chapter]] = relationship(secondary=api_token_chapters, order_by="Chapter.number")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def is_usable(self, now: datetime) -> bool:
        """Not revoked and not expired."""
        return self.revoked_at is None and self.expires_at > now
