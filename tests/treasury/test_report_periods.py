"""Reports: the last 12 months by default, a row for every month (zero when nothing happened), totals, and
new/renewed/lapsed members that agree with the roster's own counts for the same dates."""
from datetime import timedelta

from chapter.chapters.models import Chapter
from chapter.chapters.services import RosterQuery, RosterView, roster_count
from chapter.core.models import today
from chapter.extensions import db
from chapter.seed import demo
from chapter.treasury import reports
from chapter.treasury.services import next_month

import sqlalchemy as sa


def _months_back(n: int):
    first = today().replace(day=1)
    for _ in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def test_reports_show_the_last_12_months_each_month_a_row_and_a_total(app, client):
    demo.seed_demo(members=120, chapters=6)
    db.session.commit()
    client.login(f"staff@{demo.DEMO_DOMAIN}", demo.DEMO_PASSWORD)
    page = client.get("/treasury/reports/revenue").get_data(as_text=True)
    start = _months_back(11)
    assert f'value="{start.isoformat()}"' in page
    assert f'value="{(next_month(today().replace(day=1)) - timedelta(days=1)).isoformat()}"' in page
    report = reports.revenue_by_month(start, next_month(today().replace(day=1)) - timedelta(days=1))
    assert [row[0] for row in report.rows] == reports.months_between(start, today())
    assert len(report.rows) == 12 and any(row[5] == 0 for row in report.rows)  # quiet months are zero, not missing
    assert report.totals[5] == sum(row[5] for row in report.rows) and 'data-testid="report-totals"' in page
    members = client.get("/treasury/reports/members").get_data(as_text=True)
    assert "<th scope=\"col\">New</th><th scope=\"col\">Renewed</th><th scope=\"col\">Lapsed</th>" in members


def test_new_and_lapsed_members_agree_with_the_roster_counts_for_the_same_dates(app):
    demo.seed_demo(members=300, chapters=6)
    db.session.commit()
    day = today()
    chapters = db.session.scalars(sa.select(Chapter)).all()
    start, end = day - timedelta(days=365), day - timedelta(days=1)
    report = reports.members_by_month(start, end)
    total_new = sum(row[1] for row in report.rows)
    total_lapsed = sum(row[3] for row in report.rows)
    roster_new = sum(roster_count(c, RosterQuery(joined_from=start, joined_to=end)) for c in chapters)
    roster_lapsed = sum(roster_count(c, RosterQuery(view=RosterView.LAPSED_12_MONTHS)) for c in chapters)
    assert total_new == roster_new > 0
    assert total_lapsed == roster_lapsed > 0
    this_month = reports.members_by_month(day.replace(day=1), day)
    roster_new_this_month = sum(roster_count(c, RosterQuery(view=RosterView.NEW_THIS_MONTH)) for c in chapters)
    assert this_month.rows[0][1] == roster_new_this_month


def test_a_chapter_treasurer_opens_their_chapters_reports_and_not_another_chapters(app, client):
    demo.seed_demo(members=120, chapters=6)
    db.session.commit()
    other = db.session.scalar(sa.select(Chapter.number).where(Chapter.number != 1).order_by(Chapter.number))
    client.login(f"treasurer@{demo.DEMO_DOMAIN}", demo.DEMO_PASSWORD)
    for name in reports.CHAPTER_REPORTS:
        page = client.get(f"/treasury/chapters/1/reports/{name}")
        assert page.status_code == 200 and "#1" in page.get_data(as_text=True), name
        assert client.get(f"/treasury/chapters/1/reports/{name}?format=csv").mimetype == "text/csv"
        assert client.get(f"/treasury/chapters/{other}/reports/{name}").status_code == 403
    assert client.get("/treasury/chapters/1/reports/chapters").status_code == 404
    chapter_one = db.session.scalar(sa.select(Chapter).where(Chapter.number == 1))
    start = _months_back(11)
    mine = reports.members_by_month(start, today(), chapter_id=chapter_one.id)
    everyone = reports.members_by_month(start, today())
    assert sum(r[1] for r in mine.rows) < sum(r[1] for r in everyone.rows)
