"""The members feature's seed: membership types (reference), members in every status (demo)."""
from __future__ import annotations

import functools
import itertools
import random
from datetime import date, timedelta

import sqlalchemy as sa

from chapter.chapters.models import ChapterTransfer
from chapter.core.models import FOREVER, utcnow
from chapter.extensions import db
from chapter.members.models import Member, MembershipKind, MembershipTerm, MembershipType, TermSource
from chapter.members.search import member_search_text
from chapter.members.services import add_months, next_member_numbers
from chapter.seed.bulk import indexes_deferred, insert_rows, reserve_ids

DEMO_DOMAIN = "example.org"

# Prices and shares are unconfirmed in DOMAIN.md: starting figures, editable by staff.
MEMBERSHIP_TYPES = [
    dict(code="professional", name="Professional", kind=MembershipKind.INDIVIDUAL, join_price_cents=21000,
         renewal_price_cents=21000, chapter_share_cents=3500, term_months=12, sort_order=10,
         description="Full association and chapter membership."),
    dict(code="student", name="Student", kind=MembershipKind.STUDENT, join_price_cents=4500,
         renewal_price_cents=4500, chapter_share_cents=1000, term_months=12, sort_order=20,
         description="For full-time students."),
    dict(code="retired", name="Retired", kind=MembershipKind.RETIRED, join_price_cents=9500,
         renewal_price_cents=9500, chapter_share_cents=2000, term_months=12, sort_order=30,
         eligibility_min_age=62, description="For members aged 62 or more who have retired."),
    dict(code="honorary_chapter", name="Honorary Chapter", kind=MembershipKind.HONORARY, join_price_cents=17500,
         renewal_price_cents=17500, chapter_share_cents=0, term_months=12, sort_order=40, is_public=False,
         description="Named by a chapter; billed only the association's portion."),
    dict(code="honorary", name="Honorary", kind=MembershipKind.HONORARY, join_price_cents=0,
         renewal_price_cents=0, chapter_share_cents=0, term_months=12, sort_order=50, is_public=False,
         is_invoiced=False, description="Granted by staff; never invoiced."),
    dict(code="lifetime", name="Lifetime", kind=MembershipKind.LIFETIME, join_price_cents=0,
         renewal_price_cents=0, chapter_share_cents=0, term_months=None, sort_order=60, is_public=False,
         is_invoiced=False, description="Granted by staff; never ends, never invoiced."),
    dict(code="corporate_seat", name="Corporate seat", kind=MembershipKind.CORPORATE_SEAT, join_price_cents=18500,
         renewal_price_cents=18500, chapter_share_cents=3500, term_months=12, sort_order=70, is_public=False,
         min_seats=5, description="A named employee's seat in an organization's corporate membership."),
]



def ensure_membership_types() -> None:
    """Add the standard membership types that are missing."""
    existing = set(db.session.scalars(sa.select(MembershipType.code)))
    for fields in MEMBERSHIP_TYPES:
        if fields["code"] not in existing:
            db.session.add(MembershipType(**fields))


FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
    "Wei", "Priya", "Ahmed", "Fatima", "Hiroshi", "Yuki", "Olga", "Dmitri", "Amara", "Kwame", "Sofia",
    "Mateo", "Lucia", "Raj", "Ananya", "Chen", "Mei", "Luis", "Ana", "Pierre", "Chloé", "Zoë", "José",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Patel",
    "Kim", "Chen", "Singh", "Kowalski", "Müller", "O'Brien", "Dubois", "Tremblay", "Okafor",
]
EMPLOYERS = [
    "Acme Manufacturing", "Globex Logistics", "Initech Supply", "Umbrella Pharma", "Stark Industries",
    "Wayne Enterprises", "Cyberdyne Systems", "Hooli", "Vandelay Industries", "Soylent Foods",
    "Tyrell Corporation", "Wonka Industries", "Massive Dynamic", "Gringotts Freight", None,
]


def _pick_status(rng: random.Random) -> str:
    roll = rng.random()
    for status, cumulative in (("active", 0.70), ("grace", 0.78), ("lapsed", 0.93), ("pending", 0.97), ("free", 1.0)):
        if roll < cumulative:
            return status
    return "active"


def _term_rows(rng, member_id, status, types, day):
    """Terms that give a member `status` today: one to three consecutive yearly terms."""
    if status == "pending":
        return []
    if status == "free":
        membership_type = types[rng.choice(["honorary", "lifetime"])]
        start = day - timedelta(days=rng.randint(30, 3000))
        end = FOREVER if membership_type.term_months is None else add_months(start, 12) - timedelta(days=1)
        if end < day:
            end = add_months(day, 6)
        return [dict(member_id=member_id, membership_type_id=membership_type.id, starts_on=start, ends_on=end,
                     source=TermSource.STAFF_GRANT)]
    if status == "active":
        last_end = day + timedelta(days=rng.randint(0, 364))
    elif status == "grace":
        last_end = day - timedelta(days=rng.randint(1, 29))
    else:
        last_end = day - timedelta(days=rng.randint(31, 900))
    code = rng.choices(["professional", "student", "retired", "corporate_seat"], weights=[76, 10, 6, 8])[0]
    membership_type = types[code]
    rows = []
    end = last_end
    for _ in range(rng.choice([1, 1, 2, 3])):
        start = add_months(end + timedelta(days=1), -12)
        rows.append(dict(member_id=member_id, membership_type_id=membership_type.id, starts_on=start, ends_on=end,
                         source=TermSource.CORPORATE if code == "corporate_seat" else TermSource.PAYMENT))
        end = start - timedelta(days=1)
    return rows


def _chapter_weights(count: int) -> list[float]:
    # A few big chapters and a long tail, as real associations have.
    return [1.0 / (1 + index) ** 0.6 for index in range(count)]


def seed_demo_members(rng, count, chapters, types, day, report, batch_size=5000) -> int:
    """Bulk-load `count` members with terms that give each a status today; returns how many.

    Each batch is drawn in full first (members, then their terms: the same random draws, in the same
    order, as one row at a time), its primary keys reserved, and written with one COPY per table on
    PostgreSQL (chapter.seed.bulk), so a member row is written once, with its dates and search text."""
    first_number = next_member_numbers(count)
    weights = _chapter_weights(len(chapters))
    cumulative = list(itertools.accumulate(weights))
    grace_days_by_type = {t.id: t.grace_days for t in types.values()}
    now = utcnow()
    created = 0
    with indexes_deferred(Member.__table__, MembershipTerm.__table__, ChapterTransfer.__table__):
        for batch_start in range(0, count, batch_size):
            size = min(batch_size, count - batch_start)
            member_rows, statuses = [], []
            for offset in range(size):
                index = batch_start + offset
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                chapter = rng.choices(chapters, cum_weights=cumulative)[0]
                statuses.append(_pick_status(rng))
                member_rows.append(dict(
                    member_number=str(first_number + index), first_name=first, last_name=last,
                    email=f"{_ascii(first)}.{_ascii(last)}.{first_number + index}@{DEMO_DOMAIN}",
                    phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    address_line1=f"{rng.randint(1, 9999)} {rng.choice(['Main', 'Oak', 'Maple', 'Cedar', 'Elm'])} St",
                    city=chapter.city, region=chapter.region, postal_code=f"{rng.randint(10000, 99999)}",
                    country=chapter.country, employer=rng.choice(EMPLOYERS), home_chapter_id=chapter.id,
                    created_at=now, updated_at=now, joined_on=None, paid_through=None, grace_ends_on=None,
                    current_type_id=None,
                ))
            ids = reserve_ids(Member.__table__, size)
            term_rows, transfer_rows = [], []
            for member_id, row, status in zip(ids, member_rows, statuses):
                row["id"] = member_id
                terms = _term_rows(rng, member_id, status, types, day)
                for term in terms:
                    term.update(created_at=now, updated_at=now)
                term_rows.extend(terms)
                joined = min((t["starts_on"] for t in terms), default=day - timedelta(days=rng.randint(0, 60)))
                transfer_rows.append(dict(member_id=member_id, from_chapter_id=None, to_chapter_id=row["home_chapter_id"],
                                          effective_on=joined, recorded_at=now, reason="Joined"))
                if terms:
                    latest = max(terms, key=lambda t: t["ends_on"])
                    grace_days = grace_days_by_type[latest["membership_type_id"]]
                    grace = FOREVER if latest["ends_on"] == FOREVER else latest["ends_on"] + timedelta(days=grace_days)
                    row.update(joined_on=joined, paid_through=latest["ends_on"], grace_ends_on=grace,
                               current_type_id=latest["membership_type_id"])
                row["search_text"] = member_search_text(row["first_name"], row["last_name"], row["email"],
                                                        row["member_number"], row["employer"])
            insert_rows(Member.__table__, member_rows)
            insert_rows(MembershipTerm.__table__, term_rows)
            insert_rows(ChapterTransfer.__table__, transfer_rows)
            created += size
            report(size)
    return created


@functools.lru_cache(maxsize=None)
def _ascii(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalpha())


def seed_demo_member(user, first, last, chapter, membership_type, day, rng, start: date | None = None,
                     member_number: str | None = None, flush: bool = True) -> Member:
    """A member with one paid yearly term, linked to the log-in `user` (already written; the member is
    written at the next flush unless `flush`)."""
    start = start or day - timedelta(days=rng.randint(10, 300))
    end = add_months(start, 12) - timedelta(days=1)
    member = Member(member_number=member_number or str(next_member_numbers()), first_name=first, last_name=last,
                    email=user.email, user_id=user.id, home_chapter_id=chapter.id, city=chapter.city, region=chapter.region,
                    country=chapter.country, joined_on=start, paid_through=end,
                    grace_ends_on=end + timedelta(days=membership_type.grace_days), current_type_id=membership_type.id)
    db.session.add(member)
    db.session.add(MembershipTerm(member=member, membership_type_id=membership_type.id, starts_on=start,
                                  ends_on=end, source=TermSource.PAYMENT))
    db.session.add(ChapterTransfer(member=member, to_chapter_id=chapter.id, effective_on=start, reason="Joined"))
    if flush:
        db.session.flush()
    return member
