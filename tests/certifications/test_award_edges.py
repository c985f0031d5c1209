"""Awards at their edges: the certificate number, the first deadline, the audit line and the event of an award;
which passes earn one (the window's first and last day, the day of termination); which award counts as the one
required (CFPIM on CPIM); the status, its reason and the points required on the edge days; the roster filter."""
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.models import (
    CertificationStatus, CertificationType, ExamProgram, ExamResult, MemberCertification,
)
from chapter.core import domain_events
from chapter.core.audit import AuditEntry
from chapter.extensions import db
from chapter.members.models import Member
from tests import factories

CURRENT, SUSPENDED, TERMINATED = (CertificationStatus.CURRENT, CertificationStatus.SUSPENDED,
                                  CertificationStatus.TERMINATED)

_events: list[tuple[str, dict]] = []


def _record_event(name: str, payload: dict) -> None:
    _events.append((name, payload))


domain_events.subscribe_all(_record_event)


@pytest.fixture
def awarded_events():
    """The certification.awarded payloads published during the test."""
    _events.clear()
    yield lambda: [payload for name, payload in _events if name == "certification.awarded"]
    _events.clear()


def _type(code: str) -> CertificationType:
    factories.reference_data()
    return db.session.scalar(sa.select(CertificationType).where(CertificationType.code == code))


def _program(code: str) -> ExamProgram:
    factories.reference_data()
    return db.session.scalar(sa.select(ExamProgram).where(ExamProgram.code == code))


def _earn(member, code: str, earned_on: date, actor=None) -> MemberCertification:
    return services.grant_certification(member, _type(code), earned_on, actor=actor)


def _pass(member, exam_code: str, taken_on: date, score: int = 320):
    factories.reference_data()
    return services.record_exam_result(member, services.exam_by_code(exam_code), taken_on, score, actor=None)


def _result_row(member, exam_code: str, taken_on: date, score: int = 320) -> ExamResult:
    """A result stored as an import would leave it, before any award is worked out."""
    factories.reference_data()
    exam = services.exam_by_code(exam_code)
    row = ExamResult(member_id=member.id, exam_id=exam.id, taken_on=taken_on, score=score,
                     passed=score >= exam.pass_score)
    db.session.add(row)
    db.session.flush()
    return row


def _held(member) -> list[tuple[str, date, date]]:
    return [(h.certification_type.code, h.earned_on, h.cycle_ends_on) for h in services.certifications_of(member)]


def _audit_lines(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _passes(**by_exam: list[date]) -> dict[int, list[date]]:
    """Pass days by exam id, from exam codes (CPIM_P1 for CPIM-P1)."""
    factories.reference_data()
    return {services.exam_by_code(code.replace("_", "-")).id: days for code, days in by_exam.items()}


# --- What an award stores ---------------------------------------------------------------------------

def test_certificate_numbers_start_at_100001_with_the_type_prefix_and_each_type_counts_on_its_own(app):
    """The first CPIM is CPIM-100001, the next CPIM-100002; the first CSCP is CSCP-100001."""
    first, second = factories.member(status="pending"), factories.member(status="pending")
    numbers = [_earn(first, "CPIM", date(2020, 6, 10)).certificate_number,
               _earn(second, "CPIM", date(2020, 6, 11)).certificate_number,
               _earn(first, "CSCP", date(2020, 6, 12)).certificate_number]
    assert numbers == ["CPIM-100001", "CPIM-100002", "CSCP-100001"]


def test_an_award_stores_the_member_the_type_the_earned_day_and_a_deadline_at_the_month_end_five_years_on(app):
    """Re-read from the database: every column of the row written by the award."""
    member = factories.member(status="pending")
    held_id = _earn(member, "CLTD", date(2020, 6, 10)).id
    db.session.expire_all()
    row = db.session.get(MemberCertification, held_id)
    assert (row.member_id, row.certification_type_id, row.certificate_number, row.earned_on, row.cycle_ends_on) == \
        (member.id, _type("CLTD").id, "CLTD-100001", date(2020, 6, 10), date(2025, 6, 30))


@pytest.mark.parametrize("earned_on, deadline", [
    (date(2019, 2, 28), date(2024, 2, 29)),  # five years on is 28 February 2024, whose month ends on the 29th
    (date(2020, 2, 29), date(2025, 2, 28)),
    (date(2020, 1, 31), date(2025, 1, 31)),
    (date(2020, 12, 1), date(2025, 12, 31)),
])
def test_the_first_deadline_is_the_last_day_of_the_earning_month_five_years_later(app, earned_on, deadline):
    """The deadline is the month end of the same month, cycle_years (5) later, leap months included."""
    member = factories.member(status="pending")
    assert _earn(member, "CPIM", earned_on).cycle_ends_on == deadline
    assert services.cycle_end_for(_type("CPIM"), earned_on) == deadline


def test_a_cycle_staff_shortened_to_three_years_gives_a_deadline_three_years_on(app):
    """cycle_years is data: 3 years from 10 June 2020 ends on 30 June 2023."""
    services.update_certification_rules(_type("CSCP"), {"cycle_years": 3}, actor=factories.staff())
    member = factories.member(status="pending")
    assert _earn(member, "CSCP", date(2020, 6, 10)).cycle_ends_on == date(2023, 6, 30)


def test_an_award_is_audited_with_who_awarded_it_the_member_the_number_and_the_earned_day(app):
    """One certification.awarded line: actor, member, summary with the number, the number and day after."""
    staff = factories.staff()
    member = factories.member(status="pending")
    _earn(member, "CPIM", date(2020, 6, 10), actor=staff)
    [line] = _audit_lines("certification.awarded")
    assert (line.actor_id, line.member_id, line.chapter_id, line.before) == (staff.id, member.id, None, None)
    assert line.summary == "CPIM awarded, certificate CPIM-100001"
    assert line.after == {"certificate_number": "CPIM-100001", "earned_on": "2020-06-10"}


def test_an_award_is_published_with_the_member_their_chapter_the_number_and_both_dates(app, awarded_events):
    """The event names the home chapter and its number; a member without a chapter has None for both."""
    chapter = factories.chapter(412)
    member = factories.member(home=chapter, status="pending")
    homeless = factories.member(home=None, status="pending")
    held = _earn(member, "CPIM", date(2020, 6, 10))
    other = _earn(homeless, "CSCP", date(2021, 2, 3))
    assert awarded_events() == [
        {"member_certification_id": held.id, "member_id": member.id, "member_number": member.member_number,
         "chapter_id": chapter.id, "chapter_number": 412, "certification": "CPIM",
         "certificate_number": "CPIM-100001", "earned_on": "2020-06-10", "cycle_ends_on": "2025-06-30"},
        {"member_certification_id": other.id, "member_id": homeless.id, "member_number": homeless.member_number,
         "chapter_id": None, "chapter_number": None, "certification": "CSCP",
         "certificate_number": "CSCP-100001", "earned_on": "2021-02-03", "cycle_ends_on": "2026-02-28"},
    ]


# --- The latest award of each type --------------------------------------------------------------------

def test_the_latest_award_of_each_type_is_the_latest_earned_even_when_recorded_first(app):
    """A 2022 CPIM recorded before a 2010 one is still the latest; awards list by earned day; others' are not theirs."""
    member, other = factories.member(status="pending"), factories.member(status="pending")
    new = _earn(member, "CPIM", date(2022, 5, 1))
    old = _earn(member, "CPIM", date(2010, 5, 1))
    cscp = _earn(member, "CSCP", date(2015, 1, 1))
    _earn(other, "CLTD", date(2023, 1, 1))
    _earn(other, "CPIM", date(2024, 1, 1))
    assert services.latest_awards(member.id) == {_type("CPIM").id: new, _type("CSCP").id: cscp}
    assert services.certifications_of(member) == [old, cscp, new]  # the transcript: by earned day
    assert services.latest_awards(factories.member(status="pending").id) == {}


def test_of_two_awards_earned_the_same_day_the_one_recorded_later_is_the_latest(app):
    """Same earned day: the higher id wins, in latest_awards and as the required award."""
    member = factories.member(status="pending")
    _earn(member, "CPIM", date(2022, 5, 1))
    later = _earn(member, "CPIM", date(2022, 5, 1))
    cfpim = _earn(member, "CFPIM", date(2022, 6, 1))
    assert services.latest_awards(member.id)[_type("CPIM").id] is later
    assert services.required_award(cfpim) is later


# --- Which passes earn an award -------------------------------------------------------------------

def test_a_module_passed_on_the_day_the_ten_years_apply_from_opens_a_window_to_that_day_ten_years_on(app):
    """BSCM on 2013-01-01 is bound by the window: SMR on 2023-01-01 completes it, 2023-01-02 does not."""
    program = _program("CPIM5")
    others = {"MPR": [date(2014, 3, 1)], "DSP": [date(2015, 3, 1)], "ECO": [date(2016, 3, 1)]}
    inside = _passes(BSCM=[date(2013, 1, 1)], SMR=[date(2023, 1, 1)], **others)
    outside = _passes(BSCM=[date(2013, 1, 1)], SMR=[date(2023, 1, 2)], **others)
    assert services.program_completed_on(inside, program) == date(2023, 1, 1)
    assert services.program_completed_on(outside, program) is None


def test_a_module_passed_the_day_before_the_ten_years_apply_counts_whenever_the_others_fit(app):
    """BSCM on 2012-12-31 is not bound: the four others within ten years complete on the last of them."""
    program = _program("CPIM5")
    passes = _passes(BSCM=[date(2012, 12, 31)], MPR=[date(2014, 3, 1)], DSP=[date(2015, 3, 1)],
                     ECO=[date(2016, 3, 1)], SMR=[date(2023, 1, 2)])
    assert services.program_completed_on(passes, program) == date(2023, 1, 2)


def test_the_earliest_completion_is_found_among_repeated_passes(app):
    """Part 1 in 2017 and 2019, Part 2 in 2020 and 2021: the window opened by the 2019 pass completes 2020-03-01."""
    passes = _passes(CPIM_P1=[date(2017, 2, 1), date(2019, 5, 1)], CPIM_P2=[date(2021, 1, 1), date(2020, 3, 1)])
    assert services.program_completed_on(passes, _program("CPIM2")) == date(2020, 3, 1)
    assert services.program_completed_on({}, _program("CPIM2")) is None


def test_a_single_exam_program_is_completed_by_its_earliest_pass(app):
    """CSCP passed in 2021 and 2019: earned in 2019."""
    passes = _passes(CSCP=[date(2021, 5, 1), date(2019, 3, 1)])
    assert services.program_completed_on(passes, _program("CSCP")) == date(2019, 3, 1)


def test_another_members_passes_never_complete_a_members_program(app):
    """One member passed both parts; another who passed Part 1 only holds nothing."""
    holder, member = factories.member(status="pending"), factories.member(status="pending")
    _pass(holder, "CPIM-P1", date(2020, 3, 1))
    _pass(holder, "CPIM-P2", date(2020, 9, 1))
    _pass(member, "CPIM-P1", date(2020, 10, 1))
    assert _held(holder) == [("CPIM", date(2020, 9, 1), date(2025, 9, 30))]
    assert _held(member) == []


def test_a_failed_attempt_does_not_complete_a_program_and_the_later_pass_does(app):
    """Part 2 failed (299) earns nothing; passed two weeks later it earns CPIM on that day."""
    member = factories.member(status="pending")
    _pass(member, "CPIM-P1", date(2020, 3, 15))
    _pass(member, "CPIM-P2", date(2020, 9, 15), score=299)
    assert _held(member) == []
    _pass(member, "CPIM-P2", date(2020, 9, 29))
    assert _held(member) == [("CPIM", date(2020, 9, 29), date(2025, 9, 30))]


def test_after_termination_a_pass_on_the_first_day_of_termination_counts_and_one_the_day_before_not(app):
    """Terminated from 2027-07-01: Part 1 on 2027-06-30 does not count towards a new award; on 2027-07-01 it does."""
    member = factories.member(status="pending")
    _pass(member, "CPIM-P1", date(2017, 1, 10))
    _pass(member, "CPIM-P2", date(2017, 6, 10))
    assert services.terminated_from(services.certifications_of(member)[0]) == date(2027, 7, 1)
    _pass(member, "CPIM-P1", date(2027, 6, 30))
    _pass(member, "CPIM-P2", date(2028, 1, 15))
    assert len(services.certifications_of(member)) == 1
    _pass(member, "CPIM-P1", date(2027, 7, 1))
    assert _held(member) == [("CPIM", date(2017, 6, 10), date(2022, 6, 30)),
                             ("CPIM", date(2028, 1, 15), date(2033, 1, 31))]


def test_award_due_certifications_returns_each_new_award_in_program_order_audited_by_the_actor(app):
    """Imported CLTD and CSCP passes: both awarded at once, CSCP first; run again it awards nothing."""
    staff = factories.staff()
    member = factories.member(status="pending")
    _result_row(member, "CLTD", date(2024, 6, 3))
    _result_row(member, "CSCP", date(2024, 8, 5))
    awarded = services.award_due_certifications(member, actor=staff)
    assert [(h.certification_type.code, h.certificate_number, h.earned_on) for h in awarded] == \
        [("CSCP", "CSCP-100001", date(2024, 8, 5)), ("CLTD", "CLTD-100001", date(2024, 6, 3))]
    assert [(line.actor_id, line.member_id, line.summary) for line in _audit_lines("certification.awarded")] == [
        (staff.id, member.id, "CSCP awarded, certificate CSCP-100001"),
        (staff.id, member.id, "CLTD awarded, certificate CLTD-100001")]
    assert services.award_due_certifications(member, actor=staff) == []


@pytest.mark.parametrize("parts_first", [False, True])
def test_when_two_programs_are_complete_at_once_the_earliest_completion_is_the_earned_day(app, parts_first):
    """Five modules complete on 2018-06-01 and both parts on 2018-03-01: one CPIM earned 2018-03-01, whichever
    program staff list first."""
    earned_on = date(2018, 3, 1)
    if parts_first:
        _program("CPIM2").sort_order = 5
        db.session.flush()
    member = factories.member(status="pending")
    for code, day in [("BSCM", date(2014, 1, 1)), ("MPR", date(2015, 1, 1)), ("DSP", date(2016, 1, 1)),
                      ("ECO", date(2017, 1, 1)), ("SMR", date(2018, 6, 1)), ("CPIM-P1", date(2017, 5, 1)),
                      ("CPIM-P2", date(2018, 3, 1))]:
        _result_row(member, code, day)
    [awarded] = services.award_due_certifications(member, actor=None)
    assert (awarded.certification_type.code, awarded.earned_on) == ("CPIM", earned_on)
    assert len(services.certifications_of(member)) == 1


# --- Status, years suspended and points required on the edge days ---------------------------------

@pytest.mark.parametrize("day, status, years, points", [
    (date(2025, 6, 30), CURRENT, 0, 75),       # the deadline itself
    (date(2025, 7, 1), SUSPENDED, 0, 75),      # suspended, not yet a whole year
    (date(2026, 6, 30), SUSPENDED, 0, 75),     # the first year ends that day
    (date(2026, 7, 1), SUSPENDED, 1, 90),
    (date(2027, 6, 30), SUSPENDED, 1, 90),
    (date(2027, 7, 1), SUSPENDED, 2, 105),
    (date(2030, 6, 30), SUSPENDED, 4, 135),    # the last day before termination
    (date(2030, 7, 1), TERMINATED, 5, 75),     # terminated: retake, no reinstatement points
])
def test_status_whole_years_suspended_and_points_required_on_the_edge_days(app, day, status, years, points):
    """Deadline 2025-06-30: each whole year suspended adds 15 points until termination on 2030-07-01."""
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    assert (services.status_of(cpim, day), services.years_suspended(cpim, day), services.points_required(cpim, day)) \
        == (status, years, points)


def test_reinstatement_points_and_years_to_termination_are_data(app):
    """10 points a year and termination after 2 years: 85 points in the second year, terminated from 2027-07-01."""
    services.update_certification_rules(_type("CPIM"), {"reinstatement_points_per_year": 10,
                                                        "terminated_after_years": 2}, actor=factories.staff())
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    assert services.terminated_from(cpim) == date(2027, 7, 1)
    assert services.points_required(cpim, date(2026, 7, 1)) == 85
    assert services.status_of(cpim, date(2027, 6, 30)) is SUSPENDED
    assert services.status_of(cpim, date(2027, 7, 1)) is TERMINATED


def test_suspension_years_from_a_29_february_deadline_end_on_the_last_day_of_february(app):
    """Deadline 2024-02-29: the first year ends 2025-02-28, the fourth 2028-02-29; terminated from 2029-03-01."""
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2019, 2, 1))
    assert cpim.cycle_ends_on == date(2024, 2, 29)
    assert [services.suspension_year_ends(cpim, n) for n in (1, 4, 5)] == \
        [date(2025, 2, 28), date(2028, 2, 29), date(2029, 2, 28)]
    assert services.years_suspended(cpim, date(2025, 2, 28)) == 0
    assert services.years_suspended(cpim, date(2025, 3, 1)) == 1
    assert services.terminated_from(cpim) == date(2029, 3, 1)


# --- The award a CFPIM requires -------------------------------------------------------------------

def test_the_required_award_is_none_for_a_certification_that_requires_nothing(app):
    """CPIM requires nothing, with or without the member's awards given."""
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    assert services.required_award(cpim) is None
    assert services.required_award(cpim, [cpim]) is None


def test_from_the_given_awards_the_required_one_is_the_members_latest_cpim(app):
    """Among the member's old and new CPIM, their CSCP and another member's newer CPIM: the member's new CPIM."""
    member, other = factories.member(status="pending"), factories.member(status="pending")
    old = _earn(member, "CPIM", date(2010, 5, 1))
    new = _earn(member, "CPIM", date(2022, 5, 1))
    cfpim = _earn(member, "CFPIM", date(2022, 6, 1))
    cscp = _earn(member, "CSCP", date(2024, 1, 1))
    theirs = _earn(other, "CPIM", date(2025, 1, 1))
    assert services.required_award(cfpim, [old, new, cfpim, cscp, theirs]) is new
    assert services.required_award(cfpim, [old, cfpim, cscp, theirs]) is old
    assert services.required_award(cfpim, [cfpim, cscp, theirs]) is None


def test_queried_the_required_award_is_the_latest_earned_cpim_of_the_member_only(app):
    """A 2022 CPIM recorded before a 2010 one is the required award; another member's CPIM is never it."""
    member, other = factories.member(status="pending"), factories.member(status="pending")
    cfpim = _earn(member, "CFPIM", date(2022, 6, 1))
    _earn(other, "CPIM", date(2023, 1, 1))
    assert services.required_award(cfpim) is None
    new = _earn(member, "CPIM", date(2022, 5, 1))
    _earn(member, "CPIM", date(2010, 5, 1))
    assert services.required_award(cfpim) is new


def test_with_the_awards_given_the_cfpim_status_and_points_are_judged_on_those_awards(app):
    """The transcript's list is used as given: a list without the CPIM means it is not held."""
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2022, 5, 1))
    cfpim = _earn(member, "CFPIM", date(2022, 6, 1))
    day = date(2023, 1, 1)
    assert services.status_of(cfpim, day, [cpim, cfpim]) is CURRENT
    assert services.status_of(cfpim, day, [cfpim]) is SUSPENDED
    assert services.points_required(cfpim, day, [cfpim]) == 100


@pytest.mark.parametrize("cpim_earned, cfpim_earned, day, status", [
    (None, date(2022, 6, 1), date(2023, 1, 1), SUSPENDED),                 # no CPIM
    (date(2022, 1, 1), date(2022, 6, 1), date(2027, 1, 31), CURRENT),      # CPIM's deadline
    (date(2022, 1, 1), date(2022, 6, 1), date(2027, 2, 1), SUSPENDED),     # CPIM suspended the day after
    (date(2012, 1, 1), date(2022, 6, 1), date(2023, 1, 1), TERMINATED),    # CPIM terminated from 2022-02-01
    (date(2022, 1, 1), date(2017, 6, 1), date(2023, 1, 1), SUSPENDED),     # the CFPIM's own deadline 2022-06-30
    (date(2022, 1, 1), date(2011, 6, 1), date(2023, 1, 1), TERMINATED),    # the CFPIM's own termination
])
def test_a_cfpim_is_no_better_than_its_own_standing_nor_its_cpims(app, cpim_earned, cfpim_earned, day, status):
    """The CFPIM's status is the worse of its own and its CPIM's; no CPIM counts as suspended."""
    member = factories.member(status="pending")
    if cpim_earned is not None:
        _earn(member, "CPIM", cpim_earned)
    cfpim = _earn(member, "CFPIM", cfpim_earned)
    assert services.status_of(cfpim, day) is status
    assert services.status_of(cfpim, day, services.certifications_of(member)) is status


def test_the_reason_a_cfpim_is_not_current_names_its_cpims_status_on_the_edge_days(app):
    """CPIM deadline 2021-06-30, terminated from 2026-07-01; CFPIM's own deadline 2026-08-31."""
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2016, 6, 10))
    cfpim = _earn(member, "CFPIM", date(2021, 8, 1))
    earlier = factories.member(status="pending")
    _earn(earlier, "CPIM", date(2016, 6, 10))
    early = _earn(earlier, "CFPIM", date(2020, 1, 15))  # its own deadline 2025-01-31
    assert services.status_reason(early, date(2021, 6, 30)) is None
    assert services.status_reason(early, date(2021, 7, 1)) == "It requires a current CPIM, which is suspended."
    assert services.status_reason(cfpim, date(2026, 6, 30)) == "It requires a current CPIM, which is suspended."
    assert services.status_reason(cfpim, date(2026, 7, 1)) == "It requires a current CPIM, which is terminated."
    assert services.status_reason(cfpim, date(2026, 8, 31)) == "It requires a current CPIM, which is terminated."
    assert services.status_reason(cfpim, date(2026, 9, 1)) is None  # its own deadline passed: no borrowed reason
    assert services.status_reason(cpim, date(2022, 1, 1)) is None  # a CPIM requires nothing


def test_the_reason_for_a_cfpim_without_any_cpim_says_it_is_not_held(app):
    """No CPIM at all: the reason says so, and verification shows it."""
    member = factories.member(status="pending", last_name="Okafor")
    cfpim = _earn(member, "CFPIM", date(2022, 6, 1))
    assert services.status_reason(cfpim, date(2023, 1, 1)) == "It requires a current CPIM, which is not held."
    found = services.verify(cfpim.certificate_number, "Okafor", date(2023, 1, 1))
    assert (found.status, found.reason) == (SUSPENDED, "It requires a current CPIM, which is not held.")


# --- The roster filter ----------------------------------------------------------------------------------

def _holders(code: str) -> list[int]:
    return list(db.session.scalars(sa.select(Member.id).where(services.member_holds_certification(Member.id, code))
                                   .order_by(Member.id)))


def test_the_roster_filter_finds_holders_current_today_whatever_the_case_of_the_code(app, clock):
    """Today 2026-03-31: a deadline today is current, one on 2026-02-28 is not, nor a terminated award."""
    clock("2026-03-31")
    on_deadline = factories.member(status="pending")
    _earn(on_deadline, "CPIM", date(2021, 3, 5))  # deadline 2026-03-31
    suspended = factories.member(status="pending")
    _earn(suspended, "CPIM", date(2021, 2, 10))  # deadline 2026-02-28
    terminated = factories.member(status="pending")
    _earn(terminated, "CPIM", date(2010, 1, 1))
    retaken = factories.member(status="pending")
    _earn(retaken, "CPIM", date(2010, 1, 1))
    _earn(retaken, "CPIM", date(2024, 1, 1))
    other_type = factories.member(status="pending")
    _earn(other_type, "CSCP", date(2024, 1, 1))
    factories.member(status="pending")
    assert _holders("cpim") == [on_deadline.id, retaken.id]
    assert _holders("CpIm") == [on_deadline.id, retaken.id]
    assert _holders("CSCP") == [other_type.id]
    assert _holders("CLTD") == []
    assert _holders("NOPE") == []


def test_the_roster_filter_counts_a_cfpim_only_while_the_members_own_cpim_is_current(app, clock):
    """Today 2026-03-31: CFPIM holders with a current CPIM (to today or later) only."""
    clock("2026-03-31")
    both = factories.member(status="pending")
    _earn(both, "CPIM", date(2022, 1, 1))
    _earn(both, "CFPIM", date(2022, 6, 1))
    cpim_suspended = factories.member(status="pending")
    _earn(cpim_suspended, "CPIM", date(2021, 2, 10))  # deadline 2026-02-28
    _earn(cpim_suspended, "CFPIM", date(2022, 6, 1))
    no_cpim = factories.member(status="pending")
    _earn(no_cpim, "CFPIM", date(2022, 6, 1))
    cpim_only = factories.member(status="pending")
    _earn(cpim_only, "CPIM", date(2022, 1, 1))
    cpim_today = factories.member(status="pending")
    _earn(cpim_today, "CPIM", date(2021, 3, 5))  # deadline 2026-03-31
    _earn(cpim_today, "CFPIM", date(2022, 6, 1))
    cfpim_suspended = factories.member(status="pending")
    _earn(cfpim_suspended, "CPIM", date(2022, 1, 1))
    _earn(cfpim_suspended, "CFPIM", date(2020, 6, 1))  # deadline 2025-06-30
    assert _holders("cfpim") == [both.id, cpim_today.id]
    assert _holders("cpim") == [both.id, cpim_only.id, cpim_today.id, cfpim_suspended.id]


def test_awards_due_at_once_come_in_the_order_staff_set_for_the_programs(app):
    """Staff move CLTD's program before CSCP's: the two awards due at once come CLTD first, numbered in that order."""
    _program("CLTD").sort_order = -1
    db.session.flush()
    member = factories.member(status="pending")
    _result_row(member, "CSCP", date(2024, 8, 5))
    _result_row(member, "CLTD", date(2024, 6, 3))
    awarded = services.award_due_certifications(member, actor=None)
    assert [h.certification_type.code for h in awarded] == ["CLTD", "CSCP"]
