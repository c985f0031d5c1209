"""Certifications awarded from exam passes, their deadlines and status (current, suspended, terminated)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import joinedload, selectinload

from chapter.core import audit, domain_events
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
    """The earliest day every exam of the program was passed inside the program's window, if ever.

    A pass before the program's `window_applies_from` (CPIM modules: 2013) is not bound by the window:
    it counts whenever the others were passed, as it did under the rules of its day.
    """
    exam_ids = [exam.id for exam in program.exams]
    if not exam_ids or any(not passes_by_exam.get(exam_id) for exam_id in exam_ids):
        return None
    if program.window_months is None:
        return max(min(passes_by_exam[exam_id]) for exam_id in exam_ids)
    applies_from = program.window_applies_from or date.min
    unbound = {exam_id: [d for d in passes_by_exam[exam_id] if d < applies_from] for exam_id in exam_ids}
    windowed = sorted({d for exam_id in exam_ids for d in passes_by_exam[exam_id] if d >= applies_from})
    best = None
    for start in [None, *windowed]:
        closes = add_months(start, program.window_months) if start else None
        chosen = []
        for exam_id in exam_ids:
            inside = [d for d in passes_by_exam[exam_id] if start and start <= d <= closes]
            options = unbound[exam_id] + inside
            chosen.append(min(options) if options else None)
        if any(d is None for d in chosen):
            continue
        completed = max(chosen)
        if best is None or completed < best:
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
    chapter = member.home_chapter
    domain_events.publish("certification.awarded", {
        "member_certification_id": held.id, "member_id": member.id, "member_number": member.member_number,
        "chapter_id": member.home_chapter_id, "chapter_number": chapter.number if chapter is not None else None,
        "certification": certification_type.code, "certificate_number": held.certificate_number,
        "earned_on": earned_on.isoformat(), "cycle_ends_on": held.cycle_ends_on.isoformat()})
    return held


def latest_awards(member_id: int) -> dict[int, MemberCertification]:
    """The member's latest award of each certification type (an older one may be terminated)."""
    latest: dict[int, MemberCertification] = {}
    for held in db.session.scalars(sa.select(MemberCertification).where(MemberCertification.member_id == member_id)
                                   .options(joinedload(MemberCertification.certification_type))
                                   .order_by(MemberCertification.earned_on, MemberCertification.id)):
        latest[held.certification_type_id] = held
    return latest


def award_due_certifications(member: Member, *, actor: User | None) -> list[MemberCertification]:
    """Award every certification whose exam rules the member now meets and does not hold.

    After a termination the exams must be passed again: only passes from the day of termination
    count, and they earn a new award with a new earned date (the terminated one stays, as history).
    """
    latest = latest_awards(member.id)
    passes: dict[int, list[date]] = {}
    for exam_id, taken_on in db.session.execute(sa.select(ExamResult.exam_id, ExamResult.taken_on).where(
            ExamResult.member_id == member.id, ExamResult.passed.is_(True))):
        passes.setdefault(exam_id, []).append(taken_on)
    programs = db.session.scalars(sa.select(ExamProgram).options(selectinload(ExamProgram.exams),
                                                                 joinedload(ExamProgram.certification_type))
                                  .order_by(ExamProgram.sort_order)).unique().all()
    # Two programs of one certification may be complete at once (an import, results recorded out of date order):
    # the certification is earned on the earliest completion, whichever program staff list first.
    due: dict[int, tuple[date, ExamProgram]] = {}
    for program in programs:
        counted = passes
        previous = latest.get(program.certification_type_id)
        if previous is not None:
            since = terminated_from(previous)
            counted = {exam_id: [d for d in days if d >= since] for exam_id, days in passes.items()}
        completed = program_completed_on(counted, program)
        earliest = due.get(program.certification_type_id)
        if completed is not None and (earliest is None or completed < earliest[0]):
            due[program.certification_type_id] = (completed, program)
    return [grant_certification(member, program.certification_type, completed, actor=actor)
            for completed, program in due.values()]


def suspension_year_ends(held: MemberCertification, years: int) -> date:
    """The last day of the `years`-th whole year after the deadline, counted in month ends.

    A deadline of 2023-02-28 has its first year end on 2024-02-29 and its fifth on 2028-02-29: whole
    years are counted from month end to month end, not by adding 12 months to a date.
    """
    return end_of_month(add_months(held.cycle_ends_on, 12 * years))


def terminated_from(held: MemberCertification) -> date:
    """The first day of termination: after the type's whole years of suspension."""
    return suspension_year_ends(held, held.certification_type.terminated_after_years) + timedelta(days=1)


def own_status(held: MemberCertification, day: date) -> CertificationStatus:
    """Current until the deadline, then suspended, terminated after the type's whole years of suspension."""
    if day <= held.cycle_ends_on:
        return CertificationStatus.CURRENT
    if day < terminated_from(held):
        return CertificationStatus.SUSPENDED
    return CertificationStatus.TERMINATED


_SEVERITY = [CertificationStatus.CURRENT, CertificationStatus.SUSPENDED, CertificationStatus.TERMINATED]


def required_award(held: MemberCertification,
                   awards: list[MemberCertification] | None = None) -> MemberCertification | None:
    """The latest award of the certification this one requires (CFPIM: CPIM), if it requires one.

    `awards`: every certification of the member, when the caller has them (the transcript): no query then.
    """
    if held.certification_type.requires_type_id is None:
        return None
    if awards is not None:
        return max((a for a in awards if a.member_id == held.member_id
                    and a.certification_type_id == held.certification_type.requires_type_id),
                   key=lambda a: (a.earned_on, a.id), default=None)
    return db.session.scalar(sa.select(MemberCertification).where(
        MemberCertification.member_id == held.member_id,
        MemberCertification.certification_type_id == held.certification_type.requires_type_id)
        .order_by(MemberCertification.earned_on.desc(), MemberCertification.id.desc()).limit(1))


def status_of(held: MemberCertification, day: date,
              awards: list[MemberCertification] | None = None) -> CertificationStatus:
    """The certification's standing; one that requires another (CFPIM on CPIM) is no better than it."""
    status = own_status(held, day)
    if held.certification_type.requires_type_id is not None:
        base = required_award(held, awards)
        base_status = own_status(base, day) if base is not None else CertificationStatus.SUSPENDED
        status = max(status, base_status, key=_SEVERITY.index)
    return status


def status_reason(held: MemberCertification, day: date) -> str | None:
    """Why a certification that requires another is not current although its own deadline is kept."""
    if held.certification_type.requires_type_id is None or own_status(held, day) is not CertificationStatus.CURRENT:
        return None
    base = required_award(held)
    required = held.certification_type.requires_type
    if base is None:
        return f"It requires a current {required.code}, which is not held."
    base_status = own_status(base, day)
    if base_status is CertificationStatus.CURRENT:
        return None
    return f"It requires a current {required.code}, which is {base_status.value}."


def years_suspended(held: MemberCertification, day: date) -> int:
    """Whole years of suspension on `day`, counted from month ends."""
    years = 0
    while suspension_year_ends(held, years + 1) < day:
        years += 1
    return years


def points_required(held: MemberCertification, day: date, awards: list[MemberCertification] | None = None) -> int:
    """The cycle's points plus, when suspended, the reinstatement points for each whole year suspended."""
    required = held.certification_type.points_required
    if status_of(held, day, awards) is CertificationStatus.SUSPENDED:
        required += held.certification_type.reinstatement_points_per_year * years_suspended(held, day)
    return required


def member_holds_certification(member_id: sa.ColumnElement, code: str) -> sa.ColumnElement[bool]:
    """SQL condition: the member holds a current certification `code` today (for roster filters).

    A certification that requires another (CFPIM) counts only while that one is current too.
    """
    day = today()
    certification_type = db.session.scalar(sa.select(CertificationType).where(CertificationType.code == code.upper()))
    if certification_type is None:
        return sa.false()
    held = sa.orm.aliased(MemberCertification)
    condition = sa.exists().where(held.member_id == member_id, held.cycle_ends_on >= day,
                                  held.certification_type_id == certification_type.id)
    if certification_type.requires_type_id is not None:
        base = sa.orm.aliased(MemberCertification)
        condition = sa.and_(condition, sa.exists().where(
            base.member_id == member_id, base.cycle_ends_on >= day,
            base.certification_type_id == certification_type.requires_type_id))
    return condition


def certifications_of(member: Member) -> list[MemberCertification]:
    return list(db.session.scalars(sa.select(MemberCertification).where(MemberCertification.member_id == member.id)
                                   .options(joinedload(MemberCertification.certification_type))
                                   .order_by(MemberCertification.earned_on)))
