"""Creating, finding and revoking API tokens.

A token reads `chp_<prefix>_<secret>`: the prefix (public, 12 hex digits) finds its row, the sha256 of
the whole token (256 bits of randomness in the secret) proves it. Only the hash is stored, so a token
is shown once, when it is made. What a token reaches is decided per request (chapter.api.access).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.api.models import ApiToken, api_token_chapters
from chapter.chapters.models import Chapter
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import utcnow
from chapter.core.pagination import Page, paginate
from chapter.core.permissions import Roles
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User

# What each scope lets a token read or do; the creator's own rights still apply on every request.
SCOPES: dict[str, str] = {
    "roster:read": "the rosters of its chapters (officers who see a roster)",
    "members:read": "one member of its chapters, with contact details (officers who see the roster)",
    "events:read": "events and registrations of its chapters",
    "events:write": "create and update events of its chapters (positions with the events right)",
    "payments:read": "payments and refunds of its chapters (treasurer positions)",
    "me:read": "your own member record",
}
CHAPTER_SCOPES = frozenset(SCOPES) - {"me:read"}
MAX_LIFETIME_DAYS = 365
TOKEN_PATTERN = re.compile(r"chp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
LAST_USE_PRECISION = timedelta(minutes=1)  # last use is written at most once a minute per token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def grantable_chapters(roles: Roles) -> list[Chapter]:
    """The chapters a user may name on a token: those where they hold a position, manage the district, or all (staff)."""
    statement = sa.select(Chapter).order_by(Chapter.number)
    if not roles.is_staff:
        statement = statement.where(sa.or_(Chapter.id.in_(list(roles.positions_by_chapter) or [0]),
                                           Chapter.district_id.in_(list(roles.managed_district_ids) or [0])))
    return list(db.session.scalars(statement))


def create_token(user: "User", *, roles: Roles, name: str, scopes: list[str], chapter_ids: list[int],
                 all_chapters: bool, expires_on: date, today: date) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns it with its plain text, which is never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise DomainError("Give the token a name of at most 100 characters.", field="name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise DomainError("Choose at least one of the listed scopes.", field="scopes")
    if expires_on <= today or expires_on > today + timedelta(days=MAX_LIFETIME_DAYS):
        raise DomainError(f"The expiry must be after today and at most {MAX_LIFETIME_DAYS} days away.",
                          field="expires_on")
    allowed = {chapter.id: chapter for chapter in grantable_chapters(roles)}
    if any(chapter_id not in allowed for chapter_id in chapter_ids):
        raise NotAllowed("You can only give a token chapters you hold a position in.", field="chapters")
    if set(scopes) & CHAPTER_SCOPES and not (chapter_ids or all_chapters):
        raise DomainError("Choose the chapters the token may read (or every chapter you may see).", field="chapters")
    prefix = secrets.token_hex(6)
    plain = f"chp_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user_id=user.id, name=name, prefix=prefix, secret_sha256=hash_token(plain),
                     scopes=" ".join(sorted(set(scopes))), all_chapters=all_chapters,
                     expires_at=datetime.combine(expires_on, time.min),
                     chapters=[allowed[chapter_id] for chapter_id in dict.fromkeys(chapter_ids)])
    db.session.add(token)
    db.session.flush()
    return token, plain


def find_token(plain: str, now: datetime) -> ApiToken | None:
    """The usable token (with its user) this text is, or None: malformed, unknown, wrong secret, revoked, expired."""
    match = TOKEN_PATTERN.fullmatch(plain or "")
    if match is None:
        return None
    token = db.session.scalar(sa.select(ApiToken).options(joinedload(ApiToken.user))
                              .where(ApiToken.prefix == match.group(1)))
    if token is None or not hmac.compare_digest(token.secret_sha256, hash_token(plain)):
        return None
    if not token.is_usable(now) or token.user.is_disabled:
        return None
    return token


def token_chapter_ids(token: ApiToken) -> frozenset[int]:
    """The ids of the chapters named on the token (one small query)."""
    return frozenset(db.session.scalars(
        sa.select(api_token_chapters.c.chapter_id).where(api_token_chapters.c.token_id == token.id)))


def record_use(token: ApiToken, now: datetime) -> bool:
    """Note the token's last use, at most once a minute (no write on every request); True when written."""
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        token.last_used_at = now
        db.session.flush()
        return True
    return False


def revoke_token(token: ApiToken, *, actor: "User", now: datetime | None = None) -> None:
    """End the token now (its owner or staff); revoking twice changes nothing."""
    if actor.id != token.user_id and not actor.is_staff:
        raise NotAllowed("Only the token's owner or staff can revoke it.")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        token.revoked_by_id = actor.id
        db.session.flush()


def tokens_of(user: "User") -> list[ApiToken]:
    """A user's tokens, newest first, with their chapters."""
    return list(db.session.scalars(sa.select(ApiToken).options(sa.orm.selectinload(ApiToken.chapters))
                                   .where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def all_tokens(page: int, per_page: int, *, active_only: bool, now: datetime) -> Page[ApiToken]:
    """Every user's tokens for staff, newest first, paged in SQL."""
    statement = sa.select(ApiToken).options(joinedload(ApiToken.user), sa.orm.selectinload(ApiToken.chapters))
    if active_only:
        statement = statement.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    return paginate(statement.order_by(ApiToken.id.desc()), page, per_page)
