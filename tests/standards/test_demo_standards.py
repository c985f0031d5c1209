"""The demo has a year of standards: roster reviews, a report approved by the district manager, one waiting."""
import sqlalchemy as sa

from chapter.extensions import db
from chapter.seed import demo
from chapter.standards.models import ReportStatus, RosterReview, StandardsReport


def test_the_demo_has_roster_reviews_a_reviewed_report_and_one_waiting(app, client):
    demo.seed_demo(members=60, chapters=9)
    db.session.commit()
    statuses = sorted(r.status.value for r in db.session.scalars(sa.select(StandardsReport)))
    assert statuses == [ReportStatus.APPROVED.value, ReportStatus.SUBMITTED.value]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterReview)) >= 5
    client.login("district@example.org", demo.DEMO_PASSWORD)
    listing = client.get("/standards/reports").get_data(as_text=True)
    assert "Approved" in listing
    client.logout()
    client.login("president@example.org", demo.DEMO_PASSWORD)
    page = client.get("/chapters/1/standards").get_data(as_text=True)
    assert "Mark roster reviewed" in page and "Roster reviewed by" in page
