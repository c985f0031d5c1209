"""The standards of a fiscal year counted from the data, at the edges of the chapter's own year; the report
frozen when the president submits it; the district manager's review; staff editing the standards."""
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.chapters.fiscal import fiscal_year_named
from chapter.extensions import db
from chapter.standards import services
from chapter.standards.evaluation import evaluate
from chapter.standards.models import RecognitionLevel, ReportStatus, RosterReview, Standard, StandardsReport
from tests import activity_providers, factories

YEAR = fiscal_year_named(7, 2025)  # FY 2025-26: 1 July 2025 to 30 June 2026


@pytest.fixture
def chapter_year(app, clock, monkeypatch):
    clock("2026-07-10")
    home = factories.chapter(40, fiscal_year_start_month=7)
    fake = activity_providers.install(monkeypatch)
    for day, title in [(date(2025, 6, 30), "Last year's dinner"), (date(2025, 7, 1), "First-day plant tour"),
                       (date(2026, 6, 30), "Last-day webinar"), (date(2026, 7, 1), "Next year's kick-off")]:
        fake.add("pd_event", home.id, day, title, count=20, url=f"/events/{day.isoformat()}")
    for month in range(1, 8):
        fake.add("communication", home.id, date(2026, month, 2), f"Newsletter {month}", count=150)
    fake.add("communication", home.id, date(2026, 7, 1), "July newsletter", count=150)
    president = factories.officer(home, "president", starts_on=date(2026, 7, 1))
    factories.officer(home, "treasurer", starts_on=date(2026, 6, 30))
    factories.officer(home, "vp_membership", starts_on=date(2024, 7, 1), ends_on=date(2025, 7, 1))
    factories.officer(home, "secretary", starts_on=date(2023, 7, 1), ends_on=date(2025, 6, 30))
    db.session.commit()
    return home, fake, president


def _standard(result, code):
    return next(s for s in result["standards"] if s["code"] == code)


def test_an_event_on_the_last_day_of_the_year_counts_and_one_on_the_first_day_of_the_next_does_not(chapter_year):
    home, _fake, _president = chapter_year
    events = _standard(evaluate(home, YEAR), "pd_events")
    assert [e["title"] for e in events["evidence"]] == ["First-day plant tour", "Last-day webinar"]
    assert events["evidence"][0]["url"] == "/events/2025-07-01"
    assert (events["counted"], events["met"], events["missing"]) == (2, False, "1 more to count (professional-development events held)")


def test_messages_of_the_year_only_are_counted(chapter_year):
    home, _fake, _president = chapter_year
    messages = _standard(evaluate(home, YEAR), "communications")
    assert messages["counted"] == 6 and not messages["met"]  # January to June 2026; July is next year's


def test_officer_positions_filled_are_those_held_at_some_time_in_the_year(chapter_year):
    home, _fake, _president = chapter_year
    officers = _standard(evaluate(home, YEAR), "officers")
    # the treasurer started on the last day (counts), VP Membership ended on the first (counts);
    # the president started the day after the year, the secretary left the day before it.
    assert officers["counted"] == 2 and officers["missing"] == "Not filled: President, Secretary"


def test_a_roster_review_on_the_last_day_counts_and_the_next_day_does_not(chapter_year):
    home, _fake, president = chapter_year
    db.session.add(RosterReview(chapter_id=home.id, reviewed_on=date(2026, 7, 1), reviewed_by_id=president.id))
    db.session.commit()
    assert not _standard(evaluate(home, YEAR), "roster_review")["met"]
    db.session.add(RosterReview(chapter_id=home.id, reviewed_on=date(2026, 6, 30), reviewed_by_id=president.id))
    db.session.commit()
    review = _standard(evaluate(home, YEAR), "roster_review")
    assert review["met"] and review["evidence"][0]["title"] == f"Roster reviewed by {president.name}"


def test_the_level_is_the_highest_whose_threshold_the_standards_met_reach(chapter_year):
    home, fake, president = chapter_year
    assert evaluate(home, YEAR)["level"] is None
    fake.add("pd_event", home.id, date(2025, 9, 9), "September meeting")
    db.session.add(RosterReview(chapter_id=home.id, reviewed_on=date(2025, 8, 1), reviewed_by_id=president.id))
    db.session.commit()
    result = evaluate(home, YEAR)
    assert (result["met"], result["level"], result["next_level"]["name"]) == (2, "Silver", "Gold")
    db.session.execute(sa.update(RecognitionLevel).where(RecognitionLevel.name == "Silver").values(standards_met=3))
    assert evaluate(home, YEAR)["level"] == "Bronze"


def test_an_officer_marks_the_roster_reviewed_with_the_day_and_who(chapter_year, client):
    home, _fake, president = chapter_year
    client.login(president.email)
    response = client.submit("/chapters/40/standards/roster-reviewed", form_url="/chapters/40/standards",
                             follow_redirects=True)
    assert "Roster marked reviewed on 2026-07-10." in response.get_data(as_text=True)
    review = db.session.scalar(sa.select(RosterReview))
    assert (review.reviewed_on, review.reviewed_by_id) == (date(2026, 7, 10), president.id)


def test_a_submitted_report_stays_as_it_was_when_the_data_changes(chapter_year, client):
    home, fake, president = chapter_year
    client.login(president.email)
    response = client.submit("/chapters/40/standards/submit", {"fy": "2025"}, form_url="/chapters/40/standards?fy=2025")
    assert response.status_code == 302
    report = db.session.scalar(sa.select(StandardsReport))
    page = client.get(f"/standards/reports/{report.id}").get_data(as_text=True)
    assert "Met: 0 of 4" not in page and "Not met yet: 2 of 3" in page and "FY 2025-26" in page
    fake.add("pd_event", home.id, date(2026, 1, 15), "A late-recorded meeting")
    db.session.add(RosterReview(chapter_id=home.id, reviewed_on=date(2026, 2, 1), reviewed_by_id=president.id))
    db.session.execute(sa.update(Standard).where(Standard.code == "pd_events").values(title="Renamed standard"))
    db.session.commit()
    again = client.get(f"/standards/reports/{report.id}").get_data(as_text=True)
    assert "Not met yet: 2 of 3" in again and "A late-recorded meeting" not in again and "Renamed standard" not in again
    live = client.get("/chapters/40/standards?fy=2025").get_data(as_text=True)
    assert "A late-recorded meeting" in live and "Met: 3 of 3" in live
    assert db.session.get(StandardsReport, report.id).standards_met == 0


def test_a_report_cannot_be_submitted_twice_unless_returned(chapter_year):
    home, _fake, president = chapter_year
    services.submit_report(home, YEAR, actor=president)
    with pytest.raises(services.DomainError, match="already submitted"):
        services.submit_report(home, YEAR, actor=president)


def test_the_district_manager_approves_or_returns_with_a_comment(chapter_year, client):
    home, _fake, president = chapter_year
    report = services.submit_report(home, YEAR, actor=president)
    manager = factories.district_manager(home.district)
    db.session.commit()
    client.login(manager.email)
    url = f"/standards/reports/{report.id}"
    refused = client.submit(f"{url}/review", {"decision": "return", "comment": ""}, form_url=url)
    assert refused.status_code == 400 and "Say why the report goes back to the chapter." in refused.get_data(as_text=True)
    client.submit(f"{url}/review", {"decision": "return", "comment": "Add the events"}, form_url=url)
    db.session.expire_all()
    assert db.session.get(StandardsReport, report.id).status is ReportStatus.RETURNED
    resubmitted = services.submit_report(home, YEAR, actor=president)
    db.session.commit()
    assert resubmitted.id == report.id and resubmitted.status is ReportStatus.SUBMITTED
    client.submit(f"{url}/review", {"decision": "approve"}, form_url=url)
    db.session.expire_all()
    assert db.session.get(StandardsReport, report.id).status is ReportStatus.APPROVED
    listing = client.get("/standards/reports?status=approved").get_data(as_text=True)
    assert "Chapter 40" in listing and "Approved" in listing


def test_staff_change_a_threshold_and_the_counting_follows(chapter_year, client):
    home, _fake, _president = chapter_year
    client.login(factories.staff().email)
    db.session.commit()
    standard = db.session.scalar(sa.select(Standard).where(Standard.code == "pd_events"))
    prefix = f"s{standard.id}-"
    response = client.submit(f"/admin/standards/{standard.id}",
                             {prefix + "title": "At least 2 events", prefix + "minimum": "2",
                              prefix + "sort_order": "10", prefix + "is_active": "y"}, form_url="/admin/standards")
    assert response.status_code == 302
    assert _standard(evaluate(home, YEAR), "pd_events")["met"]
    bad = client.submit(f"/admin/standards/{standard.id}", {prefix + "title": "", prefix + "minimum": "x"},
                        form_url="/admin/standards")
    assert bad.status_code == 400 and "Give a number." in bad.get_data(as_text=True)


def test_staff_cannot_list_a_position_that_does_not_exist(chapter_year, client):
    client.login(factories.staff().email)
    db.session.commit()
    standard = db.session.scalar(sa.select(Standard).where(Standard.code == "officers"))
    prefix = f"s{standard.id}-"
    response = client.submit(f"/admin/standards/{standard.id}",
                             {prefix + "title": "Officers", prefix + "minimum": "1", prefix + "sort_order": "30",
                              prefix + "position_codes": "president,chief_wizard", prefix + "is_active": "y"},
                             form_url="/admin/standards")
    assert response.status_code == 400 and "No officer position has the code chief_wizard." in response.get_data(as_text=True)
