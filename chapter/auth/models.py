"""Users: who can log in, and the national-staff role."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from chapter.core.models import TimestampMixin
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.chapters.models import DistrictManagerTerm, OfficerTerm
    from chapter.members.models import Member


class User(UserMixin, TimestampMixin, db.Model):
    """A person who can log in: a member, an officer, a district manager or national staff."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(256), nullable=False)
    is_staff: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    is_disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    failed_login_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    member: Mapped[Member | None] = relationship(back_populates="user", uselist=False)
    officer_terms: Mapped[list[OfficerTerm]] = relationship(
        back_populates="user", foreign_keys="OfficerTerm.user_id"
    )
    district_manager_terms: Mapped[list[DistrictManagerTerm]] = relationship(
        back_populates="user"
    )

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password (scrypt, Werkzeug's default)."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses log-in for inactive users
        return not self.is_disabled

    def __repr__(self) -> str:
        return f"<User {self.email}>"
