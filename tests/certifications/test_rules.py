"""The association's certification rules at their edges, with the exact dates of issue 11."""
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.models import (
    CertificationStatus, CertificationType, ExamProgram, MemberCertification, PointCategory,
    PointStatus,
)
from chapter.core.errors import DomainError
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from tests import factories


def _type(code: str) -> CertificationType:
    factories.reference_data()
    return db.session.scalar(sa.select(CertificationType).where(CertificationType.code == code))


def _category(code: str) -> PointCategory:
    factories.reference_data()
    return db.session.scalar(sa.select(PointCategory).where(PointCategory.code == code))


def _earn(member, code: str, earned_on: date) -> MemberCertification:
    return services.grant_certification(member, _type(code), earned_on, actor=None)


def _claim(member, code: str, units: int, earned_on: date, *, approve_by=None, chapter_id=None):
    entry = services.log_points(member, _category(code), units, earned_on, f"{code} on {earned_on}", day=earned_on,
                                evidence_url="https://example.org/certificate.pdf", chapter_id=chapter_id)
    if approve_by is not None:
        services.review_points(entry, approve=True, actor=approve_by, day=earned_on)
    return entry


def _pass(member, exam_code: str, taken_on: date):
    factories.reference_data()
    return services.record_exam_result(member, services.exam_by_code(exam_code), taken_on, 320, actor=None)


# --- Points need evidence -----------------------------------------------------------------------

def test_a_claimed_activity_counts_only_once_staff_approve_it(app):
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    entry = _claim(member, "conference", 1, date(2021, 3, 1))
    assert entry.status is PointStatus.CLAIMED and entry.evidence_url == "https://example.org/certificate.pdf"
    assert services.points_summary(cpim, date(2021, 4, 1)).regular == 0
    services.review_points(entry, approve=True, actor=factories.staff(), day=date(2021, 3, 5))
    assert entry.status is PointStatus.APPROVED and entry.reviewed_on == date(2021, 3, 5)
    assert services.points_summary(cpim, date(2021, 4, 1)).regular == 24


def test_a_rejected_claim_never_counts_and_cannot_be_reviewed_again(app):
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    entry = _claim(member, "education", 10, date(2021, 3, 1))
    staff = factories.staff()
    services.review_points(entry, approve=False, actor=staff, day=date(2021, 3, 2), note="No certificate")
    assert services.points_summary(cpim, date(2021, 4, 1)).regular == 0
    with pytest.raises(DomainError, match="already reviewed"):
        services.review_points(entry, approve=True, actor=staff, day=date(2021, 3, 3))


def test_the_chapters_vp_education_approves_its_events_but_no_one_elses(app):
    home, other = factories.chapter(), factories.chapter()
    vp = factories.officer(home, "vp_education", starts_on=date(2020, 1, 1))
    other_vp = factories.officer(other, "vp_education", starts_on=date(2020, 1, 1))
    treasurer = factories.officer(home, "treasurer", starts_on=date(2020, 1, 1))
    member = factories.member(status="pending")
    event = _claim(member, "education", 3, date(2024, 5, 1), chapter_id=home.id)
    webinar = _claim(member, "education", 2, date(2024, 5, 2))
    day = date(2024, 5, 10)
    assert services.claims_to_review(vp, day) == [event]
    assert services.claims_to_review(other_vp, day) == []
    for outsider in (other_vp, treasurer):
        with pytest.raises(DomainError):
            services.review_points(event, approve=True, actor=outsider, day=day)
    with pytest.raises(DomainError):
        services.review_points(webinar, approve=True, actor=vp, day=day)  # not a chapter event: staff only
    services.review_points(event, approve=True, actor=vp, day=day)
    assert event.status is PointStatus.APPROVED and event.reviewed_by_id == vp.id


@pytest.mark.parametrize("code", ["membership", "cpim_exam", "cscp_exam"])
def test_exam_and_membership_points_cannot_be_typed_in(app, code):
    member = factories.member(status="pending")
    with pytest.raises(DomainError, match="cannot be entered"):
        services.log_points(member, _category(code), 5, date(2024, 1, 1), "typed in", day=date(2024, 1, 2))


def test_an_evidence_link_must_be_a_web_address(app):
    member = factories.member(status="pending")
    with pytest.raises(DomainError, match="https://"):
        services.log_points(member, _category("education"), 1, date(2024, 1, 1), "x", day=date(2024, 1, 2),
                            evidence_url="javascript:alert(1)")


def test_an_exam_pass_earns_approved_points_from_the_recorded_result(app):
    member = factories.member(status="pending")
    _pass(member, "CPIM-P1", date(2020, 3, 15))
    entries = services.point_entries_of(member)
    assert [(e.points, e.status, e.automatic) for e in entries] == [(10, PointStatus.APPROVED, True)]


# --- Membership points ----------------------------------------------------------------------------

def test_a_year_split_across_three_types_by_upgrades_still_counts_6(app):
    member = factories.member(status="pending")
    for code, starts, ends in [("student", date(2021, 1, 1), date(2021, 3, 31)),
                               ("retired", date(2021, 4, 1), date(2021, 8, 31)),
                               ("professional", date(2021, 9, 1), date(2021, 12, 31))]:
        member_services.grant_term(member, factories.membership_type(code), starts_on=starts, ends_on=ends,
                                   source=TermSource.PAYMENT, actor=None)
    assert services.membership_points(member, date(2021, 1, 1), date(2021, 12, 31)) == 6
    assert services.membership_points(member, date(2021, 1, 1), date(2021, 12, 30)) == 0  # not a whole year


def test_five_years_of_membership_in_the_cycle_count_30_over_yearly_terms(app):
    member = factories.member(status="pending")
    for year in range(2020, 2026):
        member_services.grant_term(member, factories.membership_type(), starts_on=date(year, 6, 10),
                                   source=TermSource.PAYMENT, actor=None)
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    summary = services.points_summary(cpim, date(2025, 6, 30))
    assert summary.membership == 30


# --- The first cycle starts the day earned --------------------------------------------------------

def test_a_conference_ten_days_after_earning_counts_in_the_first_cycle(app):
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    assert cpim.cycle_ends_on == date(2025, 6, 30)
    assert services.cycle_starts_on(cpim) == date(2020, 6, 10)
    _claim(member, "conference", 1, date(2020, 6, 20), approve_by=factories.staff())
    assert services.points_summary(cpim, date(2020, 7, 1)).regular == 24


# --- The same points are not counted twice --------------------------------------------------------

def test_points_used_for_a_reinstatement_cannot_satisfy_the_next_maintenance(app):
    member = factories.member(status="pending")
    staff = factories.staff()
    cpim = _earn(member, "CPIM", date(2015, 6, 10))  # deadline 2020-06-30, missed
    for month in (1, 2, 3, 4):
        _claim(member, "conference", 1, date(2021, month, 15), approve_by=staff)  # 96 regular points
    day = date(2021, 8, 1)  # one whole year suspended: 75 + 15
    assert services.points_required(cpim, day) == 90
    application = services.submit_maintenance(cpim, day=day)
    assert len(application.points_used) == 4 and application.points_counted == 96
    services.approve_application(application, actor=staff, day=day)
    assert cpim.cycle_ends_on == date(2025, 6, 30)
    # The new cycle runs from 2020-07-01 and holds the four conferences, but they were used.
    summary = services.points_summary(cpim, date(2025, 6, 1))
    assert summary.regular == 0 and summary.entries == ()
    with pytest.raises(DomainError, match="more are needed"):
        services.submit_maintenance(cpim, day=date(2025, 6, 1))


def test_a_rejected_application_gives_its_points_back(app):
    member = factories.member(status="pending")
    staff = factories.staff()
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    for month in (1, 2, 3, 4):
        _claim(member, "conference", 1, date(2023, month, 15), approve_by=staff)
    application = services.submit_maintenance(cpim, day=date(2025, 5, 1))
    services.reject_application(application, actor=staff, day=date(2025, 5, 2))
    assert services.points_summary(cpim, date(2025, 5, 3)).regular == 96


def test_membership_days_counted_by_an_application_are_not_counted_again(app):
    member = factories.member(status="pending")
    staff = factories.staff()
    member_services.grant_term(member, factories.membership_type("lifetime"), starts_on=date(2015, 6, 10),
                               source=TermSource.STAFF_GRANT, actor=None)
    cpim = _earn(member, "CPIM", date(2015, 6, 10))
    for month in (1, 2, 3):
        _claim(member, "conference", 1, date(2021, month, 15), approve_by=staff)
    day = date(2021, 8, 1)
    summary = services.points_summary(cpim, day)
    # The first cycle from the day earned, then the suspension: 2015-06-10..2021-08-01 is 6 whole years.
    assert summary.membership == 36 and summary.membership_through == day
    application = services.submit_maintenance(cpim, day=day)
    assert application.membership_points_through == day and application.membership_points == 36
    services.approve_application(application, actor=staff, day=day)
    # The new cycle starts 2020-07-01, but the days to 2021-08-01 were counted already.
    later = services.points_summary(cpim, date(2022, 7, 31))
    assert later.membership_from == date(2021, 8, 2) and later.membership == 0
    assert services.points_summary(cpim, date(2022, 8, 1)).membership == 6  # 2021-08-02..2022-08-01: 365 days


# --- Leap years: whole years from month ends -----------------------------------------------------

def test_a_deadline_of_2023_02_28_suspends_from_1_march_and_terminates_on_2028_03_01(app):
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2018, 2, 15))
    assert cpim.cycle_ends_on == date(2023, 2, 28)
    assert services.status_of(cpim, date(2023, 2, 28)) is CertificationStatus.CURRENT
    assert services.status_of(cpim, date(2023, 3, 1)) is CertificationStatus.SUSPENDED
    assert services.points_required(cpim, date(2024, 2, 29)) == 75  # one year later: still the base points
    assert services.points_required(cpim, date(2024, 3, 1)) == 90
    assert services.status_of(cpim, date(2028, 2, 29)) is CertificationStatus.SUSPENDED
    assert services.status_of(cpim, date(2028, 3, 1)) is CertificationStatus.TERMINATED


def test_a_cfpim_deadline_of_2023_02_28_needs_100_not_120_on_2024_02_29(app):
    member = factories.member(status="pending")
    _earn(member, "CPIM", date(2023, 1, 10))
    cfpim = _earn(member, "CFPIM", date(2018, 2, 15))
    assert services.points_required(cfpim, date(2024, 2, 29)) == 100
    assert services.points_required(cfpim, date(2024, 3, 1)) == 120


# --- Terminated means retake -----------------------------------------------------------------------

def test_passing_again_after_termination_is_a_new_award_and_the_old_one_stays_terminated(app):
    member = factories.member(status="pending")
    _pass(member, "CPIM-P1", date(2017, 1, 10))
    _pass(member, "CPIM-P2", date(2017, 6, 10))
    first = services.certifications_of(member)[0]
    assert first.earned_on == date(2017, 6, 10) and first.cycle_ends_on == date(2022, 6, 30)
    assert services.terminated_from(first) == date(2027, 7, 1)
    _pass(member, "CPIM-P1", date(2027, 6, 20))  # still suspended: no new award, and it is not a retake
    assert len(services.certifications_of(member)) == 1
    _pass(member, "CPIM-P1", date(2027, 9, 1))
    _pass(member, "CPIM-P2", date(2028, 1, 15))
    old, new = services.certifications_of(member)
    assert old.id == first.id and services.status_of(old, date(2028, 2, 1)) is CertificationStatus.TERMINATED
    assert new.earned_on == date(2028, 1, 15) and new.certificate_number != old.certificate_number
    assert services.status_of(new, date(2028, 2, 1)) is CertificationStatus.CURRENT
    assert new.cycle_ends_on == date(2033, 1, 31)


def test_a_terminated_certification_cannot_be_maintained(app):
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2015, 6, 10))
    with pytest.raises(DomainError, match="terminated"):
        services.submit_maintenance(cpim, day=date(2025, 7, 1))


# --- CFPIM ---------------------------------------------------------------------------------------------

def test_a_cfpim_whose_cpim_is_suspended_is_not_current_and_verify_says_so(app):
    member = factories.member(status="pending", last_name="Núñez")
    _earn(member, "CPIM", date(2015, 6, 10))  # deadline 2020-06-30
    cfpim = _earn(member, "CFPIM", date(2019, 3, 1))  # deadline 2024-03-31
    assert services.status_of(cfpim, date(2020, 6, 30)) is CertificationStatus.CURRENT
    assert services.status_of(cfpim, date(2020, 7, 1)) is CertificationStatus.SUSPENDED
    found = services.verify(cfpim.certificate_number, "Nunez", date(2020, 7, 1))
    assert found.status is CertificationStatus.SUSPENDED
    assert found.reason == "It requires a current CPIM, which is suspended."


def _fellowship_candidate():
    staff = factories.staff()
    recommender = factories.member(status="pending")
    _earn(recommender, "CPIM", date(2019, 1, 1))  # current to 2024-01-31
    fellow = _earn(recommender, "CFPIM", date(2019, 1, 1))
    member = factories.member(status="pending")
    return member, staff, fellow


def test_cfpim_application_counts_cpim_exams_up_to_75_and_presentations_up_to_40_from_the_last_3_years(app):
    member, staff, fellow = _fellowship_candidate()
    # Eight CPIM exam passes (five modules and the later parts): 80 exam points, 75 count.
    for code, taken in [("BSCM", date(2013, 2, 1)), ("MPR", date(2013, 5, 1)), ("DSP", date(2013, 9, 1)),
                        ("ECO", date(2014, 1, 1)), ("SMR", date(2014, 6, 1)), ("CPIM-P1", date(2018, 1, 1)),
                        ("CPIM-P2", date(2018, 6, 1))]:
        _pass(member, code, taken)
    day = date(2019, 6, 1)  # CPIM earned 2014-06-01 (five modules), current to 2019-06-30
    _claim(member, "teaching", 10, date(2016, 5, 31), approve_by=staff)  # 20 points, more than 3 years ago
    _claim(member, "teaching", 25, date(2016, 6, 1), approve_by=staff)  # 50 points, within 3 years: 40 count
    _claim(member, "article", 2, date(2010, 1, 1), approve_by=staff)  # 4 publication points, any age
    points = services.fellowship_points(member, _type("CFPIM"), day)
    assert (points.exams, points.presentations, points.publications) == (70, 40, 4)
    assert points.total == 114
    application = services.submit_fellowship(member, fellow.certificate_number, day=day)
    assert application.points_counted == 114


def test_cfpim_exam_points_are_capped_at_75(app):
    member, staff, fellow = _fellowship_candidate()
    for code, taken in [("BSCM", date(2013, 2, 1)), ("MPR", date(2013, 5, 1)), ("DSP", date(2013, 9, 1)),
                        ("ECO", date(2014, 1, 1)), ("SMR", date(2014, 6, 1)), ("CPIM-P1", date(2018, 1, 1)),
                        ("CPIM-P2", date(2018, 6, 1)), ("CPIM-P1", date(2019, 1, 1))]:
        _pass(member, code, taken)
    points = services.fellowship_points(member, _type("CFPIM"), date(2024, 6, 1))
    assert points.exams == 75


def test_the_cfpim_total_and_caps_are_data_staff_edit(app):
    member, staff, fellow = _fellowship_candidate()
    _pass(member, "CPIM-P1", date(2018, 1, 1))
    _pass(member, "CPIM-P2", date(2018, 6, 1))
    _claim(member, "article", 40, date(2023, 1, 1), approve_by=staff)  # 80 publication points
    day = date(2023, 6, 1)  # CPIM earned 2018-06-01, current to 2023-06-30
    application = services.submit_fellowship(member, fellow.certificate_number, day=day)
    assert application.points_counted == 100
    services.reject_application(application, actor=staff, day=day)
    services.update_certification_rules(_type("CFPIM"), {"application_points_required": 120}, actor=staff)
    with pytest.raises(DomainError, match="100 points count towards the 120 needed"):
        services.submit_fellowship(member, fellow.certificate_number, day=day)


def test_a_cfpim_application_needs_a_current_cpim(app):
    member, staff, fellow = _fellowship_candidate()
    _earn(member, "CPIM", date(2015, 6, 10))  # suspended from 2020-07-01
    with pytest.raises(DomainError, match="A current CPIM is needed"):
        services.submit_fellowship(member, fellow.certificate_number, day=date(2021, 1, 1))


# --- Results and authorizations --------------------------------------------------------------------

def test_a_result_dated_before_its_att_was_issued_is_refused_and_a_used_att_shows_used(app):
    member = factories.member()
    exam = services.exam_by_code("CLTD")
    order = services.start_exam_purchase(member, exam, actor=None, day=date(2026, 3, 1))
    registration = services.fulfil_exam_order(order, date(2026, 3, 1))
    with pytest.raises(DomainError, match="before the authorization to test"):
        services.record_exam_result(member, exam, date(2026, 2, 28), 320, actor=None)
    assert registration.state_on(date(2026, 3, 5)) == "valid"
    result = services.record_exam_result(member, exam, date(2026, 3, 10), 320, actor=None)
    assert result.registration_id == registration.id and registration.used_on == date(2026, 3, 10)
    assert registration.state_on(date(2026, 3, 11)) == "used"
    assert registration.state_on(date(2027, 1, 1)) == "used"


# --- The 10-year module validity from 2013 ----------------------------------------------------------

def _modules(member, days):
    for code, day in zip(["BSCM", "MPR", "DSP", "ECO", "SMR"], days):
        _pass(member, code, day)


def test_modules_passed_before_2013_are_not_bound_by_the_ten_years(app):
    member = factories.member(status="pending")
    _modules(member, [date(2009, 4, 1), date(2012, 12, 31), date(2016, 1, 1), date(2020, 1, 1), date(2022, 5, 1)])
    cpim = services.certifications_of(member)[0]
    assert cpim.earned_on == date(2022, 5, 1)


def test_modules_passed_from_2013_must_fit_in_ten_years(app):
    member = factories.member(status="pending")
    _modules(member, [date(2009, 4, 1), date(2013, 1, 1), date(2016, 1, 1), date(2020, 1, 1), date(2023, 1, 2)])
    assert services.certifications_of(member) == []


def test_the_date_the_ten_years_apply_from_is_data(app):
    factories.reference_data()
    program = db.session.scalar(sa.select(ExamProgram).where(ExamProgram.code == "CPIM5"))
    assert program.window_applies_from == date(2013, 1, 1)
    program.window_applies_from = date(2000, 1, 1)
    member = factories.member(status="pending")
    _modules(member, [date(2009, 4, 1), date(2012, 12, 31), date(2016, 1, 1), date(2020, 1, 1), date(2022, 5, 1)])
    assert services.certifications_of(member) == []


# --- Verification ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("stored, typed", [
    ("Müller", "Muller"), ("Müller", "MÜLLER"), ("Müller", "Mu\u0308ller"), ("Mu\u0308ller", "Müller"),
    ("Núñez", "Nunez"), ("Strauß", "Strauss"), ("van der Berg", "van  der berg"), ("O'Brien", "  o'brien "),
])
def test_verification_matches_the_last_name_as_people_type_it(app, stored, typed):
    member = factories.member(status="pending", last_name=stored)
    cpim = _earn(member, "CPIM", date(2024, 1, 5))
    found = services.verify(cpim.certificate_number, typed, date(2024, 6, 1))
    assert found is not None and found.status is CertificationStatus.CURRENT


def test_verification_says_suspended_and_terminated_and_a_miss_reveals_nothing(app):
    member = factories.member(status="pending", last_name="Strauß")
    cpim = _earn(member, "CPIM", date(2015, 6, 10))
    assert services.verify(cpim.certificate_number, "strauss", date(2020, 7, 1)).status is CertificationStatus.SUSPENDED
    assert services.verify(cpim.certificate_number, "strauss", date(2025, 7, 1)).status is CertificationStatus.TERMINATED
    assert services.verify(cpim.certificate_number, "Strauch", date(2020, 7, 1)) is None
    assert services.verify("CPIM-999999", "Strauss", date(2020, 7, 1)) is None
