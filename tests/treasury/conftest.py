"""Fixtures for treasury tests: members who paid by card against localstripe, one partial refund."""
import pytest
import sqlalchemy as sa

from chapter.core.permissions import roles_of
from chapter.extensions import db
from chapter.payments import services as payments
from chapter.payments.models import Payment, TermAction
from tests import factories
from tests.payments.helpers import pay_order


def _join_and_pay(client, peer, email, home):
    factories.member(home=home, status="pending", email=email, with_user=True)
    db.session.commit()
    client.login(email)
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, peer, order_id).get_json()["status"] == "succeeded"
    client.logout()
    return db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))


@pytest.fixture
def paid(app, client, stripe_peer):
    """Two members paid dues by card; staff refunded $50 of the first."""
    staff = factories.staff()
    home = factories.chapter(40, name="Schuylkill Valley")
    first = _join_and_pay(client, stripe_peer, "ada@example.org", home)
    second = _join_and_pay(client, stripe_peer, "bob@example.org", home)
    payments.refund_payment(first, amount_cents=5000, reason="Paid the wrong type", term_action=TermAction.KEEP,
                            new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    return {"staff": staff, "first": first, "second": second, "peer": stripe_peer}


