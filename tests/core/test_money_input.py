"""Money typed by people: plain decimals only, with a message by the field, never a 500."""
import pytest

from chapter.core.money import parse_money
from chapter.extensions import db
from tests import factories


@pytest.mark.parametrize("text, cents", [("210", 21000), ("210.00", 21000), ("210.5", 21050), ("$1,210.50", 121050),
                                         (" 0.01 ", 1), ("1,000,000", 100000000), (".50", 50)])
def test_plain_decimals_are_read_as_cents(text, cents):
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["1_000", "１２３", "٣", "Infinity", "-Infinity", "NaN", "sNaN", "1e3", "1E2", "1e999",
                                  "12.345", "1,00", "12,3456", "--1", "-5", "+5", "0x10", "", "  ", "1.2.3",
                                  "999999999999999999999"])
def test_anything_but_a_plain_decimal_is_refused_with_a_reason(text):
    with pytest.raises(ValueError) as refused:
        parse_money(text)
    assert str(refused.value)


@pytest.mark.parametrize("typed", ["1_000", "１００", "Infinity", "NaN", "1e999", "sNaN"])
def test_the_refund_form_answers_a_bad_amount_with_a_message_by_the_field(app, client, typed):
    from chapter.payments.models import Order, OrderPurpose, OrderStatus, Payment, PaymentStatus

    home = factories.chapter(40)
    member = factories.member(home=home, email="ada@example.org")
    staff = factories.staff()
    order = Order(member_id=member.id, purpose=OrderPurpose.JOIN, status=OrderStatus.PAID, currency="USD",
                  total_cents=21000, association_share_cents=21000, description="Professional")
    db.session.add(order)
    db.session.flush()
    payment = Payment(order_id=order.id, amount_cents=21000, currency="USD", status=PaymentStatus.SUCCEEDED,
                      stripe_payment_intent_id="pi_x")
    db.session.add(payment)
    db.session.commit()
    client.login(staff.email)
    response = client.submit(f"/payments/{payment.id}/refund", {"amount_cents": typed, "reason": "test", "term_action": "keep"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter an amount like 210.00" in page and "digits and a decimal point" in page
