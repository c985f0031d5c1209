"""The audit log: who changed what, when, with the values before and after.

Services call `record` (or `record_many` for bulk work such as imports) in the same transaction
as the change itself, so a change and its entry are committed, or rolled back, together.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from chapter.core.models import utcnow
from chapter.core.pagination import Page, paginate
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User


class AuditAction(str, enum.Enum):
    """What an audit entry records; stored as text so features can add actions without a migration."""

    MEMBER_CREATED = "member.created"
    MEMBER_UPDATED = "member.updated"
    TERM_CREATED = "term.created"
    MEMBER_TRANSFERRED = "member.transferred"
    TRANSFER_REQUESTED = "transfer.requested"
    TRANSFER_DECLINED = "transfer.declined"
    TRANSFER_CANCELLED = "transfer.cancelled"
    NOTE_ADDED = "note.added"
    OFFICER_APPOINTED = "officer.appointed"
    OFFICER_TERM_ENDED = "officer.term_ended"
    DISTRICT_MANAGER_APPOINTED = "district_manager.appointed"
    ROSTER_IMPORTED = "roster.imported"
    ROSTER_EXPORTED = "roster.exported"
    TERM_SHORTENED = "term.shortened"
    TERM_VOIDED = "term.voided"
    PAYMENT_REFUNDED = "payment.refunded"
    SEAT_ASSIGNED = "corporate.seat_assigned"
    SEAT_RELEASED = "corporate.seat_released"
    SEAT_OFFERED = "corporate.seat_offered"
    SEAT_DECLINED = "corporate.seat_declined"
    ACCOUNT_INVITED = "account.invited"
    ACCOUNT_CLAIMED = "account.claimed"
    ROSTER_READ = "roster.read"

    @property
    def label(self) -> str:
        return AUDIT_LABELS.get(self.value, self.value)


AUDIT_LABELS = {
    "member.created": "Member added", "member.updated": "Member details changed", "term.created": "Term added",
    "member.transferred": "Home chapter changed", "transfer.requested": "Transfer requested",
    "transfer.declined": "Transfer declined", "transfer.cancelled": "Transfer request withdrawn",
    "note.added": "Note added", "officer.appointed": "Officer appointed", "officer.term_ended": "Officer term ended",
    "district_manager.appointed": "District manager appointed", "roster.imported": "Roster imported",
    "roster.exported": "Roster exported", "term.shortened": "Term shortened", "term.voided": "Term voided",
    "payment.refunded": "Payment refunded", "corporate.seat_assigned": "Named to a corporate seat",
    "corporate.seat_released": "Corporate seat freed", "corporate.seat_offered": "Offered a corporate seat",
    "corporate.seat_declined": "Corporate seat declined", "account.invited": "Invited to claim the account",
    "account.claimed": "Account claimed", "roster.read": "Roster file read",
    "user.staff_created": "Staff account created", "user.staff_granted": "Staff role granted",
    "user.staff_revoked": "Staff role revoked",
}


class AuditEntry(db.Model):
    """One recorded change: who (None: the system or the command line), when, what, before and after."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    # The chapter whose log shows the entry (a transfer is recorded in both chapters' logs).
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    summary: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    before: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True))
    after: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True))

    actor: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_audit_entries_chapter_id_id", "chapter_id", "id"),)

    @property
    def action_label(self) -> str:
        return AUDIT_LABELS.get(self.action, self.action)

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field either side mentions, in a stable order."""
        before, after = self.before or {}, self.after or {}
        keys = list(before) + [key for key in after if key not in before]
        return [(key, before.get(key), after.get(key)) for key in keys]


def jsonable(value: Any) -> Any:
    """Dates, enums and nested containers as JSON-friendly values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    return value


def _action_value(action: AuditAction | str) -> str:
    return action.value if isinstance(action, enum.Enum) else str(action)


def record(
    action: AuditAction | str, *, actor: User | None, summary: str, chapter_id: int | None = None,
    member_id: int | None = None, before: dict | None = None, after: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (flushed with the change it describes)."""
    entry = AuditEntry(
        action=_action_value(action),
        actor_id=actor.id if actor is not None else None,
        chapter_id=chapter_id, member_id=member_id, summary=summary[:300],
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        occurred_at=utcnow(),
    )
    db.session.add(entry)
    return entry


def record_many(rows: Iterable[dict], *, actor: User | None, batch_size: int = 5000) -> int:
    """Insert many entries in bulk (imports); each row has action, summary and optional ids, before, after."""
    now = utcnow()
    actor_id = actor.id if actor is not None else None
    batch: list[dict] = []
    written = 0
    for row in rows:
        batch.append(dict(
            occurred_at=now, actor_id=actor_id, action=_action_value(row["action"]),
            chapter_id=row.get("chapter_id"), member_id=row.get("member_id"), summary=row["summary"][:300],
            before=jsonable(row.get("before")), after=jsonable(row.get("after")),
        ))
        if len(batch) >= batch_size:
            db.session.execute(AuditEntry.__table__.insert(), batch)
            written += len(batch)
            batch = []
    if batch:
        db.session.execute(AuditEntry.__table__.insert(), batch)
        written += len(batch)
    return written


@dataclass
class AuditQuery:
    """Which entries of a chapter's log to show: all, one member's, or one acting person's."""

    member_id: int | None = None
    actor_id: int | None = None
    page: int = 1


def chapter_log(chapter_id: int, query: AuditQuery, per_page: int = 50) -> Page[AuditEntry]:
    """A page of a chapter's audit log, newest first, counted and cut in SQL."""
    statement = (
        sa.select(AuditEntry).options(joinedload(AuditEntry.actor))
        .where(AuditEntry.chapter_id == chapter_id).order_by(AuditEntry.id.desc())
    )
    if query.member_id is not None:
        statement = statement.where(AuditEntry.member_id == query.member_id)
    if query.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == query.actor_id)
    return paginate(statement, query.page, per_page)


def chapter_log_actors(chapter_id: int) -> list[tuple[int, str, str]]:
    """(user id, name, e-mail) of everyone who appears as the actor in a chapter's log."""
    from chapter.auth.models import User

    actor_ids = sa.select(AuditEntry.actor_id).where(
        AuditEntry.chapter_id == chapter_id, AuditEntry.actor_id.is_not(None)
    ).distinct().scalar_subquery()
    rows = db.session.execute(
        sa.select(User.id, User.name, User.email).where(User.id.in_(actor_ids)).order_by(User.name)
    ).all()
    return [tuple(row) for row in rows]
