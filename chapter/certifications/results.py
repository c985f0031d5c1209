"""Exam results: one by one or from the provider's CSV; a pass earns points and may award a certification."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.extensions import db
from chapter.certifications.models import Exam, ExamRegistration, ExamResult, PointEntry, PointStatus
from chapter.members.models import Member
from chapter.members.search import member_search_condition
from chapter.certifications.awards import award_due_certifications
from chapter.certifications.exams import AttExpired

if TYPE_CHECKING:
    from chapter.auth.models import User


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
    if usable is None and registrations and all(taken_on < r.issued_on for r in registrations):
        raise DomainError(f"The result is dated {taken_on:%d %B %Y}, before the authorization to test for {exam.code} "
                          f"was issued on {registrations[0].issued_on:%d %B %Y}.", field="taken_on")
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
                                  status=PointStatus.APPROVED, description=f"{exam.name} passed"))
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
    rows = _rows_with_line_numbers(text.lstrip("\ufeff"))
    if not rows:
        raise DomainError("The file is empty.", field="file")
    header = [cell.strip().lower() for cell in rows[0][1]]
    if header[:4] != list(RESULT_COLUMNS):
        raise DomainError("The first line must be: " + ",".join(RESULT_COLUMNS), field="file")
    lines = []
    for number, row in rows[1:]:
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


def _rows_with_line_numbers(text: str) -> list[tuple[int, list[str]]]:
    """The CSV's rows that hold something, each with the file line it starts on (blank lines are skipped but
    counted, so the numbers reported are the ones the staff member sees in their editor)."""
    reader = csv.reader(io.StringIO(text))
    rows, next_line = [], 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((next_line, row))
            next_line = reader.line_num + 1  # a quoted cell may span lines: the next row starts after them
    except csv.Error as error:  # e.g. a cell over the reader's field limit: a file of another kind
        raise DomainError(f"Line {next_line} cannot be read as CSV ({error}).", field="file") from error
    return rows


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
