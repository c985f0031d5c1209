"""Accounts: registration, authentication with lock-out, password reset tokens."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import generate_password_hash

from chapter.auth.models import User
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS = {
    "password", "password1", "password12", "password123", "1234567890", "12345678910",
    "qwertyuiop", "iloveyou12", "letmein123", "welcome123", "administrator", "abcdefghij",
}


class InvalidCredentials(DomainError):
    """Wrong e-mail or password (deliberately not saying which)."""


class AccountLocked(DomainError):
    """Too many failed log-ins: the account is locked until `until`."""

    def __init__(self, until: datetime):
        minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
        super().__init__(
            f"Too many failed log-in attempts. This account is locked for {minutes} more "
            f"minute{'s' if minutes != 1 else ''}; try again later or reset your password."
        )
        self.until = until


def normalize_email(email: str) -> str:
    """E-mail addresses are compared and stored lower-case, without surrounding spaces."""
    return (email or "").strip().lower()


def check_password_strength(password: str, email: str = "") -> None:
    """Refuse passwords that are short, common, or built from the e-mail address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        raise DomainError("This password is too easy to guess.", field="password")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"[^A-Za-z]", password):
        raise DomainError("Mix letters with digits or symbols.", field="password")
    local_part = normalize_email(email).split("@")[0]
    if len(local_part) >= 4 and local_part in password.lower():
        raise DomainError("Do not use your e-mail address in your password.", field="password")


def email_is_taken(email: str) -> bool:
    """True when a user or a member already has this e-mail address."""
    email = normalize_email(email)
    return bool(
        db.session.scalar(sa.select(User.id).where(User.email == email))
        or db.session.scalar(sa.select(Member.id).where(Member.email == email))
    )


def create_user(email: str, password: str, name: str, is_staff: bool = False) -> User:
    """Create a login with a hashed password (the password must already be checked)."""
    user = User(email=normalize_email(email), name=name.strip(), is_staff=is_staff)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def register_member(
    *, email: str, password: str, first_name: str, last_name: str, home_chapter_id: int | None
) -> Member:
    """Sign-up: a login and a member record whose membership is pending until the first payment."""
    if email_is_taken(email):
        raise DomainError(
            "An account with this e-mail already exists. Log in, or reset your password.",
            field="email",
        )
    check_password_strength(password, email)
    user = create_user(email, password, f"{first_name.strip()} {last_name.strip()}")
    return member_services.create_member(
        first_name=first_name,
        last_name=last_name,
        email=user.email,
        home_chapter_id=home_chapter_id,
        user=user,
        actor=user,
    )


def authenticate(email: str, password: str, *, max_failures: int, lockout_minutes: int) -> User:
    """Check a log-in; count failures per account and lock it after `max_failures`."""
    user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    now = utcnow()
    if user is None:
        # Same cost as a real check so timing does not reveal which addresses exist.
        User(password_hash=_DUMMY_HASH).check_password(password)
        raise InvalidCredentials("Wrong e-mail address or password.")
    if user.locked_until and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not user.check_password(password) or user.is_disabled:
        user.failed_login_count += 1
        if user.failed_login_count >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_login_count = 0
            db.session.flush()
            raise AccountLocked(user.locked_until)
        db.session.flush()
        raise InvalidCredentials("Wrong e-mail address or password.")
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.flush()
    return user


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="password-reset")


def make_password_reset_token(user: User, secret_key: str) -> str:
    """A signed token naming the user and a fingerprint of the current password hash.

    Setting a new password changes the hash, so a token works once only.
    """
    return _serializer(secret_key).dumps({"user": user.id, "hash": user.password_hash[-16:]})


def user_for_password_reset_token(token: str, secret_key: str, max_age: int) -> User:
    """The user a valid, unexpired, unused token belongs to; DomainError otherwise."""
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise DomainError("This reset link has expired. Ask for a new one.")
    except BadSignature:
        raise DomainError("This reset link is not valid. Ask for a new one.")
    user = db.session.get(User, data.get("user"))
    if user is None or user.password_hash[-16:] != data.get("hash"):
        raise DomainError("This reset link has already been used. Ask for a new one.")
    return user


def set_new_password(user: User, password: str) -> None:
    """Replace the password (which voids every reset link) and lift any lock-out."""
    check_password_strength(password, user.email)
    user.set_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    db.session.flush()


# A real hash of nothing anybody knows, checked for unknown e-mails to even out timing.
_DUMMY_HASH = generate_password_hash("no-such-user-dummy-password")


def find_user_by_email(email: str) -> User | None:
    """The user with this e-mail address, or None."""
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
