"""Exams, authorizations to test, results, certifications and maintenance: the rules of DOMAIN.md.

Services take explicit arguments (`actor=`, `day=`), flush and never commit; every number comes
from the catalogue rows, not from this module.
"""
from __future__ import annotations

import calendar
import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.core.sequences import reserve_numbers
from chapter.extensions import db
from chapter.certifications.models import (
    ApplicationStatus, Benefit, CertificationApplication, CertificationStatus, CertificationType, Exam,
    ExamEligibility, ExamProgram, ExamRegistration, ExamResult, MemberCertification, PointCategory, PointEntry,
    membership_type_benefits,
)
from chapter.members.models import Member, MembershipStatus, MembershipTerm
from chapter.members.search import member_search_condition
from chapter.members.services import add_months

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.payments.models import Order

CERTIFICATE_NUMBER_START = 100001


class PurchaseRefused(DomainError):
    """The exam cannot be bought now (retired, retake wait, eligibility, an unused ATT)."""


class AttExpired(DomainError):
    """The Authorization to Test has expired and cannot be used."""


def end_of_month(day: date) -> date:
    """The last day of `day`'s month."""
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


# --- Catalogue --------------------------------------------------------------------------------

def exams_on_sale(day: date) -> list[Exam]:
    """Exams that can be bought on `day`, in catalogue order."""
    exams = db.session.scalars(sa.select(Exam).join(Exam.program).options(joinedload(Exam.program))
                               .order_by(ExamProgram.sort_order, Exam.sort_order)).all()
    return [exam for exam in exams if exam.is_available_on(day)]


def all_exams() -> list[Exam]:
    """The whole catalogue, retired exams included."""
    return list(db.session.scalars(sa.select(Exam).join(Exam.program).options(joinedload(Exam.program))
                                   .order_by(ExamProgram.sort_order, Exam.sort_order)))


def exam_by_code(code: str) -> Exam | None:
    return db.session.scalar(sa.select(Exam).where(Exam.code == code))


# --- Buying -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quote:
    """What an exam costs a member on a day, and what membership would save."""

    exam: Exam
    price_cents: int
    member_price: bool

    @property
    def saving_cents(self) -> int:
        return self.exam.non_member_fee_cents - self.exam.member_fee_cents


def quote(member: Member, exam: Exam, day: date) -> Quote:
    """The member price only while the membership is active on `day`; otherwise the non-member price."""
    active = member.status_on(day) is MembershipStatus.ACTIVE
    return Quote(exam, exam.member_fee_cents if active else exam.non_member_fee_cents, active)


def retake_allowed_from(member: Member, exam: Exam) -> date | None:
    """The first day a retake can be bought after the latest failed attempt, if that attempt failed."""
    latest = db.session.scalar(sa.select(ExamResult).where(
        ExamResult.member_id == member.id, ExamResult.exam_id == exam.id).order_by(ExamResult.taken_on.desc()))
    if latest is None or latest.passed:
        return None
    return latest.taken_on + timedelta(days=exam.retake_wait_days)


def check_can_buy(member: Member, exam: Exam, day: date) -> None:
    """Raise PurchaseRefused when the exam cannot be bought on `day`."""
    if not exam.is_available_on(day):
        raise PurchaseRefused(f"{exam.name} is not on sale.")
    if exam.requires_eligibility and db.session.scalar(sa.select(ExamEligibility.id).where(
            ExamEligibility.member_id == member.id, ExamEligibility.exam_id == exam.id)) is None:
        raise PurchaseRefused(f"{exam.name} needs an approved eligibility application first.")
    allowed_from = retake_allowed_from(member, exam)
    if allowed_from is not None and day < allowed_from:
        raise PurchaseRefused(f"A retake of {exam.name} can be bought from {allowed_from:%d %B %Y}.")
    unused = db.session.scalars(sa.select(ExamRegistration).where(
        ExamRegistration.member_id == member.id, ExamRegistration.exam_id == exam.id,
        ExamRegistration.used_on.is_(None), ExamRegistration.expires_on >= day)).all()
    if any(not registration.is_refunded for registration in unused):
        raise PurchaseRefused(f"You already have a valid authorization to test for {exam.name}.")


def start_exam_purchase(member: Member, exam: Exam, *, actor: User | None, day: date | None = None) -> Order:
    """Open (or reuse and reprice) the member's exam order, priced by membership status on `day`."""
    from sqlalchemy.exc import IntegrityError

    from chapter.payments.models import Order, OrderLine, OrderPurpose, OrderStatus
    from chapter.payments.services import PaymentInProgress, _payment_in_flight

    day = day or today()
    check_can_buy(member, exam, day)
    price = quote(member, exam, day)
    order = db.session.scalar(sa.select(Order).where(
        Order.member_id == member.id, Order.purpose == OrderPurpose.EXAM, Order.status == OrderStatus.OPEN))
    if order is not None and _payment_in_flight(order) is not None:
        raise PaymentInProgress("A payment for an exam is already in progress. Wait a moment and reload the page.")
    if order is None:
        try:
            with db.session.begin_nested():
                order = Order(member_id=member.id, purpose=OrderPurpose.EXAM, currency=exam.currency,
                              total_cents=0, description="")
                db.session.add(order)
        except IntegrityError:
            raise PaymentInProgress("A payment for an exam is already in progress. Wait a moment and reload the page.")
    description = f"{exam.name} exam ({'member' if price.member_price else 'non-member'} price)"
    order.purchaser_id = actor.id if actor else None
    order.membership_type_id = None
    order.chapter_id = None
    order.currency = exam.currency
    order.total_cents = price.price_cents
    order.chapter_share_cents = 0
    order.association_share_cents = price.price_cents
    order.description = description
    order.lines.clear()
    order.lines.append(OrderLine(description=description, quantity=1, unit_price_cents=price.price_cents,
                                 amount_cents=price.price_cents, chapter_share_cents=0))
    db.session.flush()
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.order_id == order.id))
    if registration is None:
        registration = ExamRegistration(member_id=member.id, order_id=order.id)
        db.session.add(registration)
    registration.exam_id = exam.id
    registration.price_cents = price.price_cents
    registration.currency = exam.currency
    registration.member_price = price.member_price
    db.session.flush()
    return order


def _new_att_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "ATT-" + "".join(secrets.choice(alphabet) for _ in range(10))


def issue_att(registration: ExamRegistration, day: date) -> ExamRegistration:
    """Give a paid registration its ATT code, valid for the exam's months from `day`."""
    registration.att_code = _new_att_code()
    registration.issued_on = day
    registration.expires_on = add_months(day, registration.exam.att_valid_months)
    db.session.flush()
    return registration


def fulfil_exam_order(order: Order, day: date) -> ExamRegistration:
    """Called once by payments when an exam order is paid: issue the Authorization to Test."""
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.order_id == order.id))
    issue_att(registration, day)
    audit.record("exam.att_issued", actor=None, member_id=order.member_id,
                 summary=f"ATT {registration.att_code} for {registration.exam.name} ({order.reference})",
                 after={"att_code": registration.att_code, "expires_on": registration.expires_on})
    return registration


def att_for_scheduling(code: str, day: date) -> ExamRegistration:
    """The ATT with `code` if it can be used on `day`; says why not otherwise."""
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.att_code == code.strip().upper()))
    if registration is None:
        raise DomainError("No authorization to test has that code.", field="att_code")
    if registration.used_on is not None:
        raise DomainError(f"This authorization to test was used on {registration.used_on:%d %B %Y}.", field="att_code")
    if registration.is_refunded:
        raise DomainError("This authorization to test was cancelled: its fee was refunded.", field="att_code")
    if day > registration.expires_on:
        raise AttExpired(f"This authorization to test expired on {registration.expires_on:%d %B %Y} "
                         "and cannot be used; buy the exam again.", field="att_code")
    return registration


def registrations_of(member: Member) -> list[ExamRegistration]:
    """The member's bought exams, newest first."""
    return list(db.session.scalars(sa.select(ExamRegistration).where(
        ExamRegistration.member_id == member.id, ExamRegistration.issued_on.is_not(None))
        .options(joinedload(ExamRegistration.exam), joinedload(ExamRegistration.order))
        .order_by(ExamRegistration.issued_on.desc(), ExamRegistration.id.desc())))


# --- Results ----------------------------------------------------------------------------------

def _check_score(exam: Exam, score: int) -> None:
    if not exam.score_min <= score <= exam.score_max:
        raise DomainError(f"The scaled score of {exam.code} is between {exam.score_min} and {exam.score_max}.",
                          field="score")


def record_exam_result(member: Member, exam: Exam, taken_on: date, score: int, *, actor: User | None,
                       audit_it: bool = True) -> ExamResult:
    """Record one attempt; a pass earns its points and may award a certification."""
    _check_score(exam, score)
    if db.session.scalar(sa.select(ExamResult.id).where(ExamResult.member_id == member.id,
                                                        ExamResult.exam_id == exam.id, ExamResult.taken_on == taken_on)):
        raise DomainError(f"A result for {exam.code} on {taken_on:%Y-%m-%d} is already recorded.", field="taken_on")
    registrations = db.session.scalars(sa.select(ExamRegistration).where(
        ExamRegistration.member_id == member.id, ExamRegistration.exam_id == exam.id,
        ExamRegistration.issued_on.is_not(None), ExamRegistration.used_on.is_(None))
        .order_by(ExamRegistration.issued_on)).all()
    registrations = [r for r in registrations if not r.is_refunded]
    usable = next((r for r in registrations if r.is_usable_on(taken_on)), None)
    if usable is None and registrations and all(r.expires_on < taken_on for r in registrations):
        raise AttExpired(f"The authorization to test for {exam.code} expired on "
                         f"{registrations[-1].expires_on:%d %B %Y}.", field="taken_on")
    if usable is not None:
        usable.used_on = taken_on
    result = ExamResult(member_id=member.id, exam_id=exam.id, registration_id=usable.id if usable else None,
                        taken_on=taken_on, score=score, passed=score >= exam.pass_score,
                        recorded_by_id=actor.id if actor else None)
    db.session.add(result)
    db.session.flush()
    if result.passed and exam.point_category is not None:
        db.session.add(PointEntry(member_id=member.id, category_id=exam.point_category_id, earned_on=taken_on,
                                  units=1, points=exam.point_category.points_per_unit, automatic=True,
                                  description=f"{exam.name} passed"))
    if audit_it:
        audit.record("exam.result_recorded", actor=actor, member_id=member.id,
                     summary=f"{exam.code} on {taken_on:%Y-%m-%d}: {score} ({'pass' if result.passed else 'fail'})",
                     after={"exam": exam.code, "taken_on": taken_on, "score": score, "passed": result.passed})
    award_due_certifications(member, actor=actor)
    return result


@dataclass
class ResultLine:
    """One line of a results CSV: what it says, and what is wrong with it."""

    line: int
    member_number: str
    exam_code: str
    taken_on_text: str
    score_text: str
    member: Member | None = None
    exam: Exam | None = None
    taken_on: date | None = None
    score: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool | None:
        return None if self.exam is None or self.score is None else self.score >= self.exam.pass_score


RESULT_COLUMNS = ("member_number", "exam_code", "date", "score")


def parse_results_csv(text: str) -> list[ResultLine]:
    """Read and check every line of the provider's CSV (member number, exam code, date, scaled score)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise DomainError("The file is empty.", field="file")
    header = [cell.strip().lower() for cell in rows[0]]
    if header[:4] != list(RESULT_COLUMNS):
        raise DomainError("The first line must be: " + ",".join(RESULT_COLUMNS), field="file")
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row] + [""] * 4
        lines.append(ResultLine(number, *cells[:4]))
    members = {m.member_number: m for m in db.session.scalars(
        sa.select(Member).where(Member.member_number.in_({line.member_number for line in lines})))}
    exams = {e.code.upper(): e for e in db.session.scalars(sa.select(Exam).options(joinedload(Exam.point_category)))}
    seen: set[tuple[str, str, date]] = set()
    for line in lines:
        line.member = members.get(line.member_number)
        if line.member is None:
            line.errors.append(f"No member has number {line.member_number!r}.")
        line.exam = exams.get(line.exam_code.upper())
        if line.exam is None:
            line.errors.append(f"No exam has code {line.exam_code!r}.")
        try:
            line.taken_on = date.fromisoformat(line.taken_on_text)
        except ValueError:
            line.errors.append(f"The date {line.taken_on_text!r} is not YYYY-MM-DD.")
        try:
            line.score = int(line.score_text)
        except ValueError:
            line.errors.append(f"The score {line.score_text!r} is not a whole number.")
        if line.exam is not None and line.score is not None and not line.exam.score_min <= line.score <= line.exam.score_max:
            line.errors.append(f"The score of {line.exam.code} is between {line.exam.score_min} and {line.exam.score_max}.")
        if line.member is not None and line.exam is not None and line.taken_on is not None:
            key = (line.member_number, line.exam.code, line.taken_on)
            if key in seen:
                line.errors.append("The same result appears twice in the file.")
            seen.add(key)
    _check_already_recorded([line for line in lines if not line.errors])
    return lines


def _check_already_recorded(lines: list[ResultLine]) -> None:
    member_ids = {line.member.id for line in lines}
    if not member_ids:
        return
    recorded = set(db.session.execute(sa.select(ExamResult.member_id, ExamResult.exam_id, ExamResult.taken_on)
                                      .where(ExamResult.member_id.in_(member_ids))).all())
    for line in lines:
        if (line.member.id, line.exam.id, line.taken_on) in recorded:
            line.errors.append("This result is already recorded.")


class ImportRejected(DomainError):
    """The file has bad lines: nothing was imported."""

    def __init__(self, lines: list[ResultLine]):
        bad = [line for line in lines if line.errors]
        super().__init__(f"{len(bad)} line(s) have errors: nothing was imported.", field="file")
        self.lines = lines


def import_results(text: str, *, actor: User) -> int:
    """Record every line of a results CSV, or none of them when any line is wrong."""
    lines = parse_results_csv(text)
    if any(line.errors for line in lines):
        raise ImportRejected(lines)
    with db.session.begin_nested():
        for line in sorted(lines, key=lambda l: l.taken_on):
            try:
                record_exam_result(line.member, line.exam, line.taken_on, line.score, actor=actor, audit_it=False)
            except DomainError as error:
                line.errors.append(error.message)
                raise ImportRejected(lines) from error
    audit.record("exam.results_imported", actor=actor, summary=f"{len(lines)} exam results imported",
                 after={"lines": len(lines)})
    return len(lines)


RESULT_SORTS = {"date": (ExamResult.taken_on, ExamResult.id), "score": (ExamResult.score, ExamResult.id),
                "name": (Member.last_name, Member.first_name, ExamResult.id), "exam": (Exam.code, ExamResult.taken_on)}


def results_query(search: str = "", exam_code: str | None = None, sort: str = "date", descending: bool = True):
    """Recorded results with member and exam, searchable by member number or name, sorted in SQL."""
    statement = (sa.select(ExamResult, Member, Exam).join(Member, Member.id == ExamResult.member_id)
                 .join(Exam, Exam.id == ExamResult.exam_id))
    condition = member_search_condition(search)
    if condition is not None:
        statement = statement.where(condition)
    if exam_code:
        statement = statement.where(Exam.code == exam_code)
    columns = RESULT_SORTS.get(sort, RESULT_SORTS["date"])
    return statement.order_by(*[c.desc() if descending else c.asc() for c in columns])


def results_of(member: Member) -> list[ExamResult]:
    """The member's attempts, newest first."""
    return list(db.session.scalars(sa.select(ExamResult).where(ExamResult.member_id == member.id)
                                   .options(joinedload(ExamResult.exam)).order_by(ExamResult.taken_on.desc())))


# --- Certifications ---------------------------------------------------------------------------

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


# --- Points -----------------------------------------------------------------------------------

def counted_points(regular: int, teaching: int, cap_percent: int) -> int:
    """Total points with teaching-type points capped at `cap_percent` of the total counted."""
    if cap_percent >= 100:
        return regular + teaching
    allowed_teaching = cap_percent * regular // (100 - cap_percent)
    return regular + min(teaching, allowed_teaching)


def cycle_starts_on(held: MemberCertification) -> date:
    """The first day of the current cycle."""
    return add_months(held.cycle_ends_on, -12 * held.certification_type.cycle_years) + timedelta(days=1)


def membership_points(member: Member, start: date, end: date) -> int:
    """Membership points for the terms that start in [start, end]: so many per year of membership."""
    category = db.session.scalar(sa.select(PointCategory).where(PointCategory.code == "membership"))
    if category is None:
        return 0
    terms = db.session.scalars(sa.select(MembershipTerm).where(
        MembershipTerm.member_id == member.id, MembershipTerm.voided_at.is_(None),
        MembershipTerm.starts_on <= end, MembershipTerm.ends_on >= start)).all()
    years = 0
    for term in terms:
        first, last = max(term.starts_on, start), min(term.ends_on, end)
        years += max(0, round(((last - first).days + 1) / 365.25))
    return years * category.points_per_unit


@dataclass(frozen=True)
class PointsSummary:
    """Points earned in a window, by kind, and what counts towards the requirement."""

    regular: int
    teaching: int
    membership: int
    counted: int
    required: int

    @property
    def missing(self) -> int:
        return max(0, self.required - self.counted)


def points_summary(held: MemberCertification, day: date) -> PointsSummary:
    """The points counted for the current cycle (through `day` when suspended) against the requirement."""
    start = cycle_starts_on(held)
    end = max(held.cycle_ends_on, day)
    rows = db.session.execute(sa.select(PointCategory.is_teaching, sa.func.sum(PointEntry.points))
                              .join(PointEntry.category).where(PointEntry.member_id == held.member_id,
                                                               PointEntry.earned_on.between(start, end))
                              .group_by(PointCategory.is_teaching)).all()
    totals = {bool(teaching): int(total or 0) for teaching, total in rows}
    member = db.session.get(Member, held.member_id)
    membership = membership_points(member, start, min(end, day))
    regular = totals.get(False, 0) + membership
    teaching = totals.get(True, 0)
    return PointsSummary(regular, teaching, membership,
                         counted_points(regular, teaching, held.certification_type.teaching_cap_percent),
                         points_required(held, day))


def certification_types() -> list[CertificationType]:
    return list(db.session.scalars(sa.select(CertificationType).order_by(CertificationType.sort_order)))


RULE_FIELDS = ("points_required", "cycle_years", "teaching_cap_percent", "reinstatement_points_per_year",
               "terminated_after_years", "application_points_required")


def update_certification_rules(certification_type: CertificationType, values: dict, *, actor: User) -> None:
    """Staff change a certification's maintenance rules (points, cycle, cap, reinstatement, termination)."""
    before = {name: getattr(certification_type, name) for name in RULE_FIELDS}
    for name in RULE_FIELDS:
        if name in values:
            setattr(certification_type, name, values[name])
    audit.record("certification.rules_changed", actor=actor, summary=f"{certification_type.code} rules changed",
                 before=before, after={name: getattr(certification_type, name) for name in RULE_FIELDS})
    db.session.flush()


def update_point_category(category: PointCategory, points_per_unit: int, *, actor: User) -> None:
    """Staff change what an activity is worth; points already logged keep their value."""
    before = category.points_per_unit
    category.points_per_unit = points_per_unit
    audit.record("certification.points_changed", actor=actor, summary=f"{category.name}: {points_per_unit} per {category.unit}",
                 before={"points_per_unit": before}, after={"points_per_unit": points_per_unit})
    db.session.flush()


def point_categories() -> list[PointCategory]:
    return list(db.session.scalars(sa.select(PointCategory).order_by(PointCategory.sort_order)))


def log_points(member: Member, category: PointCategory, units: int, earned_on: date, description: str, *,
               day: date) -> PointEntry:
    """A member logs an activity; its points are the category's points per unit."""
    if units <= 0:
        raise DomainError("Enter a positive number.", field="units")
    if earned_on > day:
        raise DomainError("The date cannot be in the future.", field="earned_on")
    entry = PointEntry(member_id=member.id, category_id=category.id, earned_on=earned_on, units=units,
                       points=units * category.points_per_unit, description=description)
    db.session.add(entry)
    db.session.flush()
    return entry


def point_entries_of(member: Member) -> list[PointEntry]:
    return list(db.session.scalars(sa.select(PointEntry).where(PointEntry.member_id == member.id)
                                   .options(joinedload(PointEntry.category)).order_by(PointEntry.earned_on.desc())))


# --- Maintenance and fellowship applications --------------------------------------------------

def submit_maintenance(held: MemberCertification, *, day: date) -> CertificationApplication:
    """The member applies to maintain (or reinstate) a certification with the points of the cycle."""
    if status_of(held, day) is CertificationStatus.TERMINATED:
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
        kind="maintenance", submitted_on=day, points_counted=summary.counted)
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
        while new_end < day:  # reinstated after a suspension: the next deadline still lies ahead
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
    """A current CPIM holder applies for CFPIM with points and a CFPIM holder's recommendation."""
    fellow = db.session.scalar(sa.select(CertificationType).where(CertificationType.awarded_by_application.is_(True)))
    base = next((h for h in certifications_of(member) if h.certification_type_id == fellow.requires_type_id), None)
    if base is None or status_of(base, day) is not CertificationStatus.CURRENT:
        raise DomainError(f"A current {fellow.requires_type.code} is needed to apply.")
    recommender = db.session.scalar(sa.select(MemberCertification).where(
        MemberCertification.certificate_number == recommended_by.strip().upper(),
        MemberCertification.certification_type_id == fellow.id))
    if recommender is None or status_of(recommender, day) is not CertificationStatus.CURRENT:
        raise DomainError(f"Enter the certificate number of a current {fellow.code} holder.", field="recommended_by")
    summary = points_summary(base, day)
    required = fellow.application_points_required or 0
    if summary.counted < required:
        raise DomainError(f"{summary.counted} points count towards the {required} needed.")
    application = CertificationApplication(member_id=member.id, certification_type_id=fellow.id, kind="fellowship",
                                           submitted_on=day, points_counted=summary.counted,
                                           recommended_by=recommender.certificate_number)
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


# --- Verification -----------------------------------------------------------------------------

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


# --- Benefits ---------------------------------------------------------------------------------

def benefits_on(member: Member, day: date) -> list[Benefit]:
    """What the member's membership type entitles them to today; nothing once the membership lapses."""
    if member.status_on(day) is not MembershipStatus.ACTIVE or member.current_type_id is None:
        return []
    return list(db.session.scalars(sa.select(Benefit).join(
        membership_type_benefits, membership_type_benefits.c.benefit_id == Benefit.id)
        .where(membership_type_benefits.c.membership_type_id == member.current_type_id).order_by(Benefit.sort_order)))


def magazine_subscribers(day: date):
    """Active members whose type includes the magazine and who have a postal address (a streaming query)."""
    return (sa.select(Member.member_number, Member.first_name, Member.last_name, Member.address_line1,
                      Member.address_line2, Member.city, Member.region, Member.postal_code, Member.country)
            .join(membership_type_benefits, membership_type_benefits.c.membership_type_id == Member.current_type_id)
            .join(Benefit, Benefit.id == membership_type_benefits.c.benefit_id)
            .where(Benefit.code == "magazine", Member.status_clause(MembershipStatus.ACTIVE, day),
                   Member.address_line1.is_not(None), Member.address_line1 != "", Member.postal_code.is_not(None))
            .order_by(Member.member_number))
