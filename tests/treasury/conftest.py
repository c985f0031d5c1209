"""Fixtures for treasury tests: members who paid by card against localstripe, one partial refund."""
import pytest

from chapter.core.permissions import roles_of
from chapter.extensions import db
from chapter.payments import services as payments
from chapter.payments.models import TermAction
from tests import factories
from tests.payments.helpers import join_and_pay


@pytest.fixture
def paid(app, client, stripe_peer):
    """Two members paid dues by card; staff refunded $50 of the first."""
    staff = factories.staff()
    home = factories.chapter(40, name="Schuylkill Valley")
    first = join_and_pay(client, stripe_peer, "ada@example.org", home)
    second = join_and_pay(client, stripe_peer, "bob@example.org", home)
    payments.refund_payment(first, amount_cents=5000, reason="Paid the wrong type", term_action=TermAction.KEEP,
                            new_term_end=None, actor=staff, roles=roles_of(staff))
    db.session.commit()
    return {"staff": staff, "first": first, "second": second, "peer": stripe_peer}


