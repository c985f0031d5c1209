"""The treasury's staff forms (a cheque against an order, an offline payment, closing a month) refused:
the page comes back with each message by its field, a summary at the top (role="alert") linking to the
fields, and what was typed kept; nothing is recorded (issue 16; issue 9's "the offline payment must equal
the order's total")."""
import re

import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from chapter.payments.models import Order, OrderStatus, Payment
from chapter.treasury.models import ClosedPeriod, LedgerEntry
from tests import factories


def _summary(page: str) -> str:
    found = re.search(r'<div class="error-summary[^"]*" role="alert".*?</div>', page, re.S)
    assert found, "no error summary on the page"
    return found.group(0)


def _value(page: str, field_id: str) -> str | None:
    found = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page)
    assert found, f"no input #{field_id}"
    value = re.search(r'\bvalue="([^"]*)"', found.group(0))
    return value.group(1) if value else None


def _open_order(client) -> int:
    factories.member(home=factories.chapter(40), status="pending", email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    client.logout()
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_cheque_for_less_than_the_order_is_refused_by_the_amount_field_with_a_summary_and_what_was_typed(app, client):
    order_id = _open_order(client)
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    typed = {"order_reference": f"ORD-{order_id:06d}", "amount_cents": "200.00", "received_on": today().isoformat(),
             "reference": "CHK 1001"}

    answer = client.submit("/treasury/order-payments", typed, form_url="/treasury/")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    summary = _summary(page)
    assert 'href="#amount_cents"' in summary
    assert "Amount received: The order is for $210.00: record exactly that amount" in summary
    assert re.search(r'id="amount_cents-error">The order is for \$210\.00', page)  # by the field too
    assert _value(page, "amount_cents") == "200.00" and _value(page, "reference") == "CHK 1001"
    assert _value(page, "order_reference") == f"ORD-{order_id:06d}"
    db.session.expire_all()
    assert db.session.get(Order, order_id).status is OrderStatus.OPEN
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_an_unknown_order_and_missing_fields_are_each_named_in_the_summary(app, client):
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)

    unknown = client.submit("/treasury/order-payments", {"order_reference": "ORD-999999", "amount_cents": "210.00",
                                                         "received_on": today().isoformat(), "reference": "CHK 7"},
                            form_url="/treasury/")
    assert unknown.status_code == 400
    assert "Order number (ORD-…): There is no order ORD-999999." in _summary(unknown.get_data(as_text=True))

    empty = client.submit("/treasury/offline-payments", {"amount_cents": "12.50", "booked_on": "", "reference": ""},
                          form_url="/treasury/")
    page = empty.get_data(as_text=True)
    summary = _summary(page)
    assert empty.status_code == 400 and "There are 2 problems" in summary
    assert 'href="#offline_booked_on"' in summary and 'href="#offline_reference"' in summary
    assert "Check number or bank reference: Give the check number or bank reference." in summary
    assert _value(page, "offline_amount_cents") == "12.50"
    assert not _value(page, "amount_cents")  # the other form on the page is left empty
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0


def test_closing_a_month_without_one_or_a_second_time_is_refused_by_the_month_field(app, client):
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    month = today().replace(day=1)

    missing = client.submit("/treasury/periods/close", {"month": "", "confirmed": "yes"}, form_url="/treasury/")
    assert missing.status_code == 400
    assert 'href="#month"' in _summary(missing.get_data(as_text=True))
    assert "Month: Choose a month." in _summary(missing.get_data(as_text=True))

    assert client.submit("/treasury/periods/close", {"month": f"{month:%Y-%m}", "confirmed": "yes"},
                         form_url="/treasury/").status_code == 302
    again = client.submit("/treasury/periods/close", {"month": f"{month:%Y-%m}", "confirmed": "yes"}, form_url="/treasury/")
    page = again.get_data(as_text=True)
    assert again.status_code == 400
    assert f"Month: {month:%B %Y} is already closed." in _summary(page)
    assert _value(page, "month") == f"{month:%Y-%m}"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedPeriod)) == 1
