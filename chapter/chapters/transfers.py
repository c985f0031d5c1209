"""Chapters: moving members between chapters: officers' requests, the member's or staff's answer, staff's bulk moves."""
from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.chapters.models import Chapter, ChapterTransfer, TransferRequest, TransferRequestStatus
from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import utcnow
from chapter.core.pagination import Page, paginate
from chapter.extensions import db
from chapter.members.models import Member

if TYPE_CHECKING:
    from chapter.auth.models import User

def chapter_transfers_page(chapter: Chapter, page: int, per_page: int = 50) -> Page[ChapterTransfer]:
    """Moves into and out of a chapter (joins included), newest first."""
    statement = (
        sa.select(ChapterTransfer)
        .options(joinedload(ChapterTransfer.from_chapter), joinedload(ChapterTransfer.to_chapter),
                 joinedload(ChapterTransfer.actor), joinedload(ChapterTransfer.member))
        .where(sa.or_(ChapterTransfer.from_chapter_id == chapter.id, ChapterTransfer.to_chapter_id == chapter.id))
        .order_by(ChapterTransfer.effective_on.desc(), ChapterTransfer.id.desc())
    )
    return paginate(statement, page, per_page)


def chapter_transfer_requests(chapter: Chapter) -> list[TransferRequest]:
    """The chapter's requests still waiting for the member, oldest first."""
    return db.session.scalars(
        sa.select(TransferRequest)
        .options(joinedload(TransferRequest.member), joinedload(TransferRequest.from_chapter),
                 joinedload(TransferRequest.requested_by))
        .where(TransferRequest.to_chapter_id == chapter.id, TransferRequest.status == TransferRequestStatus.PENDING)
        .order_by(TransferRequest.requested_at, TransferRequest.id)
    ).all()


def request_transfer(to_chapter: Chapter, *, member_number: str, last_name: str, actor: User) -> TransferRequest:
    """Ask a member of another chapter to move to `to_chapter`; nothing moves until the member confirms.

    The officer must know both the member number and the last name, so the form cannot be used
    to probe who is a member of which chapter.
    """
    from chapter.members.services import get_member_by_number

    member = get_member_by_number(member_number or "")
    if member is None or member.last_name.strip().lower() != (last_name or "").strip().lower():
        raise DomainError("No member has this number and last name.", field="member_number")
    if member.home_chapter_id == to_chapter.id:
        raise DomainError(f"{member.full_name} is already a member of {to_chapter.display_name}.", field="member_number")
    if not to_chapter.is_active:
        raise DomainError("This chapter is not taking members.")
    waiting = db.session.scalar(sa.select(TransferRequest.id).where(
        TransferRequest.member_id == member.id, TransferRequest.to_chapter_id == to_chapter.id,
        TransferRequest.status == TransferRequestStatus.PENDING,
    ))
    if waiting is not None:
        raise DomainError(f"A request to {member.full_name} is already waiting for their answer.", field="member_number")
    request = TransferRequest(member_id=member.id, from_chapter_id=member.home_chapter_id,
                              to_chapter_id=to_chapter.id, requested_by_id=actor.id)
    db.session.add(request)
    db.session.flush()
    audit.record(AuditAction.TRANSFER_REQUESTED, actor=actor, chapter_id=to_chapter.id, member_id=member.id,
                 summary=f"Asked {member.full_name} ({member.member_number}) to move to {to_chapter.display_name}",
                 after={"member_number": member.member_number, "to_chapter": to_chapter.number})
    return request


def pending_for_member(member_id) -> sa.ColumnElement[bool]:
    """SQL: a transfer request waiting for this member's answer (`member_id`: a value or a bind parameter)."""
    return sa.and_(TransferRequest.member_id == member_id, TransferRequest.status == TransferRequestStatus.PENDING)


def pending_requests_for_member(member: Member) -> list[TransferRequest]:
    """Requests from chapters waiting for this member's answer."""
    return db.session.scalars(
        sa.select(TransferRequest)
        .options(joinedload(TransferRequest.to_chapter), joinedload(TransferRequest.requested_by))
        .where(pending_for_member(member.id))
        .order_by(TransferRequest.requested_at)
    ).all()


def _pending_request_of(request: TransferRequest, actor: User) -> Member:
    member = request.member
    if member.user_id is None or member.user_id != actor.id:
        raise NotAllowed("Only the member can answer this request.")
    if request.status is not TransferRequestStatus.PENDING:
        raise DomainError("This request has already been answered.")
    return member


def confirm_transfer_request(request: TransferRequest, *, actor: User) -> ChapterTransfer | None:
    """The member accepts: their home chapter changes today and the move is kept in both chapters' history."""
    from chapter.members.services import change_home_chapter

    member = _pending_request_of(request, actor)
    requester = request.requested_by.name if request.requested_by else "the chapter"
    transfer = change_home_chapter(member, request.to_chapter, actor=actor,
                                   reason=f"Requested by {requester}; confirmed by the member")
    request.status = TransferRequestStatus.CONFIRMED
    request.decided_at = utcnow()
    request.transfer_id = transfer.id if transfer is not None else None
    db.session.flush()
    return transfer


def decline_transfer_request(request: TransferRequest, *, actor: User) -> TransferRequest:
    """The member says no: nothing moves, and the requesting chapter sees the answer."""
    member = _pending_request_of(request, actor)
    request.status = TransferRequestStatus.DECLINED
    request.decided_at = utcnow()
    db.session.flush()
    audit.record(AuditAction.TRANSFER_DECLINED, actor=actor, chapter_id=request.to_chapter_id, member_id=member.id,
                 summary=f"{member.full_name} declined to move to {request.to_chapter.display_name}")
    return request


def cancel_transfer_request(request: TransferRequest, *, actor: User) -> TransferRequest:
    """The requesting chapter withdraws a request the member has not answered."""
    if request.status is not TransferRequestStatus.PENDING:
        raise DomainError("This request has already been answered.")
    request.status = TransferRequestStatus.CANCELLED
    request.decided_at = utcnow()
    db.session.flush()
    audit.record(AuditAction.TRANSFER_CANCELLED, actor=actor, chapter_id=request.to_chapter_id,
                 member_id=request.member_id, summary=f"Withdrew the request to {request.member.full_name}")
    return request


def parse_member_numbers(text: str) -> list[str]:
    """Member numbers typed or pasted one per line, or separated by commas or spaces; duplicates dropped."""
    seen: dict[str, None] = {}
    for token in re.split(r"[\s,;]+", text or ""):
        if token:
            seen.setdefault(token, None)
    return list(seen)


MAX_BULK_TRANSFER = 5000


def transfer_members(
    member_numbers: list[str], to_chapter: Chapter, *, actor: User, reason: str, on: date | None = None,
) -> tuple[list[ChapterTransfer], int]:
    """Staff move many members at once, all or none; returns the transfers and how many were already there."""
    from chapter.members.services import change_home_chapter

    if not actor.is_staff:
        raise NotAllowed("Only national staff can move members in bulk.")
    if not member_numbers:
        raise DomainError("Enter at least one member number.", field="member_numbers")
    if len(member_numbers) > MAX_BULK_TRANSFER:
        raise DomainError(f"Move at most {MAX_BULK_TRANSFER:,} members at a time.", field="member_numbers")
    if not to_chapter.is_active:
        raise DomainError("That chapter is not taking members.", field="to_chapter")
    members: list[Member] = []
    for chunk in _chunks(member_numbers, 500):
        members.extend(db.session.scalars(sa.select(Member).where(Member.member_number.in_(chunk))))
    unknown = sorted(set(member_numbers) - {m.member_number for m in members})
    if unknown:
        shown = ", ".join(unknown[:20]) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
        raise DomainError(f"No member has the number{'s' if len(unknown) > 1 else ''} {shown}. Nobody was moved.",
                          field="member_numbers")
    transfers = []
    for member in members:
        transfer = change_home_chapter(member, to_chapter, actor=actor, reason=reason or "Moved by national staff", on=on)
        if transfer is not None:
            transfers.append(transfer)
    return transfers, len(members) - len(transfers)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
