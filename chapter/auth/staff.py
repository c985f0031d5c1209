"""National-staff accounts from the command line: create, list, grant and revoke, each audited."""
from __future__ import annotations

import secrets

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.auth.services import check_password_strength, create_user, find_user_by_email, normalize_email
from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.text import LIKE_ESCAPE, contains_pattern
from chapter.extensions import db

STAFF_CREATED = "user.staff_created"
STAFF_GRANTED = "user.staff_granted"
STAFF_REVOKED = "user.staff_revoked"


class UserNotFound(DomainError):
    """No account has this e-mail address."""


def _valid_email(email: str) -> str:
    email = normalize_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise DomainError(f"{email or 'An empty address'} is not an e-mail address.", field="email")
    return email


def create_staff_account(email: str, name: str, password: str | None, *, actor: User | None, via: str) -> User:
    """A new national-staff account; without `password` it gets an unusable random one (send a link)."""
    email = _valid_email(email)
    if find_user_by_email(email) is not None:
        raise DomainError(f"{email} already has an account: use `users grant-staff {email}`.", field="email")
    if password is not None:
        check_password_strength(password, email)
    user = create_user(email, password or secrets.token_urlsafe(32), name.strip() or email, is_staff=True)
    audit.record(STAFF_CREATED, actor=actor, summary=f"Staff account {email} created ({via})",
                 after={"email": email, "is_staff": True, "via": via})
    return user


def grant_staff(email: str, *, actor: User | None, via: str) -> User:
    """Make an existing account national staff (no change, no entry, when it already is)."""
    user = _existing(email)
    if not user.is_staff:
        user.is_staff = True
        audit.record(STAFF_GRANTED, actor=actor, summary=f"Staff role granted to {user.email} ({via})",
                     before={"is_staff": False}, after={"is_staff": True, "via": via})
        db.session.flush()
    return user


def revoke_staff(email: str, *, actor: User | None, via: str) -> User:
    """Take the staff role from an account; the last active staff account keeps it."""
    user = _existing(email)
    if user.is_staff:
        others = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.is_staff.is_(True), User.is_disabled.is_(False), User.id != user.id))
        if not others:
            raise DomainError(f"{user.email} is the last active staff account; create or grant another first.")
        user.is_staff = False
        audit.record(STAFF_REVOKED, actor=actor, summary=f"Staff role revoked from {user.email} ({via})",
                     before={"is_staff": True}, after={"is_staff": False, "via": via})
        db.session.flush()
    return user


def list_users(*, staff_only: bool = False, search: str = "") -> list[User]:
    """Accounts by e-mail address, optionally only staff or only those whose address or name contains `search`."""
    statement = sa.select(User).order_by(User.email)
    if staff_only:
        statement = statement.where(User.is_staff.is_(True))
    if search:
        pattern = contains_pattern(search.strip().lower())
        statement = statement.where(sa.or_(sa.func.lower(User.email).like(pattern, escape=LIKE_ESCAPE),
                                           sa.func.lower(User.name).like(pattern, escape=LIKE_ESCAPE)))
    return list(db.session.scalars(statement))


def _existing(email: str) -> User:
    user = find_user_by_email(email)
    if user is None:
        raise UserNotFound(f"No account has the e-mail address {normalize_email(email)}.", field="email")
    return user
