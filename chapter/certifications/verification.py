"""The public certification look-up employers use."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.extensions import db
from chapter.certifications.models import CertificationStatus, MemberCertification
from chapter.certifications.awards import status_of, status_reason
from chapter.core.text import fold



@dataclass(frozen=True)
class Verification:
    """What the public look-up tells: name, certification, status and dates, nothing else."""

    holder: str
    certification: str
    certificate_number: str
    status: CertificationStatus
    earned_on: date
    valid_until: date
    reason: str | None = None  # why a certification kept by its own deadline is not current (CFPIM without CPIM)


def verify(certificate_number: str, last_name: str, day: date) -> Verification | None:
    """The certificate with that number held by someone of that last name, else None.

    The last name matches whatever the case, accents, Unicode form, spacing or ß/ss (chapter.core.text.fold).
    """
    held = db.session.scalar(sa.select(MemberCertification).where(
        MemberCertification.certificate_number == certificate_number.strip().upper())
        .options(joinedload(MemberCertification.member), joinedload(MemberCertification.certification_type)))
    if held is None or fold(held.member.last_name) != fold(last_name):
        return None  # a miss reveals nothing: not whether the number exists
    return Verification(held.member.full_name, held.certification_type.name, held.certificate_number,
                        status_of(held, day), held.earned_on, held.cycle_ends_on, status_reason(held, day))
