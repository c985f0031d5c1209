"""Maintenance, fellowship (CFPIM) and eligibility (CSCP) applications at their edges: the exact refusals,
every stored column, what an approval writes (deadline, eligibilities, award, audit) and the public look-up."""
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.applications import (
    approve_application, eligible_exam_ids, pending_applications, reject_application, submit_eligibility,
    submit_fellowship, submit_maintenance,
)
from chapter.certifications.models import (
    ApplicationStatus, CertificationApplication, CertificationStatus, CertificationType, Exam, ExamEligibility,
    MemberCertification, PointCategory,
)
from chapter.certifications.verification import Verification, verify
from chapter.core.audit import AuditEntry
from chapter.core.errors import DomainError
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from tests import factories

LINK = "https://example.org/certificate.pdf"


def _type(code: str) -> CertificationType:
    factories.reference_data()
    return db.session.scalar(sa.select(CertificationType).where(CertificationType.code == code))


def _category(code: str) -> PointCategory:
    factories.reference_data()
    return db.session.scalar(sa.select(PointCategory).where(PointCategory.code == code))


def _exam(code: str) -> Exam:
    factories.reference_data()
    return db.session.scalar(sa.select(Exam).where(Exam.code == code))


def _earn(member, code: str, earned_on: date) -> MemberCertification:
    return services.grant_certification(member, _type(code), earned_on, actor=None)


def _claim(member, code: str, units: int, earned_on: date, *, approve_by):
    entry = services.log_points(member, _category(code), units, earned_on, f"{code} on {earned_on}",
                                day=earned_on, evidence_url=LINK)
    services.review_points(entry, approve=True, actor=approve_by, day=earned_on)
    return entry


def _conferences(member, staff, year: int, count: int):
    """`count` approved conferences (24 points each) on the 15th of the first months of `year`."""
    return [_claim(member, "conference", 1, date(year, month, 15), approve_by=staff) for month in range(1, count + 1)]


def _pass(member, exam_code: str, taken_on: date):
    return services.record_exam_result(member, _exam(exam_code), taken_on, 320, actor=None)


def _term(member, starts_on: date, ends_on: date):
    return member_services.grant_term(member, factories.membership_type(), starts_on=starts_on, ends_on=ends_on,
                                      source=TermSource.PAYMENT, actor=None)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call(*args, **kwargs)
    return raised.value


def _applications() -> list[CertificationApplication]:
    return list(db.session.scalars(sa.select(CertificationApplication).order_by(CertificationApplication.id)))


def _reloaded(application: CertificationApplication) -> CertificationApplication:
    """The application as the database holds it."""
    application_id = application.id
    db.session.expire_all()
    return db.session.get(CertificationApplication, application_id)


def _columns(application: CertificationApplication) -> dict:
    return {name: getattr(application, name) for name in (
        "member_id", "certification_type_id", "member_certification_id", "kind", "status", "submitted_on",
        "points_counted", "recommended_by", "note", "reviewed_by_id", "reviewed_on", "membership_points",
        "membership_points_through")}


def _eligibilities(member) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        sa.select(ExamEligibility.member_id, ExamEligibility.exam_id, ExamEligibility.approved_on,
                  ExamEligibility.approved_by_id)
        .where(ExamEligibility.member_id == member.id).order_by(ExamEligibility.exam_id))]


class _Statements:
    """Counts the SQL statements the engine runs while inside the block."""

    def __enter__(self):
        self.count = 0
        sa.event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, *args, **kwargs):
        self.count += 1

    def __exit__(self, *exc):
        sa.event.remove(db.engine, "before_cursor_execute", self._seen)


def _fellowship_setup():
    """A CFPIM recommender (CPIM and CFPIM from 2019-01-01) and a member with CPIM from two parts (earned
    2018-06-01, current to 2023-06-30: 20 exam points) and 80 publication points (2023-01-01)."""
    staff = factories.staff()
    recommender = factories.member(status="pending", first_name="Rita", last_name="Recommender")
    _earn(recommender, "CPIM", date(2019, 1, 1))  # current to 2024-01-31
    fellow = _earn(recommender, "CFPIM", date(2019, 1, 1))
    member = factories.member(status="pending")
    _pass(member, "CPIM-P1", date(2018, 1, 1))
    _pass(member, "CPIM-P2", date(2018, 6, 1))
    article = _claim(member, "article", 40, date(2023, 1, 1), approve_by=staff)
    return member, staff, fellow, article


# --- Maintenance: submitting ----------------------------------------------------------------------------

def test_a_maintenance_application_stores_the_cycles_points_membership_and_entries(app):
    """Earned 2020-06-10, 3 conferences and 4 membership years on 2025-06-01: 96 points, 24 of them membership."""
    staff = factories.staff()
    member = factories.member(status="pending")
    _term(member, date(2019, 6, 10), date(2025, 12, 31))
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    entries = _conferences(member, staff, 2023, 3)
    application = submit_maintenance(cpim, day=date(2025, 6, 1))
    stored = _reloaded(application)
    assert _columns(stored) == {
        "member_id": member.id, "certification_type_id": _type("CPIM").id, "member_certification_id": cpim.id,
        "kind": "maintenance", "status": ApplicationStatus.SUBMITTED, "submitted_on": date(2025, 6, 1),
        "points_counted": 96, "recommended_by": None, "note": None, "reviewed_by_id": None, "reviewed_on": None,
        "membership_points": 24, "membership_points_through": date(2025, 6, 1)}
    assert sorted(e.id for e in stored.points_used) == [e.id for e in entries]


def test_too_few_maintenance_points_are_refused_with_counted_required_and_missing(app):
    """48 of the 75 points on 2025-06-01: the message gives 48, 75 and 27 and nothing is stored."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    _conferences(member, staff, 2023, 2)
    error = _refused(submit_maintenance, cpim, day=date(2025, 6, 1))
    assert (error.message, error.field) == ("48 points count towards the 75 needed: 27 more are needed.", None)
    assert _applications() == []


def test_on_the_last_suspended_day_the_reinstatement_points_are_asked_and_the_next_day_it_is_terminated(app):
    """Deadline 2020-06-30: on 2025-06-30 it needs 75 + 4 x 15 = 135 points; on 2025-07-01 it is terminated."""
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2015, 6, 10))
    error = _refused(submit_maintenance, cpim, day=date(2025, 6, 30))
    assert error.message == "0 points count towards the 135 needed: 135 more are needed."
    error = _refused(submit_maintenance, cpim, day=date(2025, 7, 1))
    assert (error.message, error.field) == ("This certification was terminated: the exams must be taken again.", None)
    assert _applications() == []


def test_a_second_maintenance_application_waits_but_another_certifications_does_not(app):
    """CPIM's application waits for review: CPIM is refused again, CSCP of the same member can still apply."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    cscp = _earn(member, "CSCP", date(2020, 6, 10))
    _conferences(member, staff, 2023, 4)
    first = submit_maintenance(cpim, day=date(2025, 6, 1))
    error = _refused(submit_maintenance, cpim, day=date(2025, 6, 2))
    assert (error.message, error.field) == ("An application is already waiting for review.", None)
    other = submit_maintenance(cscp, day=date(2025, 6, 2))
    assert (other.member_certification_id, other.certification_type_id, other.points_counted) == \
        (cscp.id, _type("CSCP").id, 96)
    assert [a.id for a in _applications()] == [first.id, other.id]


def test_after_a_rejection_the_member_can_apply_again_with_the_same_points(app):
    """A rejected application no longer waits: a new one on the next day counts the 96 points again."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    _conferences(member, staff, 2023, 4)
    first = submit_maintenance(cpim, day=date(2025, 6, 1))
    reject_application(first, actor=staff, day=date(2025, 6, 2))
    again = submit_maintenance(cpim, day=date(2025, 6, 3))
    assert (again.id != first.id, again.status, again.submitted_on, again.points_counted) == \
        (True, ApplicationStatus.SUBMITTED, date(2025, 6, 3), 96)


# --- Maintenance: approving and rejecting ----------------------------------------------------------------

def test_approving_a_maintenance_extends_the_deadline_by_a_cycle_and_audits_it(app):
    """Deadline 2025-06-30, approved on 2025-06-02: deadline 2030-06-30, the reviewer and day stored, one audit line."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    _conferences(member, staff, 2023, 4)
    application = submit_maintenance(cpim, day=date(2025, 6, 1))
    returned = approve_application(application, actor=staff, day=date(2025, 6, 2))
    assert returned is application
    stored = _reloaded(application)
    assert (stored.status, stored.reviewed_by_id, stored.reviewed_on) == \
        (ApplicationStatus.APPROVED, staff.id, date(2025, 6, 2))
    held = db.session.get(MemberCertification, cpim.id)
    assert (held.cycle_ends_on, held.earned_on) == (date(2030, 6, 30), date(2020, 6, 10))
    [line] = _audit("certification.maintained")
    assert (line.actor_id, line.member_id, line.chapter_id, line.summary, line.before, line.after) == (
        staff.id, member.id, None, f"{held.certificate_number} maintained until 2030-06-30",
        {"cycle_ends_on": "2025-06-30"}, {"cycle_ends_on": "2030-06-30"})
    assert db.session.scalar(sa.select(sa.func.count(MemberCertification.id))) == 1  # nothing awarded
    assert [e.actor_id for e in _audit("certification.awarded")] == [None]  # only the original award


def test_a_three_year_cycle_set_by_staff_extends_by_36_months(app):
    """With cycle_years 3, a deadline of 2023-06-30 becomes 2026-06-30 on approval."""
    staff = factories.staff()
    services.update_certification_rules(_type("CPIM"), {"cycle_years": 3}, actor=staff)
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    assert cpim.cycle_ends_on == date(2023, 6, 30)
    _conferences(member, staff, 2022, 4)
    application = submit_maintenance(cpim, day=date(2023, 6, 1))
    approve_application(application, actor=staff, day=date(2023, 6, 1))
    assert cpim.cycle_ends_on == date(2026, 6, 30)
    assert _audit("certification.maintained")[0].after == {"cycle_ends_on": "2026-06-30"}


@pytest.mark.parametrize("approved_on, deadline", [
    (date(2021, 8, 1), date(2025, 6, 30)),  # one cycle later lies ahead
    (date(2025, 6, 29), date(2025, 6, 30)),  # one cycle later is the next day: it is kept
    (date(2025, 6, 30), date(2030, 6, 30)),  # one cycle later is the very day: another cycle, not a deadline today
    (date(2025, 7, 1), date(2030, 6, 30)),  # one cycle later has passed: another cycle
])
def test_a_reinstatement_deadline_moves_by_whole_cycles_until_it_is_after_the_approval(app, approved_on, deadline):
    """Deadline 2020-06-30 missed; approved on a day: the new deadline is the first cycle end after that day."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2015, 6, 10))
    _conferences(member, staff, 2021, 6)  # 144 points: more than the 135 asked on 2025-06-30
    application = submit_maintenance(cpim, day=min(approved_on, date(2025, 6, 30)))
    approve_application(application, actor=staff, day=approved_on)
    assert cpim.cycle_ends_on == deadline
    [line] = _audit("certification.maintained")
    assert (line.summary, line.before, line.after) == (
        f"{cpim.certificate_number} maintained until {deadline:%Y-%m-%d}", {"cycle_ends_on": "2020-06-30"},
        {"cycle_ends_on": deadline.isoformat()})


def test_an_approved_application_cannot_be_approved_or_rejected_again(app):
    """A second review of an approved application is refused and changes nothing."""
    staff = factories.staff()
    other_staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    _conferences(member, staff, 2023, 4)
    application = submit_maintenance(cpim, day=date(2025, 6, 1))
    approve_application(application, actor=staff, day=date(2025, 6, 2))
    for review in (approve_application, reject_application):
        error = _refused(review, application, actor=other_staff, day=date(2025, 6, 3))
        assert (error.message, error.field) == ("This application was already reviewed.", None)
    stored = _reloaded(application)
    assert (stored.status, stored.reviewed_by_id, stored.reviewed_on) == \
        (ApplicationStatus.APPROVED, staff.id, date(2025, 6, 2))
    assert stored.member_certification.cycle_ends_on == date(2030, 6, 30)
    assert len(_audit("certification.maintained")) == 1


def test_a_rejected_application_stores_the_reviewer_and_cannot_be_reviewed_again(app):
    """Rejected on 2025-06-02: status, reviewer and day stored, the deadline kept, no audit line; then refused."""
    staff = factories.staff()
    other_staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    _conferences(member, staff, 2023, 4)
    application = submit_maintenance(cpim, day=date(2025, 6, 1))
    assert reject_application(application, actor=staff, day=date(2025, 6, 2)) is None
    stored = _reloaded(application)
    assert (stored.status, stored.reviewed_by_id, stored.reviewed_on) == \
        (ApplicationStatus.REJECTED, staff.id, date(2025, 6, 2))
    assert stored.member_certification.cycle_ends_on == date(2025, 6, 30)
    assert _audit("certification.maintained") == []
    for review in (approve_application, reject_application):
        error = _refused(review, stored, actor=other_staff, day=date(2025, 6, 3))
        assert (error.message, error.field) == ("This application was already reviewed.", None)
    stored = _reloaded(stored)
    assert (stored.status, stored.reviewed_by_id, stored.reviewed_on) == \
        (ApplicationStatus.REJECTED, staff.id, date(2025, 6, 2))
    assert stored.member_certification.cycle_ends_on == date(2025, 6, 30)


# --- Fellowship (CFPIM) -------------------------------------------------------------------------------

def test_a_fellowship_application_stores_the_points_and_the_recommenders_number_as_held(app):
    """The number typed in lower case with spaces is stored as the recommender's certificate number."""
    member, staff, fellow, article = _fellowship_setup()
    typed = f"  {fellow.certificate_number.lower()} "
    application = submit_fellowship(member, typed, day=date(2023, 6, 1))
    stored = _reloaded(application)
    assert _columns(stored) == {
        "member_id": member.id, "certification_type_id": _type("CFPIM").id, "member_certification_id": None,
        "kind": "fellowship", "status": ApplicationStatus.SUBMITTED, "submitted_on": date(2023, 6, 1),
        "points_counted": 100, "recommended_by": "CFPIM-100001", "note": None, "reviewed_by_id": None,
        "reviewed_on": None, "membership_points": 0, "membership_points_through": None}
    assert sorted((e.category.code, e.earned_on) for e in stored.points_used) == [
        ("article", date(2023, 1, 1)), ("cpim_exam", date(2018, 1, 1)), ("cpim_exam", date(2018, 6, 1))]


def test_approving_a_fellowship_awards_cfpim_on_the_approval_day(app):
    """Approved on 2023-06-10: CFPIM-100002 earned that day, due 2028-06-30, audited with the reviewer."""
    member, staff, fellow, article = _fellowship_setup()
    application = submit_fellowship(member, fellow.certificate_number, day=date(2023, 6, 1))
    approve_application(application, actor=staff, day=date(2023, 6, 10))
    stored = _reloaded(application)
    assert (stored.status, stored.reviewed_by_id, stored.reviewed_on) == \
        (ApplicationStatus.APPROVED, staff.id, date(2023, 6, 10))
    [awarded] = db.session.scalars(sa.select(MemberCertification).where(
        MemberCertification.member_id == member.id,
        MemberCertification.certification_type_id == _type("CFPIM").id)).all()
    assert (awarded.certificate_number, awarded.earned_on, awarded.cycle_ends_on) == \
        ("CFPIM-100002", date(2023, 6, 10), date(2028, 6, 30))
    [line] = [e for e in _audit("certification.awarded") if e.member_id == member.id and e.actor_id is not None]
    assert (line.actor_id, line.summary, line.after) == (
        staff.id, "CFPIM awarded, certificate CFPIM-100002",
        {"certificate_number": "CFPIM-100002", "earned_on": "2023-06-10"})
    cpim = db.session.scalar(sa.select(MemberCertification).where(
        MemberCertification.member_id == member.id, MemberCertification.certification_type_id == _type("CPIM").id))
    assert cpim.cycle_ends_on == date(2023, 6, 30)
    assert _audit("certification.maintained") == []


@pytest.mark.parametrize("day, accepted", [(date(2023, 6, 30), True), (date(2023, 7, 1), False)])
def test_a_fellowship_needs_a_cpim_current_on_the_day(app, day, accepted):
    """CPIM due 2023-06-30: applying that day is accepted, the next day refused with the CPIM message."""
    member, staff, fellow, article = _fellowship_setup()
    if accepted:
        assert submit_fellowship(member, fellow.certificate_number, day=day).submitted_on == day
    else:
        error = _refused(submit_fellowship, member, fellow.certificate_number, day=day)
        assert (error.message, error.field) == ("A current CPIM is needed to apply.", None)
        assert _applications() == []


def test_a_member_without_cpim_cannot_apply_for_cfpim(app):
    """No CPIM at all: refused with the CPIM message."""
    member, staff, fellow, article = _fellowship_setup()
    newcomer = factories.member(status="pending")
    error = _refused(submit_fellowship, newcomer, fellow.certificate_number, day=date(2023, 6, 1))
    assert (error.message, error.field) == ("A current CPIM is needed to apply.", None)


def test_the_recommendation_must_be_a_current_cfpim_number(app):
    """An unknown number, a current CPIM holder's CPIM number and a suspended CFPIM are all refused."""
    member, staff, fellow, article = _fellowship_setup()
    recommender_cpim = db.session.scalar(sa.select(MemberCertification).where(
        MemberCertification.member_id == fellow.member_id,
        MemberCertification.certification_type_id == _type("CPIM").id))
    lapsed = factories.member(status="pending")
    _earn(lapsed, "CPIM", date(2015, 6, 10))  # suspended from 2020-07-01: their CFPIM is not current
    lapsed_fellow = _earn(lapsed, "CFPIM", date(2019, 1, 1))
    for number in ("CFPIM-999999", recommender_cpim.certificate_number, lapsed_fellow.certificate_number):
        error = _refused(submit_fellowship, member, number, day=date(2023, 6, 1))
        assert (error.message, error.field) == \
            ("Enter the certificate number of a current CFPIM holder.", "recommended_by")
    assert _applications() == []


def test_a_cfpim_holder_cannot_recommend_themselves(app):
    """A member holding a current CFPIM who names their own number is refused on the recommendation field."""
    member, staff, fellow, article = _fellowship_setup()
    own = _earn(member, "CFPIM", date(2022, 1, 1))
    error = _refused(submit_fellowship, member, own.certificate_number, day=date(2023, 6, 1))
    assert (error.message, error.field) == \
        ("The recommendation must come from another CFPIM holder.", "recommended_by")
    assert _applications() == []


def test_too_few_fellowship_points_are_refused_with_each_kind_counted(app):
    """20 exam, 40 of 60 presentation and 10 publication points: 70 of 100, each number in the message."""
    member, staff, fellow, article = _fellowship_setup()
    newcomer = factories.member(status="pending")
    _pass(newcomer, "CPIM-P1", date(2022, 1, 1))
    _pass(newcomer, "CPIM-P2", date(2022, 6, 1))
    _claim(newcomer, "teaching", 30, date(2022, 7, 1), approve_by=staff)
    _claim(newcomer, "article", 5, date(2022, 8, 1), approve_by=staff)
    error = _refused(submit_fellowship, newcomer, fellow.certificate_number, day=date(2023, 6, 1))
    assert (error.message, error.field) == (
        "70 points count towards the 100 needed (CPIM exams 20, presentations 40, publications 10).", None)
    assert _applications() == []


def test_with_no_points_total_set_a_fellowship_with_no_points_is_accepted(app):
    """Staff cleared the points a CFPIM application needs: a CPIM holder with 0 points may apply."""
    member, staff, fellow, article = _fellowship_setup()
    services.update_certification_rules(_type("CFPIM"), {"application_points_required": None}, actor=staff)
    newcomer = factories.member(status="pending")
    _earn(newcomer, "CPIM", date(2022, 1, 1))
    application = submit_fellowship(newcomer, fellow.certificate_number, day=date(2023, 6, 1))
    assert (application.points_counted, application.points_used, application.kind) == (0, [], "fellowship")


# --- Eligibility (CSCP) -------------------------------------------------------------------------------

@pytest.mark.parametrize("basis, note", [
    ("degree", "Bachelor's degree or equivalent"),
    ("experience", "3 years' related business experience"),
    ("certified", "Holds CPIM, CSCP, CLTD or another recognised designation"),
])
def test_an_eligibility_application_stores_the_basis_in_words_for_the_exams_certification(app, basis, note):
    """Applying for the CSCP exam stores a CSCP eligibility application with the basis spelled out."""
    member = factories.member(status="pending")
    application = submit_eligibility(member, _exam("CSCP"), basis, day=date(2026, 1, 5))
    stored = _reloaded(application)
    assert _columns(stored) == {
        "member_id": member.id, "certification_type_id": _type("CSCP").id, "member_certification_id": None,
        "kind": "eligibility", "status": ApplicationStatus.SUBMITTED, "submitted_on": date(2026, 1, 5),
        "points_counted": 0, "recommended_by": None, "note": note, "reviewed_by_id": None, "reviewed_on": None,
        "membership_points": 0, "membership_points_through": None}
    assert stored.points_used == []


def test_no_eligibility_application_for_an_exam_that_needs_none_or_once_approved(app):
    """CPIM Part 1 needs none; CSCP once approved needs none either: each is refused naming the exam."""
    member = factories.member(status="pending")
    error = _refused(submit_eligibility, member, _exam("CPIM-P1"), "degree", day=date(2026, 1, 5))
    assert (error.message, error.field) == ("No eligibility application is needed for CPIM Part 1.", None)
    db.session.add(ExamEligibility(member_id=member.id, exam_id=_exam("CSCP").id, approved_on=date(2025, 1, 5)))
    db.session.flush()
    error = _refused(submit_eligibility, member, _exam("CSCP"), "degree", day=date(2026, 1, 5))
    assert (error.message, error.field) == ("No eligibility application is needed for CSCP exam.", None)
    assert _applications() == []


@pytest.mark.parametrize("basis", ["", "phd", "Degree"])
def test_an_unknown_eligibility_basis_is_refused_on_the_basis_field(app, basis):
    """Only degree, experience or certified are bases: anything else is refused on the basis field."""
    member = factories.member(status="pending")
    error = _refused(submit_eligibility, member, _exam("CSCP"), basis, day=date(2026, 1, 5))
    assert (error.message, error.field) == ("Choose the basis of your application.", "basis")
    assert _applications() == []


def test_a_waiting_eligibility_application_blocks_only_the_same_members_same_certification(app):
    """The member's second CSCP application waits; another member, another certification's exam can apply."""
    factories.reference_data()
    _exam("CPIM-P1").requires_eligibility = True  # staff made Part 1 need an application too
    member = factories.member(status="pending")
    other = factories.member(status="pending")
    first = submit_eligibility(member, _exam("CSCP"), "degree", day=date(2026, 1, 5))
    error = _refused(submit_eligibility, member, _exam("CSCP"), "experience", day=date(2026, 1, 6))
    assert (error.message, error.field) == ("Your eligibility application is waiting for review.", None)
    others = submit_eligibility(other, _exam("CSCP"), "degree", day=date(2026, 1, 6))
    cpim = submit_eligibility(member, _exam("CPIM-P1"), "certified", day=date(2026, 1, 6))
    assert [(a.member_id, a.certification_type_id) for a in _applications()] == [
        (member.id, _type("CSCP").id), (other.id, _type("CSCP").id), (member.id, _type("CPIM").id)]
    assert [a.id for a in _applications()] == [first.id, others.id, cpim.id]


def test_a_rejected_eligibility_application_or_a_waiting_maintenance_does_not_block_applying(app):
    """A CSCP maintenance waiting for review and a rejected CSCP eligibility leave the member free to apply."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cscp = _earn(member, "CSCP", date(2020, 6, 10))
    _conferences(member, staff, 2023, 4)
    submit_maintenance(cscp, day=date(2025, 6, 1))
    first = submit_eligibility(member, _exam("CSCP"), "certified", day=date(2025, 6, 1))
    reject_application(first, actor=staff, day=date(2025, 6, 2))
    again = submit_eligibility(member, _exam("CSCP"), "experience", day=date(2025, 6, 3))
    assert (again.kind, again.status, again.note) == \
        ("eligibility", ApplicationStatus.SUBMITTED, "3 years' related business experience")


def test_approving_eligibility_opens_the_certifications_exams_that_need_it_and_audits_it(app):
    """Approved on 2026-01-12: one CSCP exam eligibility by that reviewer, none for Part 1 of CPIM, no award."""
    staff = factories.staff()
    factories.reference_data()
    _exam("CPIM-P1").requires_eligibility = True
    member = factories.member(status="pending")
    application = submit_eligibility(member, _exam("CSCP"), "experience", day=date(2026, 1, 5))
    approve_application(application, actor=staff, day=date(2026, 1, 12))
    stored = _reloaded(application)
    assert (stored.status, stored.reviewed_by_id, stored.reviewed_on) == \
        (ApplicationStatus.APPROVED, staff.id, date(2026, 1, 12))
    assert _eligibilities(member) == [(member.id, _exam("CSCP").id, date(2026, 1, 12), staff.id)]
    assert eligible_exam_ids(member) == {_exam("CSCP").id}
    [line] = _audit("exam.eligibility_approved")
    assert (line.actor_id, line.member_id, line.chapter_id, line.summary, line.before, line.after) == (
        staff.id, member.id, None, "Eligible for CSCP (3 years' related business experience)", None, None)
    assert db.session.scalar(sa.select(sa.func.count(MemberCertification.id))) == 0
    assert _audit("certification.maintained") == []


def test_approving_eligibility_adds_only_the_exams_not_yet_approved(app):
    """Parts 1 and 2 need eligibility and Part 1 was approved in 2025: approval adds Part 2 only."""
    staff = factories.staff()
    factories.reference_data()
    _exam("CPIM-P1").requires_eligibility = True
    _exam("CPIM-P2").requires_eligibility = True
    member = factories.member(status="pending")
    db.session.add(ExamEligibility(member_id=member.id, exam_id=_exam("CPIM-P1").id, approved_on=date(2025, 1, 5)))
    db.session.flush()
    application = submit_eligibility(member, _exam("CPIM-P2"), "degree", day=date(2026, 1, 5))
    assert application.certification_type_id == _type("CPIM").id
    approve_application(application, actor=staff, day=date(2026, 1, 12))
    assert _eligibilities(member) == [(member.id, _exam("CPIM-P1").id, date(2025, 1, 5), None),
                                      (member.id, _exam("CPIM-P2").id, date(2026, 1, 12), staff.id)]
    assert _audit("exam.eligibility_approved")[0].summary == "Eligible for CPIM (Bachelor's degree or equivalent)"


def test_eligible_exam_ids_are_the_members_own(app):
    """Another member's approved eligibility is not the member's."""
    factories.reference_data()
    member = factories.member(status="pending")
    other = factories.member(status="pending")
    db.session.add(ExamEligibility(member_id=member.id, exam_id=_exam("CPIM-P1").id, approved_on=date(2025, 1, 5)))
    db.session.add(ExamEligibility(member_id=other.id, exam_id=_exam("CSCP").id, approved_on=date(2025, 1, 5)))
    db.session.flush()
    assert eligible_exam_ids(member) == {_exam("CPIM-P1").id}
    assert eligible_exam_ids(other) == {_exam("CSCP").id}
    assert eligible_exam_ids(factories.member(status="pending")) == set()


# --- Waiting for review ---------------------------------------------------------------------------------

def test_pending_applications_are_the_submitted_ones_oldest_first_read_in_one_query(app):
    """Rejected and approved ones are left out; the rest by submission day, with member and type in one query."""
    staff = factories.staff()
    ada, bob, cy, dee = (factories.member(status="pending", first_name=n, last_name="Person") for n in
                         ("Ada", "Bob", "Cy", "Dee"))
    late = submit_eligibility(ada, _exam("CSCP"), "degree", day=date(2026, 3, 1))
    early = submit_eligibility(bob, _exam("CSCP"), "degree", day=date(2026, 1, 1))
    rejected = submit_eligibility(cy, _exam("CSCP"), "degree", day=date(2025, 12, 1))
    reject_application(rejected, actor=staff, day=date(2025, 12, 2))
    approved = submit_eligibility(dee, _exam("CSCP"), "degree", day=date(2025, 11, 1))
    approve_application(approved, actor=staff, day=date(2025, 11, 2))
    middle = submit_eligibility(cy, _exam("CSCP"), "experience", day=date(2026, 2, 1))
    db.session.commit()
    db.session.expire_all()
    with _Statements() as statements:
        waiting = pending_applications()
        shown = [(a.id, a.member.full_name, a.certification_type.code, a.submitted_on) for a in waiting]
    assert shown == [(early.id, "Bob Person", "CSCP", date(2026, 1, 1)), (middle.id, "Cy Person", "CSCP", date(2026, 2, 1)),
                     (late.id, "Ada Person", "CSCP", date(2026, 3, 1))]
    assert statements.count == 1


# --- The public look-up ---------------------------------------------------------------------------------

def test_verification_shows_name_certification_number_status_and_dates(app):
    """CPIM earned 2020-01-05, due 2025-01-31: current on the deadline, suspended the day after, every field shown."""
    member = factories.member(status="pending", first_name="Grace", last_name="Hopper")
    cpim = _earn(member, "CPIM", date(2020, 1, 5))
    found = verify(f" {cpim.certificate_number.lower()} ", "HOPPER", date(2025, 1, 31))
    assert found == Verification("Grace Hopper", "Certified in Planning and Inventory Management", "CPIM-100001",
                                 CertificationStatus.CURRENT, date(2020, 1, 5), date(2025, 1, 31), None)
    later = verify("CPIM-100001", "Hopper", date(2025, 2, 1))
    assert (later.status, later.earned_on, later.valid_until, later.reason) == \
        (CertificationStatus.SUSPENDED, date(2020, 1, 5), date(2025, 1, 31), None)


def test_verification_of_a_cfpim_without_cpim_gives_the_reason(app):
    """A CFPIM whose holder has no CPIM is suspended, and the look-up says why."""
    member = factories.member(status="pending", first_name="Alan", last_name="Turing")
    cfpim = _earn(member, "CFPIM", date(2022, 3, 1))
    found = verify(cfpim.certificate_number, "turing", date(2023, 1, 1))
    assert found == Verification("Alan Turing", "Certified Fellow in Production and Inventory Management",
                                 "CFPIM-100001", CertificationStatus.SUSPENDED, date(2022, 3, 1), date(2027, 3, 31),
                                 "It requires a current CPIM, which is not held.")


def test_verification_reads_the_holder_and_certification_in_one_query(app):
    """The look-up of a CPIM loads its holder and type with the certificate: one statement."""
    member = factories.member(status="pending", first_name="Grace", last_name="Hopper")
    cpim = _earn(member, "CPIM", date(2020, 1, 5))
    number = cpim.certificate_number
    db.session.commit()
    db.session.expire_all()
    with _Statements() as statements:
        found = verify(number, "Hopper", date(2024, 1, 1))
        shown = (found.holder, found.certification, found.status)
    assert shown == ("Grace Hopper", "Certified in Planning and Inventory Management", CertificationStatus.CURRENT)
    assert statements.count == 1
