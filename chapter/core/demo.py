"""Demo and scale data: districts, numbered chapters, officers, members in every status, demo log-ins."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from chapter.auth.models import User
from chapter.chapters.models import Chapter, ChapterTransfer, District, DistrictManagerTerm, OfficerPosition, OfficerTerm
from chapter.core.models import FOREVER, today, utcnow
from chapter.core.reference import ensure_reference_data
from chapter.extensions import db
from chapter.members.models import Member, MembershipKind, MembershipTerm, MembershipType, TermSource
from chapter.members.services import add_months, next_member_numbers

DEMO_PASSWORD = "demo-password-2026"
DEMO_DOMAIN = "example.org"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    what: str


DEMO_LOGINS = [
    DemoLogin("Member", f"member@{DEMO_DOMAIN}", "an active member of chapter #1, due to renew"),
    DemoLogin("Chapter president", f"president@{DEMO_DOMAIN}", "president of chapter #1: roster, officers"),
    DemoLogin("Chapter treasurer", f"treasurer@{DEMO_DOMAIN}", "treasurer of chapter #1"),
    DemoLogin("District manager", f"district@{DEMO_DOMAIN}", "manager of chapter #1's district"),
    DemoLogin("National staff", f"staff@{DEMO_DOMAIN}", "everything"),
]

CITIES = [
    ("Schuylkill Valley", "PA"), ("Pittsburgh", "PA"), ("Central Penn", "PA"), ("Philadelphia", "PA"),
    ("Boston", "MA"), ("Hartford", "CT"), ("New York City", "NY"), ("Rochester", "NY"), ("Buffalo", "NY"),
    ("Cleveland", "OH"), ("Columbus", "OH"), ("Cincinnati", "OH"), ("Detroit", "MI"), ("Grand Rapids", "MI"),
    ("Chicago", "IL"), ("Milwaukee", "WI"), ("Indianapolis", "IN"), ("Louisville", "KY"), ("Nashville", "TN"),
    ("Atlanta", "GA"), ("Charlotte", "NC"), ("Raleigh-Durham", "NC"), ("Tampa Bay", "FL"), ("Orlando", "FL"),
    ("Miami", "FL"), ("Birmingham", "AL"), ("Dallas", "TX"), ("Houston", "TX"), ("Austin", "TX"),
    ("San Antonio", "TX"), ("Oklahoma City", "OK"), ("Kansas City", "MO"), ("St. Louis", "MO"), ("Omaha", "NE"),
    ("Des Moines", "IA"), ("Minneapolis", "MN"), ("Denver", "CO"), ("Phoenix", "AZ"), ("Tucson", "AZ"),
    ("Albuquerque", "NM"), ("Salt Lake City", "UT"), ("Las Vegas", "NV"), ("Los Angeles", "CA"),
    ("Orange County", "CA"), ("San Diego", "CA"), ("San Francisco", "CA"), ("Sacramento", "CA"),
    ("Portland", "OR"), ("Seattle", "WA"), ("Spokane", "WA"), ("Toronto", "ON"), ("Ottawa", "ON"),
    ("Montreal", "QC"), ("Calgary", "AB"), ("Edmonton", "AB"), ("Vancouver", "BC"), ("Winnipeg", "MB"),
    ("Halifax", "NS"), ("Baltimore", "MD"), ("Richmond", "VA"),
]
DISTRICT_BY_REGION = {
    "PA": "MA", "MD": "MA", "VA": "MA", "MA": "NE", "CT": "NE", "NY": "NE", "OH": "GL", "MI": "GL",
    "IL": "GL", "WI": "GL", "IN": "GL", "KY": "SE", "TN": "SE", "GA": "SE", "NC": "SE", "FL": "SE", "AL": "SE",
    "TX": "SW", "OK": "SW", "MO": "HL", "NE": "HL", "IA": "HL", "MN": "HL", "CO": "TG", "AZ": "TG", "NM": "TG",
    "UT": "TG", "NV": "PW", "CA": "PW", "OR": "PW", "WA": "PW", "ON": "CAN", "QC": "CAN", "AB": "CAN",
    "BC": "CAN", "MB": "CAN", "NS": "CAN",
}
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
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Create demo data; refuses a database with data unless `reset`. Returns counts."""
    if database_has_data():
        if not reset:
            raise SeedRefused("The database already has data. Use --reset to delete it and seed again.")
        reset_database()
    rng = random.Random(seed)
    day = today()
    ensure_reference_data()
    report = progress or (lambda n: None)
    password_hash = generate_password_hash(DEMO_PASSWORD)

    chapter_rows = _seed_chapters(rng, chapters)
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

    created = _seed_members(rng, members, chapter_rows, types, day, report)
    _seed_officers(rng, chapter_rows, positions, types, password_hash, day)
    _seed_treasury_month(rng, day)
    _seed_certifications(rng, day)
    db.session.flush()
    return {"chapters": len(chapter_rows), "members": created + 2 * len(chapter_rows)}


def _seed_chapters(rng: random.Random, count: int) -> list[Chapter]:
    districts = {d.code: d for d in db.session.scalars(sa.select(District))}
    rows = []
    numbers = [1] + rng.sample(range(2, max(400, count * 2)), count - 1)
    for index in range(count):
        city, region = CITIES[index % len(CITIES)]
        suffix = ["", " North", " South", " East", " West", " Metro", " Valley"][index // len(CITIES) % 7]
        if index >= len(CITIES) * 7:
            suffix = f" Area {index}"
        chapter = Chapter(
            number=numbers[index], name=f"{city}{suffix}", city=city, region=region,
            country="CA" if DISTRICT_BY_REGION[region] == "CAN" else "US",
            currency="CAD" if DISTRICT_BY_REGION[region] == "CAN" else "USD",
            district_id=districts[DISTRICT_BY_REGION[region]].id, dues_share_cents=3500,
        )
        rows.append(chapter)
    db.session.add_all(rows)
    db.session.flush()
    return rows


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


def _seed_members(rng, count, chapters, types, day, report, batch_size=5000) -> int:
    first_number = next_member_numbers(count)
    weights = _chapter_weights(len(chapters))
    grace_days_by_type = {t.id: t.grace_days for t in types.values()}
    now = utcnow()
    created = 0
    for batch_start in range(0, count, batch_size):
        size = min(batch_size, count - batch_start)
        member_rows, statuses = [], []
        for offset in range(size):
            index = batch_start + offset
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            chapter = rng.choices(chapters, weights=weights)[0]
            statuses.append(_pick_status(rng))
            member_rows.append(dict(
                member_number=str(first_number + index), first_name=first, last_name=last,
                email=f"{_ascii(first)}.{_ascii(last)}.{first_number + index}@{DEMO_DOMAIN}",
                phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                address_line1=f"{rng.randint(1, 9999)} {rng.choice(['Main', 'Oak', 'Maple', 'Cedar', 'Elm'])} St",
                city=chapter.city, region=chapter.region, postal_code=f"{rng.randint(10000, 99999)}",
                country=chapter.country, employer=rng.choice(EMPLOYERS), home_chapter_id=chapter.id,
                created_at=now, updated_at=now,
            ))
        ids = db.session.execute(
            sa.insert(Member).returning(Member.id, sort_by_parameter_order=True), member_rows
        ).scalars().all()
        term_rows, transfer_rows, member_updates = [], [], []
        for member_id, row, status in zip(ids, member_rows, statuses):
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
                member_updates.append(dict(b_id=member_id, joined_on=joined, paid_through=latest["ends_on"],
                                           grace_ends_on=grace, current_type_id=latest["membership_type_id"]))
        if term_rows:
            db.session.execute(sa.insert(MembershipTerm), term_rows)
        db.session.execute(sa.insert(ChapterTransfer), transfer_rows)
        if member_updates:
            db.session.connection().execute(
                sa.update(Member.__table__).where(Member.__table__.c.id == sa.bindparam("b_id")).values(
                    joined_on=sa.bindparam("joined_on"), paid_through=sa.bindparam("paid_through"),
                    grace_ends_on=sa.bindparam("grace_ends_on"), current_type_id=sa.bindparam("current_type_id"),
                ),
                member_updates,
            )
        created += size
        report(size)
    return created


def _ascii(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalpha())


def _seed_officers(rng, chapters, positions, types, password_hash, day) -> None:
    """Every chapter gets a president, treasurer, secretary and VP Membership; chapter #1 gets the demo log-ins."""
    professional = types["professional"]
    for chapter in chapters:
        for code in ("president", "treasurer", "secretary", "vp_membership"):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            is_demo = chapter is chapters[0] and code in ("president", "treasurer")
            email = f"{code}@{DEMO_DOMAIN}" if is_demo else f"{code}.{chapter.number}@{DEMO_DOMAIN}"
            user = User(email=email, name=f"{first} {last}", password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            if code in ("president", "treasurer"):
                _demo_member(user, first, last, chapter, professional, day, rng)
            db.session.add(OfficerTerm(chapter=chapter, user=user, position=positions[code],
                                       starts_on=day - timedelta(days=rng.randint(30, 300)),
                                       ends_on=add_months(day, 12)))
    member_user = User(email=f"member@{DEMO_DOMAIN}", name="Morgan Member", password_hash=password_hash)
    db.session.add(member_user)
    db.session.flush()
    # The demo member's term ends in three weeks, so renewing can be tried at once.
    _demo_member(member_user, "Morgan", "Member", chapters[0], professional, day, rng,
                 start=add_months(day + timedelta(days=21), -12) + timedelta(days=1))


def _demo_member(user, first, last, chapter, membership_type, day, rng, start: date | None = None) -> Member:
    start = start or day - timedelta(days=rng.randint(10, 300))
    end = add_months(start, 12) - timedelta(days=1)
    member = Member(member_number=str(next_member_numbers()), first_name=first, last_name=last, email=user.email,
                    user=user, home_chapter_id=chapter.id, city=chapter.city, region=chapter.region,
                    country=chapter.country, joined_on=start, paid_through=end,
                    grace_ends_on=end + timedelta(days=membership_type.grace_days), current_type_id=membership_type.id)
    db.session.add(member)
    db.session.flush()
    db.session.add(MembershipTerm(member_id=member.id, membership_type_id=membership_type.id, starts_on=start,
                                  ends_on=end, source=TermSource.PAYMENT))
    db.session.add(ChapterTransfer(member_id=member.id, to_chapter_id=chapter.id, effective_on=start, reason="Joined"))
    return member


def _seed_treasury_month(rng: random.Random, day: date, payments: int = 120) -> None:
    """Last month's money to reconcile: renewals paid by card, three refunds, their ledger entries,
    the Stripe balance transactions (with fees) and one payout that balances. Bulk inserts only."""
    from datetime import datetime

    from chapter.payments.models import Order, OrderPurpose, OrderStatus, Payment, PaymentStatus, Refund
    from chapter.treasury.models import LedgerEntry, LedgerKind, MatchStatus, StripeBalanceTransaction, StripePayout

    members = db.session.execute(sa.select(Member.id, Member.home_chapter_id, Chapter.dues_share_cents, Member.current_type_id)
                                 .join(Chapter, Member.home_chapter_id == Chapter.id).order_by(Member.id).limit(payments)).all()
    if not members:
        return
    price = {t.id: t.renewal_price_cents for t in db.session.scalars(sa.select(MembershipType))}
    first = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    now = utcnow()
    orders, plan = [], []
    for index, (member_id, chapter_id, share, type_id) in enumerate(members):
        amount = price.get(type_id) or 21000
        share = min(share, amount)
        paid_at = datetime.combine(first + timedelta(days=rng.randrange(27)), datetime.min.time()) + timedelta(hours=rng.randrange(8, 20))
        plan.append((member_id, chapter_id, amount, share, paid_at))
        orders.append(dict(purpose=OrderPurpose.RENEWAL, status=OrderStatus.PAID, member_id=member_id, chapter_id=chapter_id,
                           membership_type_id=type_id, currency="USD", total_cents=amount, association_share_cents=amount - share,
                           chapter_share_cents=share, description="Membership renewal (demo)", fulfilled_at=paid_at,
                           created_at=paid_at, updated_at=paid_at))
    order_ids = db.session.scalars(sa.insert(Order).returning(Order.id, sort_by_parameter_order=True), orders).all()
    payment_rows = [dict(order_id=order_id, status=PaymentStatus.SUCCEEDED, amount_cents=amount, currency="USD",
                         association_share_cents=amount - share, chapter_share_cents=share, chapter_id=chapter_id,
                         stripe_payment_intent_id=f"pi_demo_{order_id}", stripe_charge_id=f"ch_demo_{order_id}",
                         card_brand="visa", card_last4="4242", succeeded_at=paid_at, created_at=paid_at, updated_at=paid_at)
                    for order_id, (_, chapter_id, amount, share, paid_at) in zip(order_ids, plan)]
    for i in (3, 17, 42):
        if i < len(payment_rows):
            payment_rows[i].update(status=PaymentStatus.PARTIALLY_REFUNDED, refunded_cents=payment_rows[i]["amount_cents"] // 2)
    payment_ids = db.session.scalars(sa.insert(Payment).returning(Payment.id, sort_by_parameter_order=True), payment_rows).all()
    refunded = {payment_ids[i]: payment_rows[i] for i in (3, 17, 42) if i < len(payment_ids)}
    refund_rows = [dict(payment_id=pid, amount_cents=row["amount_cents"] // 2,
                        chapter_share_cents=row["chapter_share_cents"] // 2,
                        association_share_cents=row["amount_cents"] // 2 - row["chapter_share_cents"] // 2,
                        reason="Paid twice by mistake (demo)", stripe_refund_id=f"re_demo_{pid}",
                        created_at=row["succeeded_at"] + timedelta(days=1)) for pid, row in refunded.items()]
    refund_ids = db.session.scalars(sa.insert(Refund).returning(Refund.id, sort_by_parameter_order=True), refund_rows).all() if refund_rows else []
    entries, transactions = [], []
    payout_id = f"po_demo_{first:%Y%m}"
    for pid, row in zip(payment_ids, payment_rows):
        booked = row["succeeded_at"].date()
        entries.append(dict(kind=LedgerKind.CHARGE, booked_on=booked, amount_cents=row["amount_cents"], currency="USD",
                            chapter_id=row["chapter_id"], payment_id=pid, description="Payment (demo)", created_at=now))
        if row["chapter_share_cents"]:
            entries.append(dict(kind=LedgerKind.CHAPTER_SHARE, booked_on=booked, amount_cents=row["chapter_share_cents"],
                                currency="USD", chapter_id=row["chapter_id"], payment_id=pid, description="Chapter share (demo)",
                                created_at=now))
        fee = row["amount_cents"] * 29 // 1000 + 30
        transactions.append(dict(id=f"txn_demo_ch_{pid}", type="charge", source_id=row["stripe_charge_id"],
                                 payment_intent_id=row["stripe_payment_intent_id"], amount_cents=row["amount_cents"], fee_cents=fee,
                                 net_cents=row["amount_cents"] - fee, currency="USD", created=row["succeeded_at"], payout_id=payout_id,
                                 payment_id=pid, status=MatchStatus.MATCHED, synced_at=now))
        entries.append(dict(kind=LedgerKind.STRIPE_FEE, booked_on=booked, amount_cents=-fee, currency="USD", payment_id=pid,
                            stripe_balance_transaction_id=f"txn_demo_ch_{pid}", description="Stripe fee (demo)", created_at=now))
    for refund_id, row in zip(refund_ids, refund_rows):
        booked = row["created_at"].date()
        chapter_id = refunded[row["payment_id"]]["chapter_id"]
        entries.append(dict(kind=LedgerKind.REFUND, booked_on=booked, amount_cents=-row["amount_cents"], currency="USD",
                            chapter_id=chapter_id, payment_id=row["payment_id"], refund_id=refund_id, description="Refund (demo)",
                            created_at=now))
        entries.append(dict(kind=LedgerKind.CHAPTER_SHARE, booked_on=booked, amount_cents=-row["chapter_share_cents"], currency="USD",
                            chapter_id=chapter_id, payment_id=row["payment_id"], refund_id=refund_id,
                            description="Chapter share refunded (demo)", created_at=now))
        transactions.append(dict(id=f"txn_demo_re_{refund_id}", type="refund", source_id=row["stripe_refund_id"], payment_intent_id=None,
                                 amount_cents=-row["amount_cents"], fee_cents=0, net_cents=-row["amount_cents"], currency="USD",
                                 created=row["created_at"], payout_id=payout_id, payment_id=row["payment_id"], refund_id=refund_id,
                                 status=MatchStatus.MATCHED, synced_at=now))
    payout_cents = sum(t["net_cents"] for t in transactions)
    paid_out = datetime.combine(first.replace(day=28), datetime.min.time())
    db.session.execute(sa.insert(StripePayout), [dict(id=payout_id, amount_cents=payout_cents, currency="USD", status="paid",
                                                      arrival_date=paid_out.date() + timedelta(days=2), created=paid_out, synced_at=now)])
    entries.append(dict(kind=LedgerKind.PAYOUT, booked_on=paid_out.date(), amount_cents=-payout_cents, currency="USD",
                        stripe_payout_id=payout_id, description=f"Payout {payout_id} to the bank (demo)", created_at=now))
    db.session.execute(sa.insert(StripeBalanceTransaction), transactions)
    db.session.execute(sa.insert(LedgerEntry), entries)


def _seed_certifications(rng: random.Random, day: date, share: float = 0.08) -> dict[str, int]:
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
        if rows:
            db.session.execute(sa.insert(model), rows)
    return {"exam_results": len(results), "certifications": len(held), "registrations": len(registrations)}
