"""Demo money to reconcile; reports as tables, charts and CSV; remittances the chapter treasurer sees."""
import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from chapter.seed import demo
from chapter.core.models import today
from chapter.extensions import db
from chapter.treasury import reports, services
from chapter.treasury.models import LedgerEntry, LedgerKind, StripePayout
from tests import factories


def _last_month():
    first = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, services.next_month(first) - timedelta(days=1)


def test_the_demo_has_a_month_of_payments_refunds_and_a_payout_that_balances(app):
    demo.seed_demo(members=200, chapters=9)
    db.session.commit()
    payout = db.session.scalar(sa.select(StripePayout))
    view = reports.payout_reconciliation(payout.id)
    assert view.balanced and len(view.lines) > 100 and view.refunds_cents > 0 and view.fees_cents > 0
    start, end = _last_month()
    revenue = reports.revenue_by_month(start, end)
    assert revenue.columns[:4] == ["Month", "Dues", "Corporate", "Exams"] and revenue.rows[0][1] > 0  # dues


def test_reports_export_csv_an_accounting_package_can_import(app, client):
    demo.seed_demo(members=200, chapters=9)
    db.session.commit()
    start, end = _last_month()
    client.login(f"staff@{demo.DEMO_DOMAIN}", demo.DEMO_PASSWORD)
    for name in reports.REPORTS:
        page = client.get(f"/treasury/reports/{name}?from={start}&to={end}")
        assert page.status_code == 200 and "vendor/chart.umd.min.js" in page.get_data(as_text=True), name
        exported = client.get(f"/treasury/reports/{name}?from={start}&to={end}&format=csv")
        assert exported.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
        assert rows[0] == reports.REPORTS[name](start, end).columns
    journal = client.get(f"/treasury/ledger.csv?month={start:%Y-%m}")
    rows = list(csv.DictReader(io.StringIO(journal.get_data(as_text=True))))
    total = sum(int(round(float(r["Amount"]) * 100)) for r in rows)
    assert total == db.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount_cents)).where(
        LedgerEntry.booked_on.between(start, end)))


def test_a_remittance_recorded_by_staff_is_seen_by_the_chapter_treasurer(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    staff, treasurer = factories.staff(), factories.officer(home, "treasurer")
    services.add_entry(LedgerKind.CHAPTER_SHARE, amount_cents=3500, currency="USD", booked_on=today(), chapter_id=home.id,
                       description="Chapter share")
    db.session.commit()
    client.login(staff.email)
    response = client.submit("/treasury/chapters/40/remittances",
                             {"amount_cents": "20.00", "booked_on": today().isoformat(), "reference": "WIRE 77"},
                             form_url="/treasury/chapters/40")
    assert response.status_code == 302
    client.logout()
    client.login(treasurer.email)
    page = client.get("/treasury/chapters/40").get_data(as_text=True)
    assert "WIRE 77" in page and "$15.00" in page  # 35.00 owed - 20.00 remitted
    report = reports.remittance_report(home, today().replace(day=1), today())
    assert (report.share_owed_cents, report.remitted_cents, report.balance_cents) == (3500, 2000, 1500)
