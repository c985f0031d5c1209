"""Existing members claim their account: a member record with an e-mail address and no usable password
(imported, seeded, named by a corporate contact) gets a signed link to that address; following it sets
the password and links the log-in to the existing record: no second member, the history stays.

The link is sent when the member registers or asks for a password reset with that address, or when an
officer invites them (rate-limited, one invitation per member a day, logged in the chapter's audit log),
appoints them as an officer or asks them to transfer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from chapter.auth.models import UNUSABLE_PASSWORD_PREFIX, AccountInvitation, User
from chapter.auth.services import check_password_strength, normalize_email
from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.members.models import Member

CLAIM_SALT = "account-claim"


def has_login(member: Member) -> bool:
    """True when the member can log in (a log-in with a password of their own)."""
    return member.user is not None and member.user.has_usable_password


def claimable_member(email: str) -> Member | None:
    """The member record this address belongs to, if it has no usable log-in yet."""
    email = normalize_email(email)
    if not email:
        return None
    member = db.session.scalar(sa.select(Member).where(Member.email == email))
    if member is None or has_login(member) or (member.user is not None and member.user.is_disabled):
        return None
    other = db.session.scalar(sa.select(User).where(User.email == email))
    if other is not None and other.id != member.user_id and (other.has_usable_password or other.member is not None):
        return None  # the address already logs in to another account: that one resets its password instead
    return member


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=CLAIM_SALT)


def _state(member: Member) -> str:
    """What changes when the account is claimed, so that a link works once."""
    return member.user.password_hash[-16:] if member.user is not None else "none"


def make_claim_token(member: Member, secret_key: str) -> str:
    """A signed token naming the member, their address and the state of their log-in."""
    return _serializer(secret_key).dumps({"member": member.id, "email": member.email, "state": _state(member)})


def member_for_claim_token(token: str, secret_key: str, max_age: int) -> Member:
    """The member a valid, unexpired, unused claim link is for; DomainError otherwise."""
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise DomainError("This link has expired. Ask for a new one with “Forgot your password?”.")
    except BadSignature:
        raise DomainError("This link is not valid. Ask for a new one with “Forgot your password?”.")
    member = db.session.get(Member, data.get("member")) if isinstance(data, dict) else None
    if member is None or member.email != data.get("email") or _state(member) != data.get("state"):
        raise DomainError("This link has already been used. Log in, or ask for a new link.")
    return member


def claim_account(member: Member, password: str) -> User:
    """Set the password of the member's log-in (creating it if needed) and link it to the member record."""
    check_password_strength(password, member.email or "", member.first_name, member.last_name)
    user = member.user or db.session.scalar(sa.select(User).where(User.email == member.email))
    if user is None:
        user = User(email=member.email, name=member.full_name)
        db.session.add(user)
    user.set_password(password)
    user.end_all_sessions()
    member.user = user
    db.session.flush()
    audit.record(AuditAction.ACCOUNT_CLAIMED, actor=user, chapter_id=member.home_chapter_id, member_id=member.id,
                 summary=f"{member.full_name} ({member.member_number}) claimed their account")
    return user


def ensure_login(member: Member) -> User:
    """A log-in for a member who has none (with no usable password until they claim it), e.g. to appoint them."""
    if member.user is not None:
        return member.user
    if not member.email:
        raise DomainError(f"{member.full_name} has no e-mail address on their record; add one first.")
    user = db.session.scalar(sa.select(User).where(User.email == member.email))
    if user is not None and user.member is not None:
        raise DomainError("This e-mail address belongs to another member's log-in.")
    if user is None:
        user = User(email=member.email, name=member.full_name)
        user.set_unusable_password()
        db.session.add(user)
    member.user = user
    db.session.flush()
    return user


def record_invitation(member: Member, *, reason: str, actor: User | None) -> AccountInvitation:
    """Remember that a claim link went to the member (the daily limit counts these)."""
    invitation = AccountInvitation(member_id=member.id, sent_by_id=actor.id if actor else None,
                                   sent_at=utcnow(), reason=reason[:40])
    db.session.add(invitation)
    db.session.flush()
    return invitation


@dataclass
class InvitationBatch:
    """What happened to each member an officer chose to invite."""

    invited: list[Member] = field(default_factory=list)
    has_account: list[Member] = field(default_factory=list)
    no_email: list[Member] = field(default_factory=list)
    recently_invited: list[Member] = field(default_factory=list)
    opted_out: list[Member] = field(default_factory=list)  # asked for no chapter news (the invitation is one)


def invite_roster_members(members: list[Member], *, chapter_id: int, actor: User, cooldown: timedelta,
                          now: datetime | None = None) -> InvitationBatch:
    """Choose which of `members` get a claim invitation now (no log-in, an address, none sent lately); log each.

    The caller sends the mail to `batch.invited` (the link needs the app's secret and PUBLIC_BASE_URL).
    """
    now = now or utcnow()
    batch = InvitationBatch()
    ids = [m.id for m in members]
    recent = set(db.session.scalars(sa.select(AccountInvitation.member_id).where(
        AccountInvitation.member_id.in_(ids), AccountInvitation.sent_at > now - cooldown))) if ids else set()
    opted_out = _opted_out_of_chapter_news([m.email for m in members if m.email])
    for member in members:
        if has_login(member):
            batch.has_account.append(member)
        elif not member.email:
            batch.no_email.append(member)
        elif member.email.lower() in opted_out:
            batch.opted_out.append(member)
        elif member.id in recent:
            batch.recently_invited.append(member)
        else:
            record_invitation(member, reason="officer_invitation", actor=actor)
            audit.record(AuditAction.ACCOUNT_INVITED, actor=actor, chapter_id=chapter_id, member_id=member.id,
                         summary=f"Invited {member.full_name} ({member.member_number}) to claim their account",
                         after={"email": member.email})
            batch.invited.append(member)
    db.session.flush()
    return batch


def _opted_out_of_chapter_news(emails: list[str]) -> set[str]:
    from chapter.communications.models import MailCategory, MailOptOut

    if not emails:
        return set()
    return set(db.session.scalars(sa.select(MailOptOut.email).where(
        MailOptOut.category == MailCategory.CHAPTER_NEWS, MailOptOut.email.in_([e.lower() for e in emails]))))


def members_with_login(members) -> set[int]:
    """Which of these members (roster rows or members: `id`, `user_id`) can log in, by member id (one query).

    The members' accounts are looked up by their own key (members.user_id is loaded with the page): a join
    from the member ids let PostgreSQL's planner walk the chapter's members instead.
    """
    accounts = {member.user_id: member.id for member in members if member.user_id is not None}
    if not accounts:
        return set()
    rows = db.session.execute(sa.select(User.id, User.password_hash).where(User.id.in_(accounts))).all()
    return {accounts[user_id] for user_id, password_hash in rows
            if password_hash and not password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)}


def roster_members_by_number(chapter_id: int, member_numbers: list[str]) -> list[Member]:
    """The chapter's members with these numbers (others are ignored), in one query."""
    numbers = [n for n in dict.fromkeys(member_numbers) if n and len(n) <= 20]
    if not numbers:
        return []
    return db.session.scalars(sa.select(Member).where(Member.home_chapter_id == chapter_id,
                                                      Member.member_number.in_(numbers))
                              .order_by(Member.last_name, Member.first_name)).all()


def member_by_email(email: str) -> Member | None:
    """The member record with this e-mail address, if any."""
    email = normalize_email(email)
    return db.session.scalar(sa.select(Member).where(Member.email == email)) if email else None
