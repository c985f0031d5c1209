"""Exam results at their edges: the score range, the pass mark, which ATT a result uses, the points and audit it
writes, and the provider's CSV line by line (the messages, the line numbers, nothing half-imported)."""
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.models import Exam, ExamRegistration, ExamResult, PointEntry, PointStatus
from chapter.core.audit import AuditEntry
from chapter.core.errors import DomainError
from chapter.extensions import db
from chapter.payments import services as payments
from chapter.payments.models import OrderStatus
from tests import factories

HEADER = "member_number,exam_code,date,score\n"


def exam(code: str) -> Exam:
    factories.reference_data()
    return services.exam_by_code(code)


def refusal(member, code: str, taken_on: date, score: int) -> tuple[str, str | None, type]:
    with pytest.raises(DomainError) as caught:
        services.record_exam_result(member, exam(code), taken_on, score, actor=None)
    return caught.value.message, caught.value.field, type(caught.value)


def att(member, code: str, day: date) -> ExamRegistration:
    """The member buys the exam on `day` and pays by cheque that day: an ATT valid six months is issued."""
    order = services.start_exam_purchase(member, exam(code), actor=None, day=day)
    payments.record_offline_payment(order, amount_cents=order.total_cents, received_on=day, reference=f"CHQ {order.id}",
                                    actor=factories.staff())
    return db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.order_id == order.id))


def second_att(member, code: str, day: date) -> ExamRegistration:
    """A second ATT of the same exam while the first is valid (a purchase refuses that: e.g. one moved by staff from
    a duplicate record): bought by another member, then given to `member`."""
    registration = att(factories.member(), code, day)
    registration.member_id = member.id
    db.session.flush()
    return registration


def audit_lines(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def point_entries(member) -> list[PointEntry]:
    return list(db.session.scalars(sa.select(PointEntry).where(PointEntry.member_id == member.id)
                                   .order_by(PointEntry.id)))


def rejected_lines(text: str) -> dict[int, list[str]]:
    with pytest.raises(services.ImportRejected) as caught:
        services.import_results(text, actor=factories.staff())
    assert caught.value.message.endswith("line(s) have errors: nothing was imported.") and caught.value.field == "file"
    return {line.line: line.errors for line in caught.value.lines if line.errors}


# --- One result -----------------------------------------------------------------------------------------

def test_the_lowest_and_highest_scaled_scores_are_accepted_and_one_beyond_refused_on_the_score_field(app):
    """CPIM Part 1 scores 200-350: 200 and 350 are recorded, 199 and 351 get the range message on `score`."""
    member = factories.member()
    assert services.record_exam_result(member, exam("CPIM-P1"), date(2026, 1, 5), 200, actor=None).score == 200
    assert services.record_exam_result(member, exam("CPIM-P1"), date(2026, 2, 5), 350, actor=None).score == 350
    message = ("The scaled score of CPIM-P1 is between 200 and 350.", "score", DomainError)
    assert refusal(member, "CPIM-P1", date(2026, 3, 5), 199) == message
    assert refusal(member, "CPIM-P1", date(2026, 3, 5), 351) == message
    assert len(services.results_of(member)) == 2


def test_the_pass_mark_itself_passes_and_one_below_fails(app):
    """300 is a pass, 299 a fail; only the pass earns the exam's 10 points."""
    member = factories.member()
    failed = services.record_exam_result(member, exam("CPIM-P1"), date(2026, 1, 5), 299, actor=None)
    passed = services.record_exam_result(member, exam("CPIM-P1"), date(2026, 3, 5), 300, actor=None)
    assert (failed.passed, passed.passed) == (False, True)
    assert [(e.category.code, e.earned_on, e.units, e.points, e.automatic, e.status, e.description)
            for e in point_entries(member)] == \
        [("cpim_exam", date(2026, 3, 5), 1, 10, True, PointStatus.APPROVED, "CPIM Part 1 passed")]


def test_a_pass_of_an_exam_without_a_point_category_earns_no_points(app):
    """CLTD passed: a result, no point entry."""
    member = factories.member()
    assert services.record_exam_result(member, exam("CLTD"), date(2026, 1, 5), 330, actor=None).passed is True
    assert point_entries(member) == []


def test_a_second_result_the_same_day_is_refused_but_another_exam_day_or_member_is_not(app):
    """The same member, exam and day twice: the exact message on `taken_on`; any one of the three different is fine."""
    member, other = factories.member(), factories.member()
    services.record_exam_result(member, exam("CPIM-P1"), date(2026, 1, 5), 310, actor=None)
    assert refusal(member, "CPIM-P1", date(2026, 1, 5), 320) == \
        ("A result for CPIM-P1 on 2026-01-05 is already recorded.", "taken_on", DomainError)
    services.record_exam_result(member, exam("CPIM-P2"), date(2026, 1, 5), 310, actor=None)
    services.record_exam_result(member, exam("CPIM-P1"), date(2026, 1, 6), 310, actor=None)
    services.record_exam_result(other, exam("CPIM-P1"), date(2026, 1, 5), 310, actor=None)
    assert db.session.scalar(sa.select(sa.func.count(ExamResult.id))) == 4


def test_the_result_is_stored_with_who_recorded_it_and_audited_with_its_outcome(app):
    """Staff record a fail: the row holds member, exam, date, score, the staff member; the audit line says it all."""
    member, staff = factories.member(), factories.staff()
    result = services.record_exam_result(member, exam("CPIM-P2"), date(2026, 4, 1), 280, actor=staff)
    db.session.expire(result)
    assert (result.member_id, result.exam_id, result.taken_on, result.score, result.passed, result.recorded_by_id,
            result.registration_id) == (member.id, exam("CPIM-P2").id, date(2026, 4, 1), 280, False, staff.id, None)
    [line] = audit_lines("exam.result_recorded")
    assert (line.actor_id, line.member_id, line.summary, line.after) == \
        (staff.id, member.id, "CPIM-P2 on 2026-04-01: 280 (fail)",
         {"exam": "CPIM-P2", "taken_on": "2026-04-01", "score": 280, "passed": False})
    services.record_exam_result(member, exam("CPIM-P2"), date(2026, 5, 1), 301, actor=None)
    assert audit_lines("exam.result_recorded")[1].summary == "CPIM-P2 on 2026-05-01: 301 (pass)"
    assert audit_lines("exam.result_recorded")[1].actor_id is None


def test_a_result_recorded_without_its_audit_line_writes_none(app):
    """audit_it=False (the CSV import writes one line for the whole file) adds no line of its own."""
    services.record_exam_result(factories.member(), exam("CLTD"), date(2026, 1, 5), 310, actor=None, audit_it=False)
    assert audit_lines("exam.result_recorded") == []


def test_a_result_uses_the_members_valid_att_for_that_exam_and_marks_it_used_that_day(app):
    """The valid ATT of the same exam is used on the day taken; another exam's and another member's are not."""
    member, other = factories.member(), factories.member()
    theirs = att(other, "CLTD", date(2026, 1, 5))  # bought first: the oldest valid CLTD ATT of anyone
    mine = att(member, "CLTD", date(2026, 1, 10))
    part1 = att(member, "CPIM-P1", date(2026, 1, 10))
    result = services.record_exam_result(member, exam("CLTD"), date(2026, 3, 1), 320, actor=None)
    assert (result.registration_id, mine.used_on) == (mine.id, date(2026, 3, 1))
    assert (part1.used_on, theirs.used_on) == (None, None)


def test_of_two_valid_atts_the_one_issued_first_is_used(app):
    """Two CLTD ATTs bought a month apart, both valid on the exam day: the older one is used, the newer kept."""
    member = factories.member()
    newer = att(member, "CLTD", date(2026, 2, 10))
    older = second_att(member, "CLTD", date(2026, 1, 10))
    assert older.issued_on < newer.issued_on
    result = services.record_exam_result(member, exam("CLTD"), date(2026, 3, 1), 320, actor=None)
    assert (result.registration_id, older.used_on, newer.used_on) == (older.id, date(2026, 3, 1), None)


def test_an_att_is_used_on_its_first_and_its_last_day(app):
    """Issued 10 January, expiring 10 July: a result on either day uses it."""
    first_day, last_day = factories.member(), factories.member()
    on_issue = att(first_day, "CLTD", date(2026, 1, 10))
    on_expiry = att(last_day, "CLTD", date(2026, 1, 10))
    assert on_expiry.expires_on == date(2026, 7, 10)
    assert services.record_exam_result(first_day, exam("CLTD"), date(2026, 1, 10), 320, actor=None).registration_id \
        == on_issue.id
    assert services.record_exam_result(last_day, exam("CLTD"), date(2026, 7, 10), 320, actor=None).registration_id \
        == on_expiry.id


def test_a_result_after_every_att_expired_names_the_latest_expiry(app):
    """Two expired CLTD ATTs: the message gives the later one's last day, on `taken_on`, and nothing is recorded."""
    member = factories.member()
    att(member, "CLTD", date(2026, 2, 10))
    second_att(member, "CLTD", date(2026, 1, 10))
    assert refusal(member, "CLTD", date(2026, 8, 11), 320) == \
        ("The authorization to test for CLTD expired on 10 August 2026.", "taken_on", services.AttExpired)
    assert services.results_of(member) == []


def test_a_result_dated_before_every_att_names_the_first_issue_day(app):
    """A result dated before the ATTs were issued is refused with the earliest issue day, on `taken_on`."""
    member = factories.member()
    att(member, "CLTD", date(2026, 3, 10))
    second_att(member, "CLTD", date(2026, 2, 10))
    assert refusal(member, "CLTD", date(2026, 2, 9), 320) == \
        ("The result is dated 09 February 2026, before the authorization to test for CLTD was issued on "
         "10 February 2026.", "taken_on", DomainError)


def test_a_result_between_an_expired_att_and_a_later_one_is_recorded_without_an_att(app):
    """One ATT expired, the next not issued yet: neither refusal applies (the result came from elsewhere)."""
    member = factories.member()
    early = att(member, "CLTD", date(2025, 1, 10))
    late = att(member, "CLTD", date(2026, 3, 10))
    result = services.record_exam_result(member, exam("CLTD"), date(2026, 1, 5), 320, actor=None)
    assert (result.registration_id, early.used_on, late.used_on) == (None, None, None)


def test_used_unpaid_and_refunded_atts_neither_count_nor_refuse(app):
    """A used ATT, an unpaid order's and a refunded one are ignored: the result is recorded without an ATT."""
    member = factories.member()
    used = att(member, "CLTD", date(2026, 1, 10))
    services.record_exam_result(member, exam("CLTD"), date(2026, 2, 1), 250, actor=None)
    assert used.used_on == date(2026, 2, 1)
    services.start_exam_purchase(member, exam("CLTD"), actor=None, day=date(2026, 2, 15))  # never paid
    refunded = second_att(member, "CLTD", date(2026, 1, 10))
    refunded.order.status = OrderStatus.REFUNDED
    db.session.flush()
    result = services.record_exam_result(member, exam("CLTD"), date(2026, 12, 1), 320, actor=None)
    assert (result.registration_id, refunded.used_on) == (None, None)


def test_a_used_att_does_not_make_a_later_result_expired(app):
    """The only ATT was used; a result after its expiry is recorded, not refused as expired."""
    member = factories.member()
    att(member, "CLTD", date(2026, 1, 10))
    services.record_exam_result(member, exam("CLTD"), date(2026, 2, 1), 250, actor=None)
    assert services.record_exam_result(member, exam("CLTD"), date(2026, 9, 1), 320, actor=None).passed is True


# --- The provider's CSV -----------------------------------------------------------------------------------

def test_an_empty_or_blank_file_is_refused_as_empty(app):
    """No text, or only blank lines and commas: "The file is empty." on the file field."""
    for text in ("", "\n\n", " , ,\n\n", "\ufeff"):
        with pytest.raises(DomainError) as caught:
            services.parse_results_csv(text)
        assert (caught.value.message, caught.value.field) == ("The file is empty.", "file")


def test_a_wrong_header_is_refused_with_the_columns_expected(app):
    """A header missing `score` (or in another order) names the four columns."""
    for header in ("member_number,exam_code,date\n", "exam_code,member_number,date,score\n"):
        with pytest.raises(DomainError) as caught:
            services.parse_results_csv(header + "1,CLTD,2026-01-05,300\n")
        assert (caught.value.message, caught.value.field) == \
            ("The first line must be: member_number,exam_code,date,score", "file")


def test_a_header_in_capitals_with_spaces_a_bom_and_extra_columns_is_read(app):
    """Spreadsheets save a BOM, capitals, padded cells and more columns: the four known ones are read."""
    member = factories.member()
    text = (f"\ufeff Member_Number , EXAM_CODE,Date , Score ,centre\n"
            f" {member.member_number} , cltd , 2026-01-05 , 310 ,Leeds\n")
    [line] = services.parse_results_csv(text)
    assert (line.line, line.member, line.exam.code, line.taken_on, line.score, line.errors, line.passed) == \
        (2, member, "CLTD", date(2026, 1, 5), 310, [], True)


def test_lines_are_numbered_as_in_the_file_counting_blank_lines_and_multi_line_cells(app):
    """A blank line and a quoted cell spanning two lines: the errors name the lines an editor shows."""
    text = (HEADER + "\n"                       # line 2 blank
            "999001,CLTD,2026-01-05,310\n"       # line 3
            "\"999002\n\",CLTD,2026-01-05,310\n"  # lines 4-5
            "999003,CLTD,2026-01-05,310\n")      # line 6
    assert [line.line for line in services.parse_results_csv(text)] == [3, 4, 6]


def test_a_cell_too_large_to_read_is_refused_with_its_line(app):
    """A cell over the CSV reader's limit (a file of another kind) is a clear error, not a crash."""
    text = HEADER + "1,CLTD,2026-01-05,300\n" + "2," + "x" * 200_000 + ",2026-01-05,300\n"
    with pytest.raises(DomainError) as caught:
        services.parse_results_csv(text)
    assert caught.value.message.startswith("Line 3 cannot be read as CSV") and caught.value.field == "file"


def test_each_bad_cell_has_its_own_message(app):
    """Unknown member and exam, a date not YYYY-MM-DD, a score not whole: four exact messages on one line."""
    errors = rejected_lines(HEADER + "424242,NOPE,05/01/2026,3.5\n")
    assert errors == {2: ["No member has number '424242'.", "No exam has code 'NOPE'.",
                          "The date '05/01/2026' is not YYYY-MM-DD.", "The score '3.5' is not a whole number."]}


def test_a_short_line_reports_its_missing_cells_as_empty(app):
    """A line with only a member number: the exam, date and score are read as empty and each refused."""
    member = factories.member()
    assert rejected_lines(HEADER + f"{member.member_number}\n") == {2: [
        "No exam has code ''.", "The date '' is not YYYY-MM-DD.", "The score '' is not a whole number."]}


def test_a_score_outside_the_range_is_reported_on_its_line_at_both_ends(app):
    """CLTD is 200-350: 199 and 351 are refused, 200 and 350 read."""
    member = factories.member()
    n = member.member_number
    lines = services.parse_results_csv(HEADER + f"{n},CLTD,2026-01-01,199\n{n},CLTD,2026-01-02,200\n"
                                                f"{n},CLTD,2026-01-03,350\n{n},CLTD,2026-01-04,351\n")
    assert [line.errors for line in lines] == [["The score of CLTD is between 200 and 350."], [], [],
                                               ["The score of CLTD is between 200 and 350."]]


def test_the_same_result_twice_in_a_file_is_reported_on_the_second_line(app):
    """Same member, exam and day twice (the code in other case): the second line says so; another day is fine."""
    member = factories.member()
    n = member.member_number
    lines = services.parse_results_csv(HEADER + f"{n},CLTD,2026-01-05,310\n{n},cltd,2026-01-05,320\n"
                                                f"{n},CLTD,2026-01-06,320\n{n},CPIM-P1,2026-01-05,320\n")
    assert [line.errors for line in lines] == [[], ["The same result appears twice in the file."], [], []]


def test_a_result_already_recorded_is_reported_and_only_for_that_member_exam_and_day(app):
    """A CSV line matching a recorded result says so; the same day of another exam or member is read."""
    member, other = factories.member(), factories.member()
    services.record_exam_result(member, exam("CLTD"), date(2026, 1, 5), 310, actor=None)
    lines = services.parse_results_csv(HEADER + f"{member.member_number},CLTD,2026-01-05,310\n"
                                                f"{member.member_number},CPIM-P1,2026-01-05,310\n"
                                                f"{other.member_number},CLTD,2026-01-05,310\n"
                                                f"{member.member_number},CLTD,2026-01-06,310\n")
    assert [line.errors for line in lines] == [["This result is already recorded."], [], [], []]


def test_a_line_whose_exam_or_score_is_unknown_has_no_pass_or_fail(app):
    """`passed` is None until both the exam and the score are known, then follows the pass mark."""
    member = factories.member()
    n = member.member_number
    lines = services.parse_results_csv(HEADER + f"{n},NOPE,2026-01-05,310\n{n},CLTD,2026-01-06,x\n"
                                                f"{n},CLTD,2026-01-07,299\n{n},CLTD,2026-01-08,300\n")
    assert [line.passed for line in lines] == [None, None, False, True]


def test_an_import_records_in_date_order_writes_one_audit_line_and_counts_the_lines(app):
    """Lines out of order are recorded oldest first (the older ATT-free fail, then the pass); one audit line."""
    member, staff = factories.member(), factories.staff()
    n = member.member_number
    text = HEADER + f"{n},CPIM-P1,2026-03-05,310\n{n},CPIM-P1,2026-01-05,250\n"
    assert services.import_results(text, actor=staff) == 2
    assert [(r.taken_on, r.passed) for r in services.results_of(member)] == \
        [(date(2026, 3, 5), True), (date(2026, 1, 5), False)]
    assert audit_lines("exam.result_recorded") == []
    [line] = audit_lines("exam.results_imported")
    assert (line.actor_id, line.summary, line.after) == (staff.id, "2 exam results imported", {"lines": 2})


def test_an_import_whose_line_fails_when_recorded_imports_nothing_and_names_that_line(app):
    """The second line's ATT has expired: the import is rejected whole with that line's message, the first undone."""
    member, staff = factories.member(), factories.staff()
    att(member, "CLTD", date(2026, 1, 10))
    n = member.member_number
    text = HEADER + f"{n},CPIM-P1,2026-01-05,310\n{n},CLTD,2026-08-01,310\n"
    with pytest.raises(services.ImportRejected) as caught:
        services.import_results(text, actor=staff)
    assert caught.value.message == "1 line(s) have errors: nothing was imported."
    assert {line.line: line.errors for line in caught.value.lines if line.errors} == \
        {3: ["The authorization to test for CLTD expired on 10 July 2026."]}
    assert services.results_of(member) == [] and point_entries(member) == []
    assert audit_lines("exam.results_imported") == []


def test_a_rejected_file_counts_its_bad_lines_in_the_message(app):
    """Two bad lines of three: "2 line(s) have errors"."""
    member = factories.member()
    text = HEADER + f"{member.member_number},CLTD,2026-01-05,310\n1,CLTD,2026-01-05,310\n2,CLTD,2026-01-05,310\n"
    with pytest.raises(services.ImportRejected) as caught:
        services.import_results(text, actor=factories.staff())
    assert caught.value.message == "2 line(s) have errors: nothing was imported."
    assert [line.line for line in caught.value.lines] == [2, 3, 4]


# --- Lists of results ---------------------------------------------------------------------------------------

def _three_results():
    ada = factories.member(first_name="Ada", last_name="Zimmer")
    bo = factories.member(first_name="Bo", last_name="Young")
    services.record_exam_result(ada, exam("CPIM-P1"), date(2026, 1, 5), 310, actor=None)
    services.record_exam_result(bo, exam("CLTD"), date(2026, 2, 5), 250, actor=None)
    services.record_exam_result(ada, exam("CPIM-P2"), date(2026, 3, 5), 280, actor=None)
    return ada, bo


def _listed(**arguments) -> list[tuple[str, str]]:
    return [(member.last_name, exam_.code) for _, member, exam_ in db.session.execute(services.results_query(**arguments))]


def test_results_are_listed_newest_first_by_default_and_by_each_sort_both_ways(app):
    """Date (default, newest first), score, name and exam sorts, descending and ascending; an unknown sort is date."""
    _three_results()
    newest_first = [("Zimmer", "CPIM-P2"), ("Young", "CLTD"), ("Zimmer", "CPIM-P1")]
    assert _listed() == newest_first
    assert _listed(sort="nonsense") == newest_first
    assert _listed(sort="date", descending=False) == newest_first[::-1]
    assert _listed(sort="score") == [("Zimmer", "CPIM-P1"), ("Zimmer", "CPIM-P2"), ("Young", "CLTD")]
    assert _listed(sort="score", descending=False) == [("Young", "CLTD"), ("Zimmer", "CPIM-P2"), ("Zimmer", "CPIM-P1")]
    assert _listed(sort="name", descending=False) == [("Young", "CLTD"), ("Zimmer", "CPIM-P1"), ("Zimmer", "CPIM-P2")]
    assert _listed(sort="name") == [("Zimmer", "CPIM-P2"), ("Zimmer", "CPIM-P1"), ("Young", "CLTD")]
    assert _listed(sort="exam", descending=False) == [("Young", "CLTD"), ("Zimmer", "CPIM-P1"), ("Zimmer", "CPIM-P2")]
    assert _listed(sort="exam") == [("Zimmer", "CPIM-P2"), ("Zimmer", "CPIM-P1"), ("Young", "CLTD")]


def test_results_are_searched_by_name_or_member_number_and_filtered_by_exam(app):
    """A last name, a member number and an exam code each narrow the list; together they combine."""
    ada, bo = _three_results()
    assert _listed(search="Zimmer") == [("Zimmer", "CPIM-P2"), ("Zimmer", "CPIM-P1")]
    assert _listed(search=bo.member_number) == [("Young", "CLTD")]
    assert _listed(exam_code="CPIM-P1") == [("Zimmer", "CPIM-P1")]
    assert _listed(search="Young", exam_code="CPIM-P1") == []
    assert _listed(search="  ", exam_code="") == _listed()


def test_a_members_results_are_theirs_newest_first(app):
    """results_of: only that member's attempts, the latest first."""
    ada, bo = _three_results()
    assert [(r.exam.code, r.taken_on) for r in services.results_of(ada)] == \
        [("CPIM-P2", date(2026, 3, 5)), ("CPIM-P1", date(2026, 1, 5))]
    assert [r.exam.code for r in services.results_of(bo)] == ["CLTD"]


def test_a_pass_that_completes_a_certification_is_awarded_in_the_name_of_who_recorded_it(app):
    """Staff record the second CPIM part: the award's audit line names them, like the result's."""
    member, staff = factories.member(), factories.staff()
    services.record_exam_result(member, exam("CPIM-P1"), date(2026, 1, 5), 310, actor=staff)
    services.record_exam_result(member, exam("CPIM-P2"), date(2026, 3, 5), 310, actor=staff)
    [line] = audit_lines("certification.awarded")
    assert (line.actor_id, line.member_id) == (staff.id, member.id)


def test_imported_results_are_recorded_in_the_name_of_the_staff_member_who_imported_them(app):
    """Each imported result row and the award it completes name the importing staff member."""
    member, staff = factories.member(), factories.staff()
    n = member.member_number
    services.import_results(HEADER + f"{n},CPIM-P1,2026-01-05,310\n{n},CPIM-P2,2026-03-05,310\n", actor=staff)
    assert [r.recorded_by_id for r in services.results_of(member)] == [staff.id, staff.id]
    assert [line.actor_id for line in audit_lines("certification.awarded")] == [staff.id]


def test_a_first_line_too_large_to_read_is_reported_as_line_1(app):
    """The CSV reader refusing the very first line names line 1."""
    with pytest.raises(DomainError) as caught:
        services.parse_results_csv("x" * 200_000 + "\n")
    assert caught.value.message.startswith("Line 1 cannot be read as CSV")
