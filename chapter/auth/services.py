"""Accounts: registration, authentication with lock-out, password reset tokens."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from chapter.auth.models import LoginThrottle, User
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200  # zxcvbn's cost grows with length; nobody types more
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 is "safely unguessable" (about 10^8 guesses or more)


class InvalidCredentials(DomainError):
    """Wrong e-mail or password (deliberately not saying which)."""


class AccountLocked(DomainError):
    """Too many failed log-ins for this address from this place: locked until `until`.

    Said the same way whether or not an account uses the address (see LoginThrottle).
    """

    def __init__(self, until: datetime):
        minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
        super().__init__(
            f"Too many failed log-in attempts for this address from here. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}, or reset your password."
        )
        self.until = until
        self.minutes = minutes


def normalize_email(email: str) -> str:
    """E-mail addresses are compared and stored lower-case, without surrounding spaces."""
    return (email or "").strip().lower()


def check_password_strength(password: str, email: str = "", *names: str) -> None:
    """Refuse passwords that are short or easy to guess (zxcvbn: dictionaries, patterns, the person's own data)."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(f"Use at most {MAX_PASSWORD_LENGTH} characters.", field="password")
    email = normalize_email(email)
    user_inputs = [value for value in (email, email.split("@")[0], *names, "chapter", "apics", "ascm") if value]
    result = zxcvbn(password, user_inputs=user_inputs)
    if result["score"] < MIN_PASSWORD_SCORE:
        feedback = result.get("feedback") or {}
        hint = " ".join(part for part in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])[:1]] if part)
        raise DomainError(f"This password is too easy to guess. {hint}".strip(), field="password")


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
    """Sign-up: a login and a member record whose membership is pending until the first payment.

    The view first checks `email_is_taken`: a known address gets a mail instead (claims.py), never an error
    that says the address is known.
    """
    if email_is_taken(email):
        raise DomainError("This e-mail address cannot be used to register.", field="email")
    check_password_strength(password, email, first_name, last_name)
    user = create_user(email, password, f"{first_name.strip()} {last_name.strip()}")
    return member_services.create_member(
        first_name=first_name,
        last_name=last_name,
        email=user.email,
        home_chapter_id=home_chapter_id,
        user=user,
        actor=user,
    )


def _throttle(email: str, client_address: str) -> LoginThrottle:
    throttle = db.session.scalar(sa.select(LoginThrottle).where(
        LoginThrottle.email == email, LoginThrottle.client_address == client_address))
    if throttle is None:
        throttle = LoginThrottle(email=email, client_address=client_address, failures=0)
        db.session.add(throttle)
    return throttle


def authenticate(email: str, password: str, *, max_failures: int, lockout_minutes: int,
                 client_address: str = "unknown") -> User:
    """Check a log-in; failures are counted per (typed address, client address), and that pair is locked
    after `max_failures`: the account's owner elsewhere can still log in, and unknown addresses lock alike."""
    email = normalize_email(email)[:254]
    client_address = (client_address or "unknown")[:64]
    now = utcnow()
    throttle = db.session.scalar(sa.select(LoginThrottle).where(
        LoginThrottle.email == email, LoginThrottle.client_address == client_address))
    if throttle is not None and throttle.locked_until and throttle.locked_until > now:
        raise AccountLocked(throttle.locked_until)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        # Same cost as a real check so timing does not reveal which addresses exist.
        User(password_hash=_DUMMY_HASH).check_password(password)
    if user is None or not user.check_password(password) or user.is_disabled:
        throttle = throttle or _throttle(email, client_address)
        throttle.failures += 1
        throttle.last_failure_at = now
        if throttle.failures >= max_failures:
            throttle.locked_until = now + timedelta(minutes=lockout_minutes)
            throttle.failures = 0
            db.session.flush()
            raise AccountLocked(throttle.locked_until)
        db.session.flush()
        raise InvalidCredentials("Wrong e-mail address or password.")
    if throttle is not None:
        db.session.delete(throttle)
    user.last_login_at = now
    db.session.flush()
    return user


def end_all_sessions(user: User) -> None:
    """Log the user out everywhere: every session and remember-me cookie issued so far stops working."""
    user.end_all_sessions()
    db.session.flush()


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """A logged-in user changes their password; every other session ends."""
    if not user.check_password(current_password or ""):
        raise DomainError("Your current password is not right.", field="current_password")
    set_new_password(user, new_password)


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
    """Replace the password (which voids every reset link), end every session, lift any lock-out."""
    check_password_strength(password, user.email, *user.name.split())
    user.set_password(password)
    user.end_all_sessions()
    user.failed_login_count = 0
    user.locked_until = None
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.email == user.email))
    db.session.flush()


# A real hash of nothing anybody knows, checked for unknown e-mails to even out timing.
_DUMMY_HASH = generate_password_hash("no-such-user-dummy-password")


def find_user_by_email(email: str) -> User | None:
    """The user with this e-mail address, or None."""
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
