"""Certifications awarded from exam passes, their deadlines and status (current, suspended, terminated)."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from chapter.core import audit
from chapter.core.models import today
from chapter.core.sequences import reserve_numbers
from chapter.extensions import db
from chapter.certifications.models import (
    CertificationStatus, CertificationType, ExamProgram, ExamResult, MemberCertification,
)
from chapter.members.models import Member
from chapter.members.services import add_months
from chapter.certifications.dates import end_of_month

if TYPE_CHECKING:
    from chapter.auth.models import User


CERTIFICATE_NUMBER_START = 100001


def program_completed_on(passes_by_exam: dict[int, list[date]], program: ExamProgram) -> date | None:
    """The earliest day every exam of the program was passed inside the program's window, if ever."""
    exam_ids = [exam.id for exam in program.exams]
    if not exam_ids or any(not passes_by_exam.get(exam_id) for exam_id in exam_ids):
        return None
    if program.window_months is None:
        return max(min(passes_by_exam[exam_id]) for exam_id in exam_ids)
    best = None
    starts = sorted({d for exam_id in exam_ids for d in passes_by_exam[exam_id]})
    for start in starts:
        closes = add_months(start, program.window_months)
        chosen = [min((d for d in passes_by_exam[exam_id] if d >= start), default=None) for exam_id in exam_ids]
        if any(d is None for d in chosen):
            continue
        completed = max(chosen)
        if completed <= closes and (best is None or completed < best):
            best = completed
    return best


def _certificate_number(certification_type: CertificationType) -> str:
    number = reserve_numbers(f"certificate_{certification_type.code}", start=CERTIFICATE_NUMBER_START)
    return f"{certification_type.number_prefix}-{number}"


def cycle_end_for(certification_type: CertificationType, earned_on: date) -> date:
    """The first deadline: the last day of the earning month, cycle_years later."""
    return end_of_month(add_months(earned_on, 12 * certification_type.cycle_years))


def grant_certification(member: Member, certification_type: CertificationType, earned_on: date, *,
                        actor: User | None) -> MemberCertification:
    """Award a certification with a new certificate number and its first maintenance deadline."""
    held = MemberCertification(member_id=member.id, certification_type_id=certification_type.id,
                               certificate_number=_certificate_number(certification_type), earned_on=earned_on,
                               cycle_ends_on=cycle_end_for(certification_type, earned_on))
    db.session.add(held)
    db.session.flush()
    audit.record("certification.awarded", actor=actor, member_id=member.id,
                 summary=f"{certification_type.code} awarded, certificate {held.certificate_number}",
                 after={"certificate_number": held.certificate_number, "earned_on": earned_on})
    return held


def award_due_certifications(member: Member, *, actor: User | None) -> list[MemberCertification]:
    """Award every certification whose exam rules the member now meets and does not hold yet."""
    held = set(db.session.scalars(sa.select(MemberCertification.certification_type_id)
                                  .where(MemberCertification.member_id == member.id)))
    passes: dict[int, list[date]] = {}
    for exam_id, taken_on in db.session.execute(sa.select(ExamResult.exam_id, ExamResult.taken_on).where(
            ExamResult.member_id == member.id, ExamResult.passed.is_(True))):
        passes.setdefault(exam_id, []).append(taken_on)
    programs = db.session.scalars(sa.select(ExamProgram).options(selectinload(ExamProgram.exams),
                                                                 joinedload(ExamProgram.certification_type))
                                  .order_by(ExamProgram.sort_order)).unique().all()
    awarded = []
    for program in programs:
        if program.certification_type_id in held:
            continue
        completed = program_completed_on(passes, program)
        if completed is not None:
            awarded.append(grant_certification(member, program.certification_type, completed, actor=actor))
            held.add(program.certification_type_id)
    return awarded


def status_of(held: MemberCertification, day: date) -> CertificationStatus:
    """Current until the deadline, then suspended, terminated after the type's years of suspension."""
    if day <= held.cycle_ends_on:
        return CertificationStatus.CURRENT
    if day <= add_months(held.cycle_ends_on, 12 * held.certification_type.terminated_after_years):
        return CertificationStatus.SUSPENDED
    return CertificationStatus.TERMINATED


def years_suspended(held: MemberCertification, day: date) -> int:
    """Whole years since the missed deadline."""
    years = 0
    while add_months(held.cycle_ends_on, 12 * (years + 1)) < day:
        years += 1
    return years


def points_required(held: MemberCertification, day: date) -> int:
    """The cycle's points plus, when suspended, the reinstatement points for each whole year suspended."""
    required = held.certification_type.points_required
    if status_of(held, day) is CertificationStatus.SUSPENDED:
        required += held.certification_type.reinstatement_points_per_year * years_suspended(held, day)
    return required


def member_holds_certification(member_id: sa.ColumnElement, code: str) -> sa.ColumnElement[bool]:
    """SQL condition: the member holds a current certification `code` today (for roster filters)."""
    return sa.exists().where(
        MemberCertification.member_id == member_id,
        MemberCertification.cycle_ends_on >= today(),
        MemberCertification.certification_type_id == sa.select(CertificationType.id)
        .where(CertificationType.code == code.upper()).scalar_subquery(),
    )


def certifications_of(member: Member) -> list[MemberCertification]:
    return list(db.session.scalars(sa.select(MemberCertification).where(MemberCertification.member_id == member.id)
                                   .options(joinedload(MemberCertification.certification_type))
                                   .order_by(MemberCertification.earned_on)))
