"""A treasurer's sign-off on a reconciled payout, kept in the audit log ("reconciled by … on …")."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core import audit
from chapter.core.audit import AuditEntry
from chapter.core.errors import DomainError, NotAllowed
from chapter.extensions import db
from chapter.treasury.reports import PayoutView

if TYPE_CHECKING:
    from chapter.auth.models import User

PAYOUT_RECONCILED = "treasury.payout_reconciled"
audit.AUDIT_LABELS.setdefault(PAYOUT_RECONCILED, "Payout reconciled")


def sign_off_payout(view: PayoutView, *, actor: User) -> AuditEntry:
    """Record that `actor` checked the payout line by line and it balances; once per payout."""
    if not actor.is_staff:
        raise NotAllowed("Only the national treasurer signs off a payout.")
    if not view.balanced:
        raise DomainError("This payout does not balance: resolve the difference before signing it off.")
    if payout_sign_off(view.payout.id) is not None:
        raise DomainError("This payout is already signed off.")
    return audit.record(PAYOUT_RECONCILED, actor=actor, summary=f"Payout {view.payout.id} reconciled",
                        after={"payout_id": view.payout.id, "amount_cents": view.payout.amount_cents})


def payout_sign_off(payout_id: str) -> AuditEntry | None:
    """The sign-off of a payout, if any (who and when)."""
    entries = db.session.scalars(sa.select(AuditEntry).options(joinedload(AuditEntry.actor))
                                 .where(AuditEntry.action == PAYOUT_RECONCILED, AuditEntry.summary == f"Payout {payout_id} reconciled")
                                 .order_by(AuditEntry.id.desc())).all()
    return next((e for e in entries if (e.after or {}).get("payout_id") == payout_id), None)
