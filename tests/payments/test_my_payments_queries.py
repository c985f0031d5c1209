"""A member's payments page reads each payment with its order in one query: a member with many payments
costs no more queries than one with one, and every payment shows its order's reference and description."""
from chapter.extensions import db
from chapter.payments.models import Order, OrderPurpose, OrderStatus, Payment, PaymentStatus
from tests import factories
from tests.querycount import queries_of_page


def _paid(member, description: str, amount: int = 21000) -> None:
    order = Order(purpose=OrderPurpose.RENEWAL, status=OrderStatus.PAID, member_id=member.id, currency="USD",
                  total_cents=amount, association_share_cents=amount, description=description)
    db.session.add(order)
    db.session.flush()
    db.session.add(Payment(order_id=order.id, amount_cents=amount, currency="USD", status=PaymentStatus.SUCCEEDED,
                           association_share_cents=amount))
    db.session.flush()


def test_many_payments_cost_no_more_queries_than_one(app, client):
    one = factories.member(email="one@example.org", with_user=True)
    many = factories.member(email="many@example.org", with_user=True)
    _paid(one, "Dues 2025")
    for year in range(2015, 2026):
        _paid(many, f"Dues {year}")
    db.session.commit()

    client.login("one@example.org")
    few, _ = queries_of_page(client, "/my/payments")
    client.logout()
    client.login("many@example.org")
    more, page = queries_of_page(client, "/my/payments")
    assert more == few
    assert all(f"<td>Dues {year}</td>" in page for year in range(2015, 2026)) and page.count(">Receipt</a>") == 11
    assert page.count("ORD-0") == 11
