"""Demo and scale data: districts, numbered chapters, officers, members in every status, demo log-ins.

This module orchestrates; each feature's part lives in a module of its own beside it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from chapter.auth.models import User
from chapter.chapters.models import Chapter, District, DistrictManagerTerm, OfficerPosition
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member, MembershipType
from chapter.seed.certifications import seed_demo_certifications
from chapter.seed.chapters import seed_demo_chapters, seed_demo_officers
from chapter.seed.events import seed_demo_events
from chapter.seed.members import DEMO_DOMAIN, FIRST_NAMES, LAST_NAMES, seed_demo_members
from chapter.seed.reference import ensure_reference_data
from chapter.seed.treasury import seed_demo_treasury_month

DEMO_PASSWORD = "demo-password-2026"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    what: str


DEMO_LOGINS = [
    DemoLogin("Member", f"member@{DEMO_DOMAIN}", "an active member of chapter #1, due to renew"),
    DemoLogin("Chapter president", f"president@{DEMO_DOMAIN}", "president of chapter #1: roster, officers, treasury"),
    DemoLogin("Chapter treasurer", f"treasurer@{DEMO_DOMAIN}", "treasurer of chapter #1: treasury, roster, notes"),
    DemoLogin("District manager", f"district@{DEMO_DOMAIN}", "manager of chapter #1's district"),
    DemoLogin("National staff", f"staff@{DEMO_DOMAIN}", "everything"),
]

class SeedRefused(Exception):
    """The database already holds data and --reset was not given."""


def database_has_data() -> bool:
    """True when any chapter, member or user exists."""
    return any(
        db.session.scalar(sa.select(sa.exists().where(model.id.is_not(None))))
        for model in (Chapter, Member, User)
    )


def reset_database() -> None:
    """Delete every row of every table (the schema stays)."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "alembic_version":
            db.session.execute(table.delete())
    db.session.flush()


def seed_demo(
    *, members: int = 2000, chapters: int = 30, reset: bool = False, seed: int = 2026,
    progress: Callable[[int], None] | None = None, password: str = DEMO_PASSWORD,
) -> dict[str, int]:
    """Create demo data; refuses a database with data unless `reset`. Returns counts.

    `password` is every demo account's; the command line passes a random one on production settings,
    so the published demo password never exists there."""
    if database_has_data():
        if not reset:
            raise SeedRefused("The database already has data. Use --reset to delete it and seed again.")
        reset_database()
    rng = random.Random(seed)
    day = today()
    ensure_reference_data()
    report = progress or (lambda n: None)
    password_hash = generate_password_hash(password)

    chapter_rows = seed_demo_chapters(rng, chapters)
    types = {t.code: t for t in db.session.scalars(sa.select(MembershipType))}
    positions = {p.code: p for p in db.session.scalars(sa.select(OfficerPosition))}

    staff = User(email=f"staff@{DEMO_DOMAIN}", name="Sam Staff", password_hash=password_hash, is_staff=True)
    district_manager = User(email=f"district@{DEMO_DOMAIN}", name="Dana District", password_hash=password_hash)
    db.session.add_all([staff, district_manager])
    db.session.flush()
    first_chapter = chapter_rows[0]
    db.session.add(DistrictManagerTerm(district_id=first_chapter.district_id, user=district_manager,
                                       starts_on=day - timedelta(days=400)))
    other_districts = db.session.scalars(sa.select(District).where(District.id != first_chapter.district_id)).all()
    for index, district in enumerate(other_districts):
        manager = User(email=f"district{index + 2}@{DEMO_DOMAIN}", name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                       password_hash=password_hash)
        db.session.add(manager)
        db.session.add(DistrictManagerTerm(district=district, user=manager, starts_on=day - timedelta(days=200)))

    created = seed_demo_members(rng, members, chapter_rows, types, day, report)
    seed_demo_officers(rng, chapter_rows, positions, types, password_hash, day)
    seed_demo_treasury_month(rng, day)
    seed_demo_certifications(rng, day)
    from chapter.seed.api import seed_demo_api_tokens

    seed_demo_api_tokens(day)
    seed_demo_events(rng, day)
    db.session.flush()
    return {"chapters": len(chapter_rows), "members": created + 2 * len(chapter_rows)}
