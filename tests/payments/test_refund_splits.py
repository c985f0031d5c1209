"""Refunds that add up: parts give back exactly the two shares; two refunds at once are serialised
(row locks and an SQL increment) on SQLite and PostgreSQL, with real threads and connections."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.core.permissions import roles_of
from chapter.extensions import db
from chapter.payments import refunds
from chapter.payments.models import Payment, PaymentStatus, Refund, TermAction
from chapter.treasury.models import LedgerEntry, LedgerKind
from tests import factories
from tests.payments.helpers import pay_order, stripe_api


@pytest.fixture
def paid(app, client, stripe_peer):
    """Ada (chapter #40) paid $210 for Professional, of which the chapter's share is $35."""
    home = factories.chapter(40, name="Schuylkill Valley")
    factories.member(home=home, status="pending", email="ada@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    payment = db.session.scalar(sa.select(Payment))
    assert (payment.amount_cents, payment.chapter_share_cents) == (21000, 3500)
    return {"payment": payment, "staff": staff, "peer": stripe_peer}


def _refund(payment, staff, cents):
    return refunds.refund_payment(payment, amount_cents=cents, reason="Part refund", term_action=TermAction.KEEP,
                                  new_term_end=None, actor=staff, roles=roles_of(staff, today()))


@pytest.mark.parametrize("parts", [[5000, 5000, 11000], [1, 1, 1, 20997], [7001, 7001, 6998], [7000, 7000, 7000]],
                         ids=["50+50+110", "0.01x3+209.97", "70.01+70.01+69.98", "3x70"])
def test_a_payment_refunded_in_parts_gives_back_exactly_its_chapter_and_association_shares(paid, parts):
    payment = paid["payment"]
    for cents in parts:
        _refund(payment, paid["staff"], cents)
        db.session.commit()
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    made = db.session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id)).all()
    assert [r.amount_cents for r in made] == parts
    assert sum(r.chapter_share_cents for r in made) == 3500
    assert sum(r.association_share_cents for r in made) == 17500
    assert all(0 <= r.chapter_share_cents <= r.amount_cents for r in made)
    assert payment.refunded_cents == 21000 and payment.status is PaymentStatus.REFUNDED
    # The chapter is owed nothing for this payment any more.
    owed = db.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount_cents)).where(
        LedgerEntry.kind == LedgerKind.CHAPTER_SHARE, LedgerEntry.payment_id == payment.id))
    assert owed == 0


def test_a_refund_of_100_01_in_two_parts_splits_to_the_cent(app):
    from chapter.payments.models import Payment as Row

    payment = Row(amount_cents=10001, chapter_share_cents=1667, currency="USD")
    first = refunds.chapter_part(payment, 5000, 0, 0)
    second = refunds.chapter_part(payment, 5001, 5000, first)
    assert first + second == 1667 and (first, second) == (833, 834)


def test_two_refunds_of_one_payment_at_once_are_serialised_and_never_exceed_it(paid, app):
    payment_id, staff_id = paid["payment"].id, paid["staff"].id
    outcomes, start = [], threading.Barrier(2)

    def refund_150():
        with app.app_context():
            from chapter.auth.models import User

            staff = db.session.get(User, staff_id)
            payment = db.session.get(Payment, payment_id)
            start.wait()
            try:
                _refund(payment, staff, 15000)
                db.session.commit()
                outcomes.append("refunded")
            except DomainError as error:
                db.session.rollback()
                outcomes.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=refund_150) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["At most $60.00 can be refunded.", "refunded"], outcomes
    db.session.expire_all()
    payment = db.session.get(Payment, payment_id)
    made = db.session.scalars(sa.select(Refund).where(Refund.payment_id == payment_id)).all()
    assert payment.refunded_cents == sum(r.amount_cents for r in made) == 15000
    assert [r["amount"] for r in stripe_api(paid["peer"], "/v1/refunds", None, method="GET")["data"]] == [15000]


def test_a_refund_after_a_partial_refund_is_limited_to_what_remains(paid):
    payment = paid["payment"]
    _refund(payment, paid["staff"], 20000)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        _refund(payment, paid["staff"], 1001)
    assert refused.value.message == "At most $10.00 can be refunded."
    db.session.rollback()
    _refund(payment, paid["staff"], 1000)
    db.session.commit()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.REFUNDED
