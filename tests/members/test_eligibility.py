"""Retired and Student types ask what makes the member eligible, record it, staff review it, officers see it."""
from datetime import date

import pytest

from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.extensions import db
from chapter.members import eligibility
from chapter.members.eligibility import EligibilityStatus
from tests import factories


def test_age_is_whole_years_and_a_leap_day_birthday_turns_on_1_march():
    assert eligibility.age_on(date(1964, 2, 29), date(2026, 2, 28)) == 61
    assert eligibility.age_on(date(1964, 2, 29), date(2026, 3, 1)) == 62
    assert eligibility.age_on(date(1964, 6, 1), date(2026, 5, 31)) == 61
    assert eligibility.age_on(date(1964, 6, 1), date(2026, 6, 1)) == 62


def test_retired_needs_62_years_on_the_day_or_a_retirement_declaration(app):
    member = factories.member(status="pending")
    retired = factories.membership_type("retired")
    with pytest.raises(DomainError, match="62 or more"):
        eligibility.declare_eligibility(member, retired, day=date(2026, 5, 31), date_of_birth=date(1964, 6, 1))
    record = eligibility.declare_eligibility(member, retired, day=date(2026, 6, 1), date_of_birth=date(1964, 6, 1))
    assert record.kind == "retired" and record.status is EligibilityStatus.SUBMITTED
    younger = factories.member(status="pending")
    declared = eligibility.declare_eligibility(younger, retired, day=date(2026, 6, 1), date_of_birth=date(1970, 1, 1),
                                               retirement_declared=True)
    assert declared.summary == "Retired: born 01 Jan 1970, declares being retired"


def test_student_needs_a_school_and_a_future_graduation(app):
    member = factories.member(status="pending")
    student = factories.membership_type("student")
    with pytest.raises(DomainError, match="school"):
        eligibility.declare_eligibility(member, student, day=date(2026, 3, 1), expected_graduation=date(2027, 6, 1))
    with pytest.raises(DomainError, match="has passed"):
        eligibility.declare_eligibility(member, student, day=date(2026, 3, 1), school="Penn State",
                                        expected_graduation=date(2026, 2, 28))
    record = eligibility.declare_eligibility(member, student, day=date(2026, 3, 1), school="Penn State",
                                             expected_graduation=date(2027, 6, 1))
    assert record.summary == "Student at Penn State, graduating Jun 2027"


def test_staff_review_and_a_rejected_declaration_must_be_made_again(app):
    member = factories.member(status="pending")
    student = factories.membership_type("student")
    record = eligibility.declare_eligibility(member, student, day=date(2026, 3, 1), school="Penn State",
                                             expected_graduation=date(2027, 6, 1))
    with pytest.raises(DomainError):
        eligibility.review_eligibility(record, approve=True, actor=factories.user(), day=date(2026, 3, 2))
    eligibility.review_eligibility(record, approve=False, actor=factories.staff(), day=date(2026, 3, 2), note="No proof")
    assert record.status is EligibilityStatus.REJECTED and not eligibility.has_standing_declaration(member, student)


def test_choosing_student_asks_for_eligibility_then_pays_and_the_officer_sees_it(app, client):
    home = factories.chapter()
    member = factories.member(home=home, status="pending", email="sam@example.org", with_user=True)
    president = factories.officer(home, "president")
    staff = factories.staff()
    db.session.commit()
    student = factories.membership_type("student")
    client.login("sam@example.org")
    chosen = client.submit("/membership/join", {"membership_type_id": student.id})
    assert chosen.status_code == 302 and "/membership/eligibility/student?next=join" in chosen.headers["Location"]
    bad = client.submit("/membership/eligibility/student?next=join", {"school": "", "expected_graduation": ""})
    assert bad.status_code == 400 and "Enter your school." in bad.get_data(as_text=True)
    graduation = date(today().year + 2, 6, 1).isoformat()
    done = client.submit("/membership/eligibility/student?next=join", {"school": "Penn State", "expected_graduation": graduation})
    assert done.status_code == 302 and done.headers["Location"].endswith("/membership/join")
    paying = client.submit("/membership/join", {"membership_type_id": student.id})
    assert "/pay" in paying.headers["Location"]
    client.logout()
    client.login(president.email)
    page = client.get(f"/chapters/{home.number}/members/{member.member_number}").get_data(as_text=True)
    assert "Student at Penn State" in page and "Awaiting review" in page
    client.logout()
    client.login(staff.email)
    listing = client.get("/admin/eligibility").get_data(as_text=True)
    assert "Student at Penn State" in listing
    record = eligibility.eligibility_of(member)[0]
    reviewed = client.submit(f"/admin/eligibility/{record.id}", {"decision": "approve"}, form_url="/admin/eligibility")
    assert reviewed.status_code == 302
    db.session.expire_all()
    assert eligibility.eligibility_of(member)[0].status is EligibilityStatus.APPROVED


def test_members_cannot_review_eligibility(app, client):
    factories.member(status="pending", email="sam@example.org", with_user=True)
    db.session.commit()
    client.login("sam@example.org")
    assert client.get("/admin/eligibility").status_code in (403, 404)


def test_the_retired_age_is_data_on_the_type(app):
    retired = factories.membership_type("retired")
    assert retired.eligibility_min_age == 62
    retired.eligibility_min_age = 65
    member = factories.member(status="pending")
    with pytest.raises(DomainError, match="65 or more"):
        eligibility.declare_eligibility(member, retired, day=date(2026, 6, 1), date_of_birth=date(1962, 6, 2))
    assert eligibility.declare_eligibility(member, retired, day=date(2026, 6, 1), date_of_birth=date(1961, 6, 1))
