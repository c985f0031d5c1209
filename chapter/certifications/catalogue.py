"""The exam catalogue and certification rules every installation starts with (DOMAIN.md figures).

All of it is data that staff can edit afterwards; `ensure_catalogue` only adds what is missing.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from chapter.certifications.models import (
    Benefit, CertificationType, Exam, ExamProgram, PointCategory, PointKind, membership_type_benefits,
)
from chapter.extensions import db

# code, name, prefix, points, teaching cap %, reinstatement points per year, by application, sort
CERTIFICATION_TYPES = [
    ("CPIM", "Certified in Planning and Inventory Management", "CPIM", 75, 60, 15, False, 10),
    ("CSCP", "Certified Supply Chain Professional", "CSCP", 75, 60, 15, False, 20),
    ("CLTD", "Certified in Logistics, Transportation and Distribution", "CLTD", 75, 60, 15, False, 30),
    ("CFPIM", "Certified Fellow in Production and Inventory Management", "CFPIM", 100, 80, 20, True, 40),
]

# code, name, certification, window in months (None: single exam), window applies to passes from, sort
PROGRAMS = [
    ("CPIM5", "CPIM (five modules)", "CPIM", 120, date(2013, 1, 1), 10),  # "From 2013 a passed module stays valid 10 years"
    ("CPIM2", "CPIM (two parts)", "CPIM", 36, None, 20),
    ("CSCP", "CSCP", "CSCP", None, None, 30),
    ("CLTD", "CLTD", "CLTD", None, None, 40),
]

# code, name, program, member fee, non-member fee, min, max, pass, from, until, point category, eligibility, sort
EXAMS = [
    ("BSCM", "Basics of Supply Chain Management", "CPIM5", 12000, 15500, 265, 330, 300, date(2000, 1, 1), date(2018, 12, 31), "cpim_exam", False, 10),
    ("MPR", "Master Planning of Resources", "CPIM5", 12000, 15500, 265, 330, 300, date(2000, 1, 1), date(2018, 12, 31), "cpim_exam", False, 20),
    ("DSP", "Detailed Scheduling and Planning", "CPIM5", 12000, 15500, 265, 330, 300, date(2000, 1, 1), date(2018, 12, 31), "cpim_exam", False, 30),
    ("ECO", "Execution and Control of Operations", "CPIM5", 12000, 15500, 265, 330, 300, date(2000, 1, 1), date(2018, 12, 31), "cpim_exam", False, 40),
    ("SMR", "Strategic Management of Resources", "CPIM5", 12000, 15500, 265, 330, 300, date(2000, 1, 1), date(2018, 12, 31), "cpim_exam", False, 50),
    ("CPIM-P1", "CPIM Part 1", "CPIM2", 12000, 15500, 200, 350, 300, date(2017, 1, 1), None, "cpim_exam", False, 60),
    ("CPIM-P2", "CPIM Part 2", "CPIM2", 12000, 15500, 200, 350, 300, date(2017, 1, 1), None, "cpim_exam", False, 70),
    ("CSCP", "CSCP exam", "CSCP", 12000, 15500, 200, 350, 300, date(2005, 1, 1), None, "cscp_exam", True, 80),
    ("CLTD", "CLTD exam", "CLTD", 12000, 15500, 200, 350, 300, date(2016, 1, 1), None, None, False, 90),
]

# code, name, points per unit, unit, teaching-type, kind, sort. Membership and exam points come only
# from the terms and the recorded results; the others are claimed with evidence and approved.
POINT_CATEGORIES = [
    ("membership", "Association membership", 6, "year", False, PointKind.MEMBERSHIP, 10),
    ("conference", "Association conference", 24, "event", False, PointKind.EDUCATION, 20),
    ("education", "Webinars and other education", 1, "hour", False, PointKind.EDUCATION, 30),
    ("cpim_exam", "CPIM exam passed", 10, "exam", False, PointKind.EXAM, 40),
    ("cscp_exam", "CSCP exam passed", 20, "exam", False, PointKind.EXAM, 50),
    ("teaching", "Teaching or presenting", 2, "hour", True, PointKind.PRESENTATION, 60),
    ("article", "Article published", 2, "article", True, PointKind.PUBLICATION, 70),
    ("research", "Original research", 5, "project", True, PointKind.PUBLICATION, 80),
]

# code, name, sort, membership types that include it
BENEFITS = [
    ("magazine", "APICS magazine subscription", 10, ("professional", "student", "retired", "honorary_chapter", "honorary", "lifetime", "corporate_seat")),
    ("dictionary", "APICS Dictionary", 20, ("professional", "student", "retired", "honorary_chapter", "honorary", "lifetime", "corporate_seat")),
    ("ombok", "Operations Management Body of Knowledge (OMBOK) framework", 30, ("professional", "retired", "honorary", "lifetime", "corporate_seat")),
    ("learning_center", "Learning center access", 40, ("professional", "student", "lifetime", "corporate_seat")),
    ("member_exam_prices", "Member exam prices", 50, ("professional", "student", "retired", "honorary_chapter", "honorary", "lifetime", "corporate_seat")),
    ("chapter_events", "Local chapter events", 60, ("professional", "student", "retired", "honorary_chapter", "honorary", "lifetime", "corporate_seat")),
]


def ensure_catalogue() -> None:
    """Add the standard certifications, programs, exams, point categories and benefits that are missing."""
    types = {t.code: t for t in db.session.scalars(sa.select(CertificationType))}
    for code, name, prefix, points, cap, reinstate, by_application, sort in CERTIFICATION_TYPES:
        if code not in types:
            types[code] = CertificationType(code=code, name=name, number_prefix=prefix, points_required=points,
                                            teaching_cap_percent=cap, reinstatement_points_per_year=reinstate,
                                            awarded_by_application=by_application, sort_order=sort)
            db.session.add(types[code])
    db.session.flush()
    if types["CFPIM"].requires_type_id is None and types["CFPIM"].application_points_required is None:
        types["CFPIM"].requires_type_id = types["CPIM"].id
        types["CFPIM"].application_points_required = 100  # unconfirmed in DOMAIN.md: configurable
        types["CFPIM"].application_exam_points_cap = 75
        types["CFPIM"].application_presentation_points_cap = 40
        types["CFPIM"].application_presentation_years = 3
    programs = {p.code: p for p in db.session.scalars(sa.select(ExamProgram))}
    for code, name, certification, window, window_from, sort in PROGRAMS:
        if code not in programs:
            programs[code] = ExamProgram(code=code, name=name, certification_type=types[certification],
                                         window_months=window, window_applies_from=window_from, sort_order=sort)
            db.session.add(programs[code])
    db.session.flush()
    existing = set(db.session.scalars(sa.select(PointCategory.code)))
    for code, name, per_unit, unit, teaching, kind, sort in POINT_CATEGORIES:
        if code not in existing:
            db.session.add(PointCategory(code=code, name=name, points_per_unit=per_unit, unit=unit,
                                         is_teaching=teaching, kind=kind, sort_order=sort))
    db.session.flush()
    categories = {c.code: c for c in db.session.scalars(sa.select(PointCategory))}
    existing = set(db.session.scalars(sa.select(Exam.code)))
    for code, name, program, fee, non_fee, low, high, mark, start, until, points, eligibility, sort in EXAMS:
        if code not in existing:
            db.session.add(Exam(code=code, name=name, program=programs[program], member_fee_cents=fee,
                                non_member_fee_cents=non_fee, score_min=low, score_max=high, pass_score=mark,
                                available_from=start, available_until=until, point_category=categories.get(points),
                                requires_eligibility=eligibility, sort_order=sort))
    existing_benefits = {b.code for b in db.session.scalars(sa.select(Benefit))}
    from chapter.members.models import MembershipType

    type_ids = dict(db.session.execute(sa.select(MembershipType.code, MembershipType.id)).all())
    for code, name, sort, type_codes in BENEFITS:
        if code in existing_benefits:
            continue
        benefit = Benefit(code=code, name=name, sort_order=sort)
        db.session.add(benefit)
        db.session.flush()
        rows = [{"membership_type_id": type_ids[t], "benefit_id": benefit.id} for t in type_codes if t in type_ids]
        if rows:
            db.session.execute(membership_type_benefits.insert(), rows)
    db.session.flush()
