"""Hand-written factories: each makes one realistic object and flushes it."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from chapter.auth.models import User
from chapter.chapters.models import Chapter, District, DistrictManagerTerm, OfficerPosition, OfficerTerm
from chapter.core.models import today
from chapter.seed.reference import ensure_reference_data
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member, MembershipType, TermSource

DEFAULT_PASSWORD = "correct-horse-42"
_PASSWORD_HASH = generate_password_hash(DEFAULT_PASSWORD)  # hashed once: scrypt is slow on purpose
_sequence = itertools.count(1)


def reference_data() -> None:
    ensure_reference_data()


def district(code: str | None = None) -> District:
    reference_data()
    if code is None:
        return db.session.scalars(sa.select(District).order_by(District.id)).first()
    return db.session.scalar(sa.select(District).where(District.code == code))


def chapter(number: int | None = None, *, district_code: str = "MA", name: str | None = None, **fields) -> Chapter:
    n = number or 100 + next(_sequence)
    fields = {"city": "Reading", "region": "PA", **fields}
    made = Chapter(number=n, name=name or f"Chapter {n}", district_id=district(district_code).id,
                   dues_share_cents=3500, **fields)
    db.session.add(made)
    db.session.flush()
    return made


def user(email: str | None = None, *, name: str = "Pat Person", is_staff: bool = False) -> User:
    made = User(email=email or f"user{next(_sequence)}@example.org", name=name,
                password_hash=_PASSWORD_HASH, is_staff=is_staff)
    db.session.add(made)
    db.session.flush()
    return made


def membership_type(code: str = "professional") -> MembershipType:
    reference_data()
    return db.session.scalar(sa.select(MembershipType).where(MembershipType.code == code))


def member(
    *, home: Chapter | None = None, status: str = "active", first_name: str = "Alex", last_name: str | None = None,
    email: str | None = None, with_user: bool = False, type_code: str = "professional", **profile,
) -> Member:
    """A member whose terms give them `status` today: active, grace, lapsed or pending."""
    n = next(_sequence)
    email = email or f"member{n}@example.org"
    login = user(email, name=f"{first_name} {last_name or 'Member'}") if with_user else None
    made = member_services.create_member(
        first_name=first_name, last_name=last_name or f"Member{n}", email=email,
        home_chapter_id=home.id if home else None, actor=None, user=login, **profile,
    )
    day = today()
    starts = {
        "active": day - timedelta(days=100),
        "grace": day - timedelta(days=375),      # ended 10 days ago, grace is 30 days
        "lapsed": day - timedelta(days=800),
    }
    if status in starts:
        member_services.grant_term(made, membership_type(type_code), starts_on=starts[status],
                                   source=TermSource.PAYMENT, actor=None)
    elif status != "pending":
        raise ValueError(status)
    return made


def position(code: str) -> OfficerPosition:
    reference_data()
    return db.session.scalar(sa.select(OfficerPosition).where(OfficerPosition.code == code))


def officer(of: Chapter, code: str = "president", *, holder: User | None = None,
            starts_on: date | None = None, ends_on: date | None = None) -> User:
    holder = holder or user(name=f"{code.replace('_', ' ').title()} of {of.number}")
    db.session.add(OfficerTerm(chapter=of, user=holder, position=position(code),
                               starts_on=starts_on or today() - timedelta(days=30), ends_on=ends_on))
    db.session.flush()
    return holder


def district_manager(of: District, *, holder: User | None = None) -> User:
    holder = holder or user(name=f"Manager of {of.name}")
    db.session.add(DistrictManagerTerm(district=of, user=holder, starts_on=today() - timedelta(days=30)))
    db.session.flush()
    return holder


def staff() -> User:
    return user(name="Sam Staff", is_staff=True)
