"""Each owning service publishes its domain event exactly once, with ids and plain values (no card data)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from chapter.outgoing import lapses
from chapter.outgoing.models import AnnouncedLapse
from chapter.payments import attempts, dues, refunds
from tests import factories
from tests.conftest import run_jobs


def _of(published, name):
    return [payload for event, payload in published if event == name]


def _pay_offline(order, staff):
    return attempts.record_offline_payment(order, amount_cents=order.total_cents, received_on=today(),
                                           reference="CHK 100", actor=staff)


def test_paying_a_join_order_publishes_member_joined_and_payment_succeeded_once(app, published):
    chapter, staff = factories.chapter(7), factories.staff()
    member = factories.member(home=chapter, status="pending")
    order = dues.start_join(member, factories.membership_type(), actor=staff)
    payment = _pay_offline(order, staff)
    attempts.fulfil_order(payment)  # a second fulfilment (webhook and re-read racing) changes nothing

    [joined] = _of(published, "member.joined")
    term = member.terms[-1]
    assert joined == {"member_id": member.id, "member_number": member.member_number, "chapter_id": chapter.id,
                      "chapter_number": 7, "term_id": term.id, "membership_type": "professional",
                      "starts_on": term.starts_on.isoformat(), "ends_on": term.ends_on.isoformat(), "order_id": order.id}
    [paid] = _of(published, "payment.succeeded")
    assert paid["payment_id"] == payment.id and paid["order_reference"] == order.reference
    assert (paid["amount_cents"], paid["currency"], paid["method"]) == (order.total_cents, order.currency, "offline")
    assert (paid["chapter_id"], paid["chapter_number"], paid["purpose"]) == (chapter.id, 7, "join")
    assert not {"card_brand", "card_last4", "stripe_payment_intent_id"} & set(paid)
    assert _of(published, "member.renewed") == []


def test_paying_a_renewal_publishes_member_renewed_once(app, published):
    chapter, staff = factories.chapter(8), factories.staff()
    member = factories.member(home=chapter, status="grace")
    order = dues.start_renewal(member, factories.membership_type(), actor=staff)
    _pay_offline(order, staff)

    [renewed] = _of(published, "member.renewed")
    assert renewed["member_id"] == member.id and renewed["chapter_number"] == 8
    assert renewed["ends_on"] == member.paid_through.isoformat()
    assert _of(published, "member.joined") == []


def test_a_refund_publishes_payment_refunded_once(app, published):
    chapter, staff = factories.chapter(9), factories.staff()
    member = factories.member(home=chapter, status="pending")
    payment = _pay_offline(dues.start_join(member, factories.membership_type(), actor=staff), staff)
    refund = refunds.record_refund(payment, amount_cents=1000, reason="Overpaid", stripe_refund_id=None, actor=staff)

    [refunded] = _of(published, "payment.refunded")
    assert (refunded["refund_id"], refunded["payment_id"], refunded["amount_cents"]) == (refund.id, payment.id, 1000)
    assert refunded["fully_refunded"] is False and refunded["chapter_number"] == 9


def test_moving_a_member_publishes_member_transferred_for_both_chapters(app, published):
    old, new = factories.chapter(10), factories.chapter(11)
    member = factories.member(home=old)
    unassigned = factories.member(home=None)
    transfer = member_services.change_home_chapter(member, new, actor=None, reason="Moved")
    member_services.change_home_chapter(unassigned, new, actor=None)  # a first chapter is no transfer

    [moved] = _of(published, "member.transferred")
    assert moved == {"transfer_id": transfer.id, "member_id": member.id, "member_number": member.member_number,
                     "chapter_id": new.id, "chapter_number": 11, "from_chapter_id": old.id, "from_chapter_number": 10,
                     "to_chapter_id": new.id, "to_chapter_number": 11, "effective_on": today().isoformat()}


def test_awarding_a_certification_publishes_certification_awarded_once(app, published):
    from chapter.certifications import awards
    from chapter.certifications.models import CertificationType

    chapter = factories.chapter(12)
    member = factories.member(home=chapter)
    factories.reference_data()
    cpim = db.session.scalars(sa.select(CertificationType).order_by(CertificationType.id)).first()
    held = awards.grant_certification(member, cpim, today(), actor=None)

    [awarded] = _of(published, "certification.awarded")
    assert awarded == {"member_certification_id": held.id, "member_id": member.id, "member_number": member.member_number,
                       "chapter_id": chapter.id, "chapter_number": 12, "certification": cpim.code,
                       "certificate_number": held.certificate_number, "earned_on": today().isoformat(),
                       "cycle_ends_on": held.cycle_ends_on.isoformat()}


def test_a_member_whose_grace_ended_yesterday_is_published_as_lapsed_once(app, published):
    chapter = factories.chapter(13)
    lapsing = factories.member(home=chapter, status="grace")
    factories.member(home=chapter, status="active")  # not lapsing
    renewed = factories.member(home=chapter, status="grace")  # same dates, but renewed in grace
    member_services.grant_term(renewed, factories.membership_type(), starts_on=renewed.paid_through + timedelta(days=1),
                               source=TermSource.PAYMENT, actor=None)
    factories.member(home=chapter, status="lapsed")  # lapsed long ago: announced then, not now
    day = lapsing.grace_ends_on + timedelta(days=1)

    assert lapses.publish_lapses(day) == 1
    assert lapses.publish_lapses(day) == 0  # the task running twice announces nothing twice
    assert lapses.publish_lapses(day + timedelta(days=1)) == 0
    [lapsed] = _of(published, "member.lapsed")
    assert lapsed == {"member_id": lapsing.id, "member_number": lapsing.member_number, "chapter_id": chapter.id,
                      "chapter_number": 13, "membership_type": "professional",
                      "paid_through": lapsing.paid_through.isoformat(), "lapsed_on": day.isoformat()}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnnouncedLapse)) == 1


def test_the_daily_lapses_task_runs_in_the_worker_and_publishes(app, published, clock):
    from chapter.outgoing import tasks

    chapter = factories.chapter(14)
    lapsing = factories.member(home=chapter, status="grace")
    db.session.commit()
    clock(f"{lapsing.grace_ends_on + timedelta(days=1)}T06:45:00")
    tasks.member_lapses()  # what the scheduler enqueues
    run_jobs()
    assert [p["member_id"] for p in _of(published, "member.lapsed")] == [lapsing.id]
