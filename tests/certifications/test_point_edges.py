"""Maintenance points at their edges: claims, reviews, recorded points, membership days, what counts and the audit."""
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.models import CertificationType, PointCategory, PointStatus
from chapter.certifications.points import default_attendance_category, record_earned_points
from chapter.core.audit import AuditEntry
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
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


def _earn(member, code: str, earned_on: date):
    return services.grant_certification(member, _type(code), earned_on, actor=None)


def _claim(member, code: str, units: int, earned_on: date, *, approve_by=None, chapter_id=None, description=None):
    entry = services.log_points(member, _category(code), units, earned_on, description or f"{code} on {earned_on}",
                                day=earned_on, evidence_url=LINK, chapter_id=chapter_id)
    if approve_by is not None:
        services.review_points(entry, approve=True, actor=approve_by, day=earned_on)
    return entry


def _pass(member, exam_code: str, taken_on: date):
    factories.reference_data()
    return services.record_exam_result(member, services.exam_by_code(exam_code), taken_on, 320, actor=None)


def _term(member, starts_on: date, ends_on: date):
    return member_services.grant_term(member, factories.membership_type(), starts_on=starts_on, ends_on=ends_on,
                                      source=TermSource.PAYMENT, actor=None)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call(*args, **kwargs)
    return raised.value


def _drop_membership_category():
    db.session.delete(_category("membership"))
    db.session.flush()


# --- Claiming ----------------------------------------------------------------------------------------------

def test_a_claim_of_exam_points_is_refused_on_the_category_field_with_its_name(app):
    """Typing in exam points names the category in the message and points at the category field."""
    member = factories.member(status="pending")
    error = _refused(services.log_points, member, _category("cpim_exam"), 1, date(2024, 1, 1), "x", day=date(2024, 1, 1))
    assert error.message == "CPIM exam passed points come from the association's records and cannot be entered."
    assert error.field == "category_id"


@pytest.mark.parametrize("units", [0, -1])
def test_a_claim_of_zero_or_fewer_units_is_refused_on_the_units_field(app, units):
    """Zero units (the edge) and negative units are refused with the units message and field."""
    member = factories.member(status="pending")
    error = _refused(services.log_points, member, _category("education"), units, date(2024, 1, 1), "x",
                     day=date(2024, 1, 1))
    assert (error.message, error.field) == ("Enter a positive number.", "units")
    assert services.point_entries_of(member) == []


def test_a_claim_dated_the_day_after_today_is_refused_on_the_date_field_and_today_is_accepted(app):
    """An activity dated one day in the future is refused; one dated today is claimed."""
    member = factories.member(status="pending")
    error = _refused(services.log_points, member, _category("education"), 1, date(2024, 1, 2), "x", day=date(2024, 1, 1))
    assert (error.message, error.field) == ("The date cannot be in the future.", "earned_on")
    entry = services.log_points(member, _category("education"), 1, date(2024, 1, 1), "x", day=date(2024, 1, 1))
    assert entry.status is PointStatus.CLAIMED


def test_an_evidence_link_that_is_not_a_web_address_is_refused_on_its_field(app):
    """A link without http(s) gets the exact message on the evidence_url field."""
    member = factories.member(status="pending")
    error = _refused(services.log_points, member, _category("education"), 1, date(2024, 1, 1), "x",
                     day=date(2024, 1, 1), evidence_url="ftp://example.org/file")
    assert (error.message, error.field) == ("The link must start with https:// or http://.", "evidence_url")


@pytest.mark.parametrize("link", ["http://example.org/slides", "HTTP://EXAMPLE.ORG/SLIDES"])
def test_a_plain_http_evidence_link_is_kept_as_typed(app, link):
    """An http:// link (in any case) is accepted and stored as typed."""
    member = factories.member(status="pending")
    entry = services.log_points(member, _category("education"), 1, date(2024, 1, 1), "x", day=date(2024, 1, 1),
                                evidence_url=f"  {link} ")
    assert entry.evidence_url == link


def test_a_claim_stores_its_units_points_and_is_not_automatic(app):
    """Three conferences are stored as 3 units worth 72 points, claimed by hand (not automatic)."""
    member = factories.member(status="pending")
    entry = services.log_points(member, _category("conference"), 3, date(2024, 1, 1), "  Three events  ",
                                day=date(2024, 1, 1))
    db.session.expire(entry)
    assert (entry.units, entry.points, entry.description, entry.automatic, entry.status, entry.evidence_url) == \
        (3, 72, "Three events", False, PointStatus.CLAIMED, None)


def test_a_claims_description_is_cut_to_300_characters(app):
    """A 305-character description is stored as its first 300 characters."""
    member = factories.member(status="pending")
    text = "a" * 299 + "bcdefg"
    entry = services.log_points(member, _category("education"), 1, date(2024, 1, 1), text, day=date(2024, 1, 1))
    db.session.expire(entry)
    assert entry.description == "a" * 299 + "b"


# --- Points the association records ---------------------------------------------------------------------------

def test_recorded_attendance_is_approved_automatic_and_keeps_its_chapter_and_link(app):
    """Two conference units recorded for a chapter event: 48 points, approved, automatic, with chapter and link."""
    home = factories.chapter()
    member = factories.member(status="pending")
    entry = record_earned_points(member.id, _category("conference"), 2, date(2024, 3, 1), " Spring conference ",
                                 chapter_id=home.id, evidence_url="https://example.org/event/7")
    db.session.expire(entry)
    assert (entry.units, entry.points, entry.status, entry.automatic, entry.chapter_id, entry.evidence_url,
            entry.description) == (2, 48, PointStatus.APPROVED, True, home.id, "https://example.org/event/7",
                                   "Spring conference")


def test_recorded_points_for_one_unit_are_kept_and_for_zero_units_refused(app):
    """One unit (the smallest) is recorded; zero units are refused with the exact message."""
    member = factories.member(status="pending")
    entry = record_earned_points(member.id, _category("education"), 1, date(2024, 3, 1), "One hour")
    assert (entry.units, entry.points) == (1, 1)
    error = _refused(record_earned_points, member.id, _category("education"), 0, date(2024, 3, 1), "None")
    assert error.message == "Points are recorded for a positive number of units."
    assert [e.id for e in services.point_entries_of(member)] == [entry.id]


def test_recorded_points_description_is_cut_to_300_characters(app):
    """A 305-character recorded description is stored as its first 300 characters."""
    member = factories.member(status="pending")
    entry = record_earned_points(member.id, _category("education"), 1, date(2024, 3, 1), "a" * 299 + "bcdefg")
    db.session.expire(entry)
    assert entry.description == "a" * 299 + "b"


def test_an_events_default_attendance_category_is_education(app):
    """Attendance at an event naming no category counts in the education category."""
    factories.reference_data()
    assert default_attendance_category().id == _category("education").id


# --- Reviewing ---------------------------------------------------------------------------------------------------

def test_a_reviewers_note_is_trimmed_cut_to_300_and_kept(app):
    """The note is stored trimmed and at most 300 characters; no note stores nothing."""
    member = factories.member(status="pending")
    staff = factories.staff()
    rejected = _claim(member, "education", 1, date(2024, 1, 1))
    services.review_points(rejected, approve=False, actor=staff, day=date(2024, 1, 5), note="  " + "n" * 299 + "xyz  ")
    approved = _claim(member, "education", 1, date(2024, 1, 2))
    services.review_points(approved, approve=True, actor=staff, day=date(2024, 1, 5))
    short = _claim(member, "education", 1, date(2024, 1, 3))
    services.review_points(short, approve=False, actor=staff, day=date(2024, 1, 5), note="  No certificate ")
    db.session.expire_all()
    assert rejected.review_note == "n" * 299 + "x"
    assert approved.review_note is None
    assert short.review_note == "No certificate"
    assert (rejected.status, rejected.reviewed_by_id, rejected.reviewed_on) == \
        (PointStatus.REJECTED, staff.id, date(2024, 1, 5))


def test_a_review_is_audited_with_the_reviewer_member_chapter_and_outcome(app):
    """The audit line names the reviewer, the member, the event's chapter and '24 points (...) approved'."""
    home = factories.chapter()
    member = factories.member(status="pending")
    staff = factories.staff()
    entry = _claim(member, "conference", 1, date(2024, 5, 1), chapter_id=home.id, description="Spring conference")
    services.review_points(entry, approve=True, actor=staff, day=date(2024, 5, 2))
    [line] = _audit("certification.points_reviewed")
    assert (line.actor_id, line.member_id, line.chapter_id, line.summary) == \
        (staff.id, member.id, home.id, "24 points (Spring conference) approved")


def test_reviewing_outside_ones_role_or_twice_gives_the_exact_messages(app):
    """A treasurer is told who reviews; a second review is told it was already reviewed."""
    home = factories.chapter()
    treasurer = factories.officer(home, "treasurer", starts_on=date(2020, 1, 1))
    member = factories.member(status="pending")
    entry = _claim(member, "education", 2, date(2024, 5, 1), chapter_id=home.id)
    error = _refused(services.review_points, entry, approve=True, actor=treasurer, day=date(2024, 5, 2))
    assert error.message == "Only staff, or the VP Education of the chapter that held the event, review this claim."
    services.review_points(entry, approve=True, actor=factories.staff(), day=date(2024, 5, 2))
    error = _refused(services.review_points, entry, approve=False, actor=factories.staff(), day=date(2024, 5, 3))
    assert error.message == "This claim was already reviewed."
    assert entry.status is PointStatus.APPROVED


def test_a_vp_education_reviews_on_a_day_of_their_term_even_after_it_ended(app):
    """The VP's rights are those of the review day: a term of 2020 lets them review on 2020-06-01."""
    home = factories.chapter()
    vp = factories.officer(home, "vp_education", starts_on=date(2020, 1, 1), ends_on=date(2020, 12, 31))
    member = factories.member(status="pending")
    entry = _claim(member, "education", 2, date(2020, 5, 1), chapter_id=home.id)
    assert services.can_review_points(entry, vp, date(2020, 6, 1)) is True
    assert services.can_review_points(entry, vp, date(2021, 1, 1)) is False
    assert services.claims_to_review(vp, date(2020, 6, 1)) == [entry]
    assert services.claims_to_review(vp, date(2021, 1, 1)) == []
    services.review_points(entry, approve=True, actor=vp, day=date(2020, 6, 1))
    assert (entry.status, entry.reviewed_by_id) == (PointStatus.APPROVED, vp.id)


def test_claims_to_review_come_oldest_activity_first_then_in_the_order_logged(app):
    """Claims are listed by activity date, and claims of the same day in the order they were logged."""
    member = factories.member(status="pending")
    late = _claim(member, "education", 1, date(2024, 5, 3))
    early = _claim(member, "education", 1, date(2024, 5, 1))
    early_too = _claim(member, "education", 1, date(2024, 5, 1))
    assert services.claims_to_review(factories.staff(), date(2024, 6, 1)) == [early, early_too, late]


def test_claims_to_review_show_at_most_500(app):
    """With 501 claims waiting, the reviewer sees the 500 oldest."""
    member = factories.member(status="pending")
    category = _category("education")
    claims = [services.log_points(member, category, 1, date(2024, 1, 1), f"hour {n}", day=date(2024, 1, 1))
              for n in range(500)]
    services.log_points(member, category, 1, date(2024, 1, 2), "the newest", day=date(2024, 1, 2))
    shown = services.claims_to_review(factories.staff(), date(2024, 2, 1))
    assert [e.id for e in shown] == [e.id for e in claims]


def test_a_members_entries_come_newest_first_and_the_same_day_latest_logged_first(app):
    """The transcript lists entries newest activity first; the same day, the one logged last first."""
    member = factories.member(status="pending")
    older = _claim(member, "education", 1, date(2024, 5, 1))
    newest = _claim(member, "education", 1, date(2024, 5, 3))
    older_too = _claim(member, "education", 1, date(2024, 5, 1))
    assert services.point_entries_of(member) == [newest, older_too, older]
    assert list(services.member_points(member.id).entries) == [newest, older_too, older]


# --- Staff edit the rules: audited ---------------------------------------------------------------------------

def test_changing_what_a_category_is_worth_is_audited_with_before_and_after(app):
    """The audit line holds the staff member, 'Association conference: 30 per event', 24 before and 30 after."""
    staff = factories.staff()
    member = factories.member(status="pending")
    logged = _claim(member, "conference", 1, date(2024, 1, 1))
    services.update_point_category(_category("conference"), 30, actor=staff)
    [line] = _audit("certification.points_changed")
    assert (line.actor_id, line.summary, line.before, line.after) == \
        (staff.id, "Association conference: 30 per event", {"points_per_unit": 24}, {"points_per_unit": 30})
    assert _category("conference").points_per_unit == 30 and logged.points == 24


def test_changing_a_certifications_rules_is_audited_with_every_rule_before_and_after(app):
    """The audit line holds the staff member, 'CPIM rules changed' and all nine rules before and after."""
    staff = factories.staff()
    cpim = _type("CPIM")
    services.update_certification_rules(cpim, {"points_required": 80, "teaching_cap_percent": 50}, actor=staff)
    rules = {"points_required": 75, "cycle_years": 5, "teaching_cap_percent": 60, "reinstatement_points_per_year": 15,
             "terminated_after_years": 5, "application_points_required": None, "application_exam_points_cap": None,
             "application_presentation_points_cap": None, "application_presentation_years": None}
    [line] = _audit("certification.rules_changed")
    assert (line.actor_id, line.summary) == (staff.id, "CPIM rules changed")
    assert line.before == rules
    assert line.after == {**rules, "points_required": 80, "teaching_cap_percent": 50}
    assert (cpim.points_required, cpim.teaching_cap_percent) == (80, 50)


def test_certifications_and_categories_are_listed_in_the_order_staff_set(app):
    """Moving CFPIM and 'Article published' to the top puts them first in their lists."""
    _type("CFPIM").sort_order = 1
    _category("article").sort_order = 1
    db.session.flush()
    assert [t.code for t in services.certification_types()] == ["CFPIM", "CPIM", "CSCP", "CLTD"]
    assert [c.code for c in services.point_categories()][:3] == ["article", "membership", "conference"]


# --- Teaching cap --------------------------------------------------------------------------------------------------

def test_a_teaching_cap_of_100_percent_counts_every_teaching_point(app):
    """With the cap set to 100%, 20 teaching points and no other count 20."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    services.update_certification_rules(_type("CPIM"), {"teaching_cap_percent": 100}, actor=staff)
    _claim(member, "teaching", 10, date(2021, 3, 1), approve_by=staff)
    summary = services.points_summary(cpim, date(2021, 4, 1))
    assert (summary.regular, summary.teaching, summary.counted) == (0, 20, 20)


def test_the_summary_reports_teaching_points_beside_the_capped_count(app):
    """24 regular and 60 teaching points: teaching shows 60, counted 24 + 36 (60% cap)."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    _claim(member, "conference", 1, date(2021, 3, 1), approve_by=staff)
    _claim(member, "teaching", 30, date(2021, 3, 2), approve_by=staff)
    summary = services.points_summary(cpim, date(2021, 4, 1))
    assert (summary.regular, summary.teaching, summary.counted) == (24, 60, 60)


# --- The cycle's edges -----------------------------------------------------------------------------------------------

def test_activities_on_the_day_earned_and_on_the_deadline_count_in_the_first_cycle(app):
    """A conference on 2020-06-10 (earned) and one on 2025-06-30 (deadline) both count."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    first = _claim(member, "conference", 1, date(2020, 6, 10), approve_by=staff)
    last = _claim(member, "conference", 1, date(2025, 6, 30), approve_by=staff)
    summary = services.points_summary(cpim, date(2025, 6, 30))
    assert summary.regular == 48 and summary.entries == (first, last)


def test_the_second_cycle_starts_the_day_after_the_first_deadline(app):
    """After maintenance the cycle runs from 2025-07-01: an activity of 2025-06-30 is out, one of 2025-07-01 in."""
    staff = factories.staff()
    member = factories.member(status="pending")
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    for month in (1, 2, 3, 4):
        _claim(member, "conference", 1, date(2023, month, 15), approve_by=staff)
    application = services.submit_maintenance(cpim, day=date(2025, 6, 1))
    services.approve_application(application, actor=staff, day=date(2025, 6, 1))
    assert cpim.cycle_ends_on == date(2030, 6, 30)
    assert services.cycle_starts_on(cpim) == date(2025, 7, 1)
    _claim(member, "conference", 1, date(2025, 6, 30), approve_by=staff)
    in_cycle = _claim(member, "education", 5, date(2025, 7, 1), approve_by=staff)
    summary = services.points_summary(cpim, date(2025, 8, 1))
    assert summary.entries == (in_cycle,) and summary.regular == 5


def test_on_the_day_an_application_counted_membership_through_no_membership_is_left(app):
    """Approved on 2025-06-01 with membership counted through that day: the same day's summary has 0 membership."""
    staff = factories.staff()
    member = factories.member(status="pending")
    _term(member, date(2019, 6, 10), date(2025, 12, 31))
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    for month in (1, 2, 3):
        _claim(member, "conference", 1, date(2023, month, 15), approve_by=staff)
    application = services.submit_maintenance(cpim, day=date(2025, 6, 1))
    assert (application.membership_points, application.membership_points_through) == (24, date(2025, 6, 1))
    services.approve_application(application, actor=staff, day=date(2025, 6, 1))
    summary = services.points_summary(cpim, date(2025, 6, 1))
    assert (summary.membership_from, summary.membership_through) == (date(2025, 7, 1), date(2025, 6, 1))
    assert (summary.membership, summary.regular, summary.counted) == (0, 0, 0)


# --- Membership days --------------------------------------------------------------------------------------------------

def _edge_terms(member):
    """Terms granted out of order: one ending on 2020-06-10, one to 2021-06-08, one starting 2021-06-09, one in 2018."""
    _term(member, date(2021, 6, 9), date(2022, 6, 8))
    _term(member, date(2020, 6, 11), date(2021, 6, 8))
    _term(member, date(2019, 6, 11), date(2020, 6, 10))
    _term(member, date(2018, 1, 1), date(2018, 12, 31))


def test_membership_days_count_a_term_ending_on_the_first_day_and_one_starting_on_the_last(app):
    """2020-06-10..2021-06-09 is covered by three terms touching the edges by one day each: 365 days."""
    member = factories.member(status="pending")
    _edge_terms(member)
    assert services.membership_days(member.id, date(2020, 6, 10), date(2021, 6, 9)) == 365
    assert services.membership_points(member, date(2020, 6, 10), date(2021, 6, 9)) == 6
    assert services.membership_days(member.id, date(2020, 6, 10), date(2020, 6, 10)) == 1
    assert services.membership_days(member.id, date(2021, 6, 9), date(2021, 6, 9)) == 1


def test_the_first_cycles_membership_counts_terms_touching_its_edges_by_one_day(app):
    """Earned 2020-06-10, summary on 2021-06-09: the edge terms make one whole year, 6 membership points."""
    member = factories.member(status="pending")
    _edge_terms(member)
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    summary = services.points_summary(cpim, date(2021, 6, 9))
    assert (summary.membership_from, summary.membership_through) == (date(2020, 6, 10), date(2021, 6, 9))
    assert summary.membership == 6 and summary.regular == 6


def test_membership_days_ignore_voided_terms_and_other_members_terms(app):
    """A voided term and another member's term give no days."""
    member = factories.member(status="pending")
    voided = _term(member, date(2021, 1, 1), date(2021, 12, 31))
    voided.voided_at = utcnow()
    other = factories.member(status="pending")
    _term(other, date(2021, 1, 1), date(2021, 12, 31))
    db.session.flush()
    assert services.membership_days(member.id, date(2021, 1, 1), date(2021, 12, 31)) == 0
    assert services.membership_points(member, date(2021, 1, 1), date(2021, 12, 31)) == 0
    assert services.membership_days(other.id, date(2021, 1, 1), date(2021, 12, 31)) == 365


def test_membership_points_of_a_window_ending_before_it_starts_are_zero(app):
    """A window from 2021-12-31 back to 2021-01-01 holds no membership points."""
    member = factories.member(status="pending")
    _term(member, date(2020, 1, 1), date(2022, 12, 31))
    factories.reference_data()
    assert services.membership_points(member, date(2021, 12, 31), date(2021, 1, 1)) == 0


def test_without_a_membership_category_membership_earns_no_points(app):
    """With the membership category removed, a member of 6 years has 0 membership points everywhere."""
    member = factories.member(status="pending")
    _term(member, date(2019, 1, 1), date(2025, 12, 31))
    cpim = _earn(member, "CPIM", date(2020, 6, 10))
    _drop_membership_category()
    assert services.membership_points(member, date(2020, 6, 10), date(2025, 6, 30)) == 0
    points = services.member_points(member.id, services.point_categories())
    assert points.membership_category is None
    summary = services.summary_of(points, cpim, date(2025, 6, 30))
    assert (summary.membership, summary.regular) == (0, 0)
    assert services.points_summary(cpim, date(2025, 6, 30)).membership == 0


# --- What a standing application used -------------------------------------------------------------------------------

def test_membership_counted_through_is_the_members_own_for_that_certification(app):
    """Another member's later application, and another certification, do not move the member's counted day."""
    staff = factories.staff()
    first, second = factories.member(status="pending"), factories.member(status="pending")
    for member, day in ((first, date(2025, 5, 1)), (second, date(2025, 6, 1))):
        cpim = _earn(member, "CPIM", date(2020, 6, 10))
        for month in (1, 2, 3, 4):
            _claim(member, "conference", 1, date(2023, month, 15), approve_by=staff)
        services.submit_maintenance(cpim, day=day)
    assert services.membership_counted_through(first.id, _type("CPIM").id) == date(2025, 5, 1)
    assert services.membership_counted_through(second.id, _type("CPIM").id) == date(2025, 6, 1)
    assert services.membership_counted_through(first.id, _type("CSCP").id) is None


def _cpim_holder():
    """A member with CPIM from two parts (earned 2018-06-01, current to 2023-06-30) and 80 publication points."""
    staff = factories.staff()
    recommender = factories.member(status="pending")
    _earn(recommender, "CPIM", date(2019, 1, 1))
    fellow = _earn(recommender, "CFPIM", date(2019, 1, 1))
    member = factories.member(status="pending")
    _pass(member, "CPIM-P1", date(2018, 1, 1))
    _pass(member, "CPIM-P2", date(2018, 6, 1))
    article = _claim(member, "article", 40, date(2023, 1, 1), approve_by=staff)
    return member, staff, fellow, article


def test_points_a_submitted_cfpim_application_used_do_not_count_again_until_it_is_rejected(app):
    """After applying with 100 points nothing is left; the rejection gives the 100 back."""
    member, staff, fellow, article = _cpim_holder()
    day = date(2023, 6, 1)
    application = services.submit_fellowship(member, fellow.certificate_number, day=day)
    assert application.points_counted == 100 and len(application.points_used) == 3
    left = services.fellowship_points(member, _type("CFPIM"), day)
    assert (left.exams, left.presentations, left.publications, left.entries) == (0, 0, 0, ())
    assert services.available_entries(member.id, _type("CFPIM").id, date.min, day) == []
    # The CPIM summary still reads (the fellowship application counted no membership days).
    cpim = services.certifications_of(member)[0]
    assert [(e.category.code, e.earned_on) for e in services.points_summary(cpim, day).entries] == \
        [("cpim_exam", date(2018, 6, 1)), ("article", date(2023, 1, 1))]
    services.reject_application(application, actor=staff, day=day)
    assert services.fellowship_points(member, _type("CFPIM"), day).total == 100


def test_entries_a_cpim_maintenance_used_still_count_for_a_cfpim_application(app):
    """Each certification counts its own: the CPIM Part 2 pass used for CPIM still counts 10 CFPIM exam points."""
    member, staff, fellow, article = _cpim_holder()
    cpim = services.certifications_of(member)[0]
    for month in (1, 2, 3):
        _claim(member, "conference", 1, date(2022, month, 15), approve_by=staff)
    application = services.submit_maintenance(cpim, day=date(2023, 6, 1))
    assert {e.category.code for e in application.points_used} >= {"cpim_exam"}
    points = services.fellowship_points(member, _type("CFPIM"), date(2023, 6, 1))
    assert (points.exams, points.publications) == (20, 80)
    assert services.membership_counted_through(member.id, _type("CFPIM").id) is None


def test_available_entries_are_the_members_approved_ones_within_the_window_by_date_then_logged(app):
    """Only the member's approved entries dated from start to end (inclusive) are available, oldest first."""
    staff = factories.staff()
    member = factories.member(status="pending")
    other = factories.member(status="pending")
    _claim(other, "article", 1, date(2023, 3, 1), approve_by=staff)
    late = _claim(member, "article", 1, date(2023, 12, 31), approve_by=staff)
    _claim(member, "article", 1, date(2024, 1, 1), approve_by=staff)
    _claim(member, "article", 1, date(2022, 12, 31), approve_by=staff)
    first = _claim(member, "article", 1, date(2023, 1, 1), approve_by=staff)
    first_too = _claim(member, "article", 1, date(2023, 1, 1), approve_by=staff)
    _claim(member, "article", 1, date(2023, 3, 1))  # claimed, not reviewed
    rejected = _claim(member, "article", 1, date(2023, 3, 2))
    services.review_points(rejected, approve=False, actor=staff, day=date(2023, 3, 3))
    found = services.available_entries(member.id, _type("CFPIM").id, date(2023, 1, 1), date(2023, 12, 31))
    assert found == [first, first_too, late]


# --- The CFPIM application's points -----------------------------------------------------------------------------------

def test_cfpim_presentations_count_from_exactly_three_years_back(app):
    """On 2019-06-01, teaching on 2016-06-01 counts and teaching on 2016-05-31 does not, under the cap."""
    staff = factories.staff()
    member = factories.member(status="pending")
    _claim(member, "teaching", 5, date(2016, 5, 31), approve_by=staff)
    inside = _claim(member, "teaching", 5, date(2016, 6, 1), approve_by=staff)
    points = services.fellowship_points(member, _type("CFPIM"), date(2019, 6, 1))
    assert (points.presentations, points.entries) == (10, (inside,))


def test_cfpim_points_without_caps_or_window_count_everything(app):
    """With the caps and the years cleared, 20 exam and 60 presentation points of 2010 all count."""
    staff = factories.staff()
    member = factories.member(status="pending")
    _pass(member, "CPIM-P1", date(2018, 1, 1))
    _pass(member, "CPIM-P2", date(2018, 6, 1))
    _claim(member, "teaching", 30, date(2010, 1, 1), approve_by=staff)
    services.update_certification_rules(_type("CFPIM"), {"application_exam_points_cap": None,
                                                          "application_presentation_points_cap": None,
                                                          "application_presentation_years": None}, actor=staff)
    points = services.fellowship_points(member, _type("CFPIM"), date(2019, 6, 1))
    assert (points.exams, points.presentations, points.publications) == (20, 60, 0)


def test_cfpim_exam_points_come_from_cpim_exams_only(app):
    """A CSCP exam pass (20 points) is no CFPIM exam point."""
    member = factories.member(status="pending")
    _pass(member, "CSCP", date(2018, 1, 1))
    assert [e.points for e in services.point_entries_of(member)] == [20]
    points = services.fellowship_points(member, _type("CFPIM"), date(2019, 6, 1))
    assert (points.exams, points.total, points.entries) == (0, 0, ())


def test_only_the_entries_a_standing_application_used_are_left_out(app):
    """A CFPIM application used the exam passes and the article; a presentation logged after it stays available."""
    member, staff, fellow, article = _cpim_holder()
    services.submit_fellowship(member, fellow.certificate_number, day=date(2023, 6, 1))
    later = _claim(member, "teaching", 2, date(2023, 7, 1), approve_by=staff)
    assert services.available_entries(member.id, _type("CFPIM").id, date.min, date(2023, 8, 1)) == [later]
    assert services.fellowship_points(member, _type("CFPIM"), date(2023, 8, 1)).presentations == later.points


def test_a_member_holding_no_certification_has_their_entries_and_nothing_else_read(app):
    """member_points without applications: the entries, newest first, and empty uses, days, terms and category."""
    staff = factories.staff()
    member = factories.member(status="pending")
    _term(member, date(2020, 1, 1), date(2020, 12, 31))
    older = _claim(member, "education", 1, date(2020, 3, 1), approve_by=staff)
    newer = _claim(member, "education", 1, date(2020, 4, 1))
    points = services.member_points(member.id, services.point_categories(), with_applications=False)
    assert (points.entries, points.used, points.counted_through, points.terms, points.membership_category) == \
        ((newer, older), {}, {}, (), None)
