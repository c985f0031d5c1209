"""Maintenance, reinstatement, fellowship (CFPIM) and eligibility (CSCP) applications."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.extensions import db
from chapter.certifications.models import (
    ApplicationStatus, CertificationApplication, CertificationStatus, CertificationType, Exam, ExamEligibility,
    ExamProgram, MemberCertification,
)
from chapter.members.models import Member
from chapter.members.services import add_months
from chapter.certifications.awards import grant_certification, latest_awards, own_status, status_of
from chapter.certifications.dates import end_of_month
from chapter.certifications.points import fellowship_points, points_summary

if TYPE_CHECKING:
    from chapter.auth.models import User


def submit_maintenance(held: MemberCertification, *, day: date) -> CertificationApplication:
    """The member applies to maintain (or reinstate) a certification with the points of the cycle."""
    if own_status(held, day) is CertificationStatus.TERMINATED:
        raise DomainError("This certification was terminated: the exams must be taken again.")
    pending = db.session.scalar(sa.select(CertificationApplication.id).where(
        CertificationApplication.member_certification_id == held.id,
        CertificationApplication.status == ApplicationStatus.SUBMITTED))
    if pending:
        raise DomainError("An application is already waiting for review.")
    summary = points_summary(held, day)
    if summary.missing:
        raise DomainError(f"{summary.counted} points count towards the {summary.required} needed: "
                          f"{summary.missing} more are needed.")
    application = CertificationApplication(
        member_id=held.member_id, certification_type_id=held.certification_type_id, member_certification_id=held.id,
        kind="maintenance", submitted_on=day, points_counted=summary.counted, membership_points=summary.membership,
        membership_points_through=summary.membership_through)
    application.points_used = list(summary.entries)  # these cannot count for the next application
    db.session.add(application)
    db.session.flush()
    return application


def approve_application(application: CertificationApplication, *, actor: User, day: date) -> CertificationApplication:
    """Staff approve: a maintenance application extends the deadline by a cycle; a fellowship one awards CFPIM."""
    if application.status is not ApplicationStatus.SUBMITTED:
        raise DomainError("This application was already reviewed.")
    application.status = ApplicationStatus.APPROVED
    application.reviewed_by_id = actor.id
    application.reviewed_on = day
    if application.kind == "maintenance":
        held = application.member_certification
        before = held.cycle_ends_on
        cycle = 12 * held.certification_type.cycle_years
        new_end = end_of_month(add_months(held.cycle_ends_on, cycle))
        # Reinstated after a suspension: the next deadline lies ahead (one on the day of approval would suspend the
        # certification again the next morning).
        while new_end <= day:
            new_end = end_of_month(add_months(new_end, cycle))
        held.cycle_ends_on = new_end
        audit.record("certification.maintained", actor=actor, member_id=held.member_id,
                     summary=f"{held.certificate_number} maintained until {new_end:%Y-%m-%d}",
                     before={"cycle_ends_on": before}, after={"cycle_ends_on": new_end})
    elif application.kind == "eligibility":
        exams = db.session.scalars(sa.select(Exam).join(Exam.program).where(
            ExamProgram.certification_type_id == application.certification_type_id,
            Exam.requires_eligibility.is_(True))).all()
        already = eligible_exam_ids(application.member)
        for exam in exams:
            if exam.id not in already:
                db.session.add(ExamEligibility(member_id=application.member_id, exam_id=exam.id, approved_on=day,
                                               approved_by_id=actor.id))
        audit.record("exam.eligibility_approved", actor=actor, member_id=application.member_id,
                     summary=f"Eligible for {application.certification_type.code} ({application.note})")
    else:
        grant_certification(application.member, application.certification_type, day, actor=actor)
    db.session.flush()
    return application


def reject_application(application: CertificationApplication, *, actor: User, day: date) -> None:
    """Staff reject an application."""
    if application.status is not ApplicationStatus.SUBMITTED:
        raise DomainError("This application was already reviewed.")
    application.status = ApplicationStatus.REJECTED
    application.reviewed_by_id = actor.id
    application.reviewed_on = day
    db.session.flush()


def submit_fellowship(member: Member, recommended_by: str, *, day: date) -> CertificationApplication:
    """A current CPIM holder applies for CFPIM with capped exam and presentation points and a CFPIM's recommendation."""
    fellow = db.session.scalar(sa.select(CertificationType).where(CertificationType.awarded_by_application.is_(True)))
    base = latest_awards(member.id).get(fellow.requires_type_id)
    if base is None or status_of(base, day) is not CertificationStatus.CURRENT:
        raise DomainError(f"A current {fellow.requires_type.code} is needed to apply.")
    recommender = db.session.scalar(sa.select(MemberCertification).where(
        MemberCertification.certificate_number == recommended_by.strip().upper(),
        MemberCertification.certification_type_id == fellow.id))
    if recommender is None or status_of(recommender, day) is not CertificationStatus.CURRENT:
        raise DomainError(f"Enter the certificate number of a current {fellow.code} holder.", field="recommended_by")
    if recommender.member_id == member.id:
        raise DomainError("The recommendation must come from another CFPIM holder.", field="recommended_by")
    points = fellowship_points(member, fellow, day)
    required = fellow.application_points_required or 0
    if points.total < required:
        raise DomainError(f"{points.total} points count towards the {required} needed (CPIM exams {points.exams}, "
                          f"presentations {points.presentations}, publications {points.publications}).")
    application = CertificationApplication(member_id=member.id, certification_type_id=fellow.id, kind="fellowship",
                                           submitted_on=day, points_counted=points.total,
                                           recommended_by=recommender.certificate_number)
    application.points_used = list(points.entries)
    db.session.add(application)
    db.session.flush()
    return application


ELIGIBILITY_BASES = {"degree": "Bachelor's degree or equivalent", "experience": "3 years' related business experience",
                     "certified": "Holds CPIM, CSCP, CLTD or another recognised designation"}


def eligible_exam_ids(member: Member) -> set[int]:
    """Exams needing eligibility that the member was approved for."""
    return set(db.session.scalars(sa.select(ExamEligibility.exam_id).where(ExamEligibility.member_id == member.id)))


def submit_eligibility(member: Member, exam: Exam, basis: str, *, day: date) -> CertificationApplication:
    """Apply to be allowed to buy an exam that needs eligibility (CSCP): a degree or 3 years' experience."""
    if not exam.requires_eligibility or exam.id in eligible_exam_ids(member):
        raise DomainError(f"No eligibility application is needed for {exam.name}.")
    if basis not in ELIGIBILITY_BASES:
        raise DomainError("Choose the basis of your application.", field="basis")
    certification_type_id = exam.program.certification_type_id
    if db.session.scalar(sa.select(CertificationApplication.id).where(
            CertificationApplication.member_id == member.id, CertificationApplication.kind == "eligibility",
            CertificationApplication.certification_type_id == certification_type_id,
            CertificationApplication.status == ApplicationStatus.SUBMITTED)):
        raise DomainError("Your eligibility application is waiting for review.")
    application = CertificationApplication(member_id=member.id, certification_type_id=certification_type_id,
                                           kind="eligibility", submitted_on=day, note=ELIGIBILITY_BASES[basis])
    db.session.add(application)
    db.session.flush()
    return application


def pending_applications() -> list[CertificationApplication]:
    return list(db.session.scalars(sa.select(CertificationApplication).where(
        CertificationApplication.status == ApplicationStatus.SUBMITTED)
        .options(joinedload(CertificationApplication.member), joinedload(CertificationApplication.certification_type))
        .order_by(CertificationApplication.submitted_on)))
