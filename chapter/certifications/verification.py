"""The public certification look-up employers use."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.extensions import db
from chapter.certifications.models import CertificationStatus, MemberCertification
from chapter.certifications.awards import status_of



@dataclass(frozen=True)
class Verification:
    """What the public look-up tells: name, certification, status and dates, nothing else."""

    holder: str
    certification: str
    certificate_number: str
    status: CertificationStatus
    earned_on: date
    valid_until: date


def verify(certificate_number: str, last_name: str, day: date) -> Verification | None:
    """The certificate with that number held by someone of that last name, else None."""
    held = db.session.scalar(sa.select(MemberCertification).where(
        MemberCertification.certificate_number == certificate_number.strip().upper())
        .options(joinedload(MemberCertification.member), joinedload(MemberCertification.certification_type)))
    if held is None or held.member.last_name.strip().lower() != last_name.strip().lower():
        return None
    return Verification(held.member.full_name, held.certification_type.name, held.certificate_number,
                        status_of(held, day), held.earned_on, held.cycle_ends_on)
