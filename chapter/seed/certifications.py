"""The certifications feature's seed: the exam catalogue (reference), members at every exam stage (demo)."""
from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.members.models import Member
from chapter.members.services import add_months
from chapter.seed.bulk import insert_rows
from chapter.seed.members import DEMO_DOMAIN


def ensure_certification_catalogue() -> None:
    """Add the standard exams, certification types and point categories that are missing."""
    from chapter.certifications.catalogue import ensure_catalogue

    ensure_catalogue()


def seed_demo_certifications(rng: random.Random, day: date, share: float = 0.08) -> dict[str, int]:
    """Members at every exam and certification stage: ATT bought, part passed, failed, certified (current,
    due for maintenance, suspended, terminated), with points. Bulk inserts only."""
    from chapter.certifications.models import (
        CertificationType, Exam, ExamRegistration, ExamResult, MemberCertification, PointCategory, PointEntry,
    )
    from chapter.certifications.services import cycle_end_for
    from chapter.core.sequences import reserve_numbers

    exams = {e.code: e for e in db.session.scalars(sa.select(Exam))}
    types = {t.code: t for t in db.session.scalars(sa.select(CertificationType))}
    categories = {c.code: c for c in db.session.scalars(sa.select(PointCategory))}
    if not exams:
        return {}
    member_ids = db.session.scalars(sa.select(Member.id).order_by(Member.id)).all()
    demo_member = db.session.scalar(sa.select(Member.id).where(Member.email == f"member@{DEMO_DOMAIN}"))
    chosen = [m for m in member_ids if rng.random() < share and m != demo_member]
    stages = ["bought", "part1", "failed", "current", "due", "suspended", "terminated", "cscp"]
    now = utcnow()
    registrations, results, held, points = [], [], [], []

    def attempt(member_id, code, taken_on, score):
        results.append(dict(member_id=member_id, exam_id=exams[code].id, taken_on=taken_on, score=score,
                            passed=score >= exams[code].pass_score, recorded_at=now))
        if score >= exams[code].pass_score and exams[code].point_category_id:
            category = db.session.get(PointCategory, exams[code].point_category_id)
            points.append(dict(member_id=member_id, category_id=category.id, earned_on=taken_on, units=1,
                               points=category.points_per_unit, description=f"{exams[code].name} passed", automatic=True))

    def certify(member_id, code, earned_on):
        held.append(dict(member_id=member_id, certification_type_id=types[code].id, earned_on=earned_on,
                         cycle_ends_on=cycle_end_for(types[code], earned_on), created_at=now, updated_at=now))

    plan = [(demo_member, "current")] if demo_member else []
    plan += [(member_id, stages[index % len(stages)]) for index, member_id in enumerate(chosen)]
    for member_id, stage in plan:
        if stage == "bought":
            issued = day - timedelta(days=rng.randint(1, 120))
            registrations.append(dict(member_id=member_id, exam_id=exams["CPIM-P1"].id, price_cents=12000, currency="USD",
                                      member_price=True, att_code=f"ATT-DEMO{member_id:06d}", issued_on=issued,
                                      expires_on=add_months(issued, 6), created_at=now, updated_at=now))
        elif stage == "part1":
            attempt(member_id, "CPIM-P1", day - timedelta(days=rng.randint(30, 700)), rng.randint(300, 350))
        elif stage == "failed":
            attempt(member_id, "CPIM-P2", day - timedelta(days=rng.randint(1, 40)), rng.randint(200, 299))
        elif stage == "cscp":
            attempt(member_id, "CSCP", day - timedelta(days=rng.randint(30, 900)), rng.randint(300, 350))
            certify(member_id, "CSCP", results[-1]["taken_on"])
        else:
            years_ago = {"current": rng.randint(1, 3), "due": 5, "suspended": rng.randint(6, 9), "terminated": 11}[stage]
            first = day - timedelta(days=365 * years_ago + rng.randint(0, 150)) - timedelta(days=400)
            if stage == "due":
                first = add_months(day, -60) + timedelta(days=rng.randint(20, 120)) - timedelta(days=400)
            attempt(member_id, "CPIM-P1", first, rng.randint(300, 350))
            attempt(member_id, "CPIM-P2", first + timedelta(days=400), rng.randint(300, 350))
            certify(member_id, "CPIM", first + timedelta(days=400))
            for _ in range(rng.randint(1, 4)):
                points.append(dict(member_id=member_id, category_id=categories["education"].id,
                                   earned_on=first + timedelta(days=rng.randint(420, 1500)), units=8, points=8,
                                   description="Webinar series", automatic=False))
    by_type: dict[int, list[dict]] = {}
    for row in held:
        by_type.setdefault(row["certification_type_id"], []).append(row)
    for type_id, rows in by_type.items():
        certification_type = next(t for t in types.values() if t.id == type_id)
        start = reserve_numbers(f"certificate_{certification_type.code}", len(rows), start=100001)
        for offset, row in enumerate(rows):
            row["certificate_number"] = f"{certification_type.number_prefix}-{start + offset}"
    for model, rows in ((ExamRegistration, registrations), (ExamResult, results), (MemberCertification, held),
                        (PointEntry, points)):
        insert_rows(model.__table__, rows)  # COPY on PostgreSQL
    return {"exam_results": len(results), "certifications": len(held), "registrations": len(registrations)}
