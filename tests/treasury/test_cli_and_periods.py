"""`flask --app wsgi stripe sync` and closing and reopening a month through the pages."""
import sqlalchemy as sa

from chapter.core.audit import AuditEntry
from chapter.core.models import today
from chapter.extensions import db
from chapter.treasury import services
from chapter.treasury.models import ClosedPeriod, LedgerKind, StripeBalanceTransaction
from tests import factories


def test_the_sync_command_shows_progress_and_a_second_run_adds_nothing(paid, app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["stripe", "sync"])
    assert first.exit_code == 0, first.output
    assert "3 balance transactions" in first.output and "0 exception(s)" in first.output
    second = runner.invoke(args=["stripe", "sync"])
    assert "0 balance transactions" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeBalanceTransaction)) == 3


def test_staff_close_and_reopen_a_month_and_the_reopening_is_logged(app, client):
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    month = today().replace(day=1)
    assert client.submit("/treasury/periods/close", {"month": f"{month:%Y-%m}", "confirmed": "yes"}, form_url="/treasury/").status_code == 302
    assert db.session.get(ClosedPeriod, month) is not None
    try:
        services.add_entry(LedgerKind.OFFLINE_PAYMENT, amount_cents=100, currency="USD", booked_on=today(), description="x")
        raise AssertionError("a closed month took an entry")
    except services.PeriodClosed:
        db.session.rollback()
    assert client.submit("/treasury/periods/reopen", {"month": f"{month:%Y-%m}", "confirmed": "yes"}, form_url="/treasury/").status_code == 302
    db.session.expire_all()
    assert db.session.get(ClosedPeriod, month) is None
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["treasury.month_closed", "treasury.month_reopened"]


def test_closing_a_month_first_says_what_will_happen_and_closes_nothing_until_confirmed(app, client):
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    month = today().replace(day=1)
    asked = client.submit("/treasury/periods/close", {"month": f"{month:%Y-%m}"}, form_url="/treasury/")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"Close {month:%B %Y}?" in page
    assert f"No payment, refund or other entry dated in {month:%B %Y} can be added any more." in page
    assert db.session.get(ClosedPeriod, month) is None


def test_the_month_field_takes_a_month_or_a_whole_date(app, client):
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    month = today().replace(day=1)
    assert 'type="month"' in client.get("/treasury/").get_data(as_text=True)
    answer = client.submit("/treasury/periods/close", {"month": f"{month:%Y-%m}-15", "confirmed": "yes"}, form_url="/treasury/")
    assert answer.status_code == 302
    assert db.session.get(ClosedPeriod, month) is not None
