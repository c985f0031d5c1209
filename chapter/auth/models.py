"""Users: who can log in, and the national-staff role."""
from __future__ import annotations

import secrets
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


# A stored hash starting with "!" is never a Werkzeug hash: no password matches it.
UNUSABLE_PASSWORD_PREFIX = "!"
_TIMING_HASH = generate_password_hash("timing-only-not-a-password")


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
    # Part of every session's identity (see get_id): raising it ends every session of the user at once
    # (log-out, password change or reset, "log out everywhere").
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1", nullable=False)

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
        """True when the password matches the stored hash (never for an unusable one)."""
        if not self.has_usable_password:
            check_password_hash(_TIMING_HASH, password)  # the same cost either way
            return False
        return check_password_hash(self.password_hash, password)

    def set_unusable_password(self) -> None:
        """A log-in nobody can use until its owner claims it through an e-mailed link."""
        self.password_hash = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(24)

    @property
    def has_usable_password(self) -> bool:
        return bool(self.password_hash) and not self.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)

    def get_id(self) -> str:
        """The session's user id carries the session version: a session of an older version is logged out."""
        return f"{self.id}.{self.session_version or 1}"

    def end_all_sessions(self) -> None:
        """Every session and remember-me cookie issued so far stops working on its next request."""
        self.session_version = (self.session_version or 1) + 1

    @property
    def is_active(self) -> bool:  # Flask-Login refuses log-in for inactive users
        return not self.is_disabled

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class LoginThrottle(db.Model):
    """Failed log-ins counted per (e-mail address, client address): the lock-out of one pair.

    Keyed by the address typed, whether or not an account uses it, so the answer to a locked pair says
    nothing about which accounts exist; keyed by client address too, so failures from one place never
    lock the owner out from another (the per-address Flask-Limiter limit bounds guessing overall).
    """

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    client_address: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(sa.DateTime, index=True)

    __table_args__ = (sa.UniqueConstraint("email", "client_address", name="uq_login_throttles_email_address"),)


class AccountInvitation(db.Model):
    """A claim link sent to a member without a log-in: by whom, when (rate limit and audit)."""

    __tablename__ = "account_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True, nullable=False)
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(40), nullable=False)
