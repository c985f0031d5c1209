"""What the treasurer's own ledger actions write and what they refuse, word for word: an offline payment, a
correction, a remittance to a chapter, closing and reopening a month. The refusals' messages are the ones the
forms show by their fields; the entries and audit lines are what a treasurer reads back a year later."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.core.audit import AuditEntry
from chapter.core.errors import DomainError, NotAllowed
from chapter.extensions import db
from chapter.treasury import services as ledger
from chapter.treasury.models import ClosedPeriod, LedgerEntry, LedgerKind
from tests import factories

DAY = date(2026, 3, 18)


@pytest.fixture
def books(app, clock):
    clock(DAY.isoformat())
    staff = factories.staff()
    officer = factories.user("treasurer40@example.org")
    home = factories.chapter(40, name="Schuylkill Valley")
    db.session.commit()
    return {"staff": staff, "officer": officer, "home": home}


def _refused(error_class, action) -> tuple[str, str | None]:
    with pytest.raises(error_class) as caught:
        action()
    return caught.value.message, caught.value.field


def _audit(action: str) -> AuditEntry:
    return db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == action))


def test_an_offline_payment_is_booked_with_its_reference_and_refused_without_one_or_an_amount(books):
    staff, home = books["staff"], books["home"]

    def offline(**changes):
        fields = dict(amount_cents=1, currency="usd", booked_on=DAY, reference="  CHK 1001  ", description="",
                      actor=staff, chapter=home)
        return ledger.record_offline_payment(**{**fields, **changes})

    assert _refused(NotAllowed, lambda: offline(actor=books["officer"])) == ("Only staff record offline payments.", None)
    for amount in (0, -500):
        assert _refused(DomainError, lambda: offline(amount_cents=amount)) == ("Enter an amount above zero.", "amount_cents")
    assert _refused(DomainError, lambda: offline(reference="   ")) == (
        "Give the check number or bank reference.", "reference")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0

    cent = offline()  # one cent is an amount
    assert (cent.kind, cent.amount_cents, cent.currency, cent.booked_on, cent.reference, cent.description,
            cent.actor_id, cent.chapter_id) == (LedgerKind.OFFLINE_PAYMENT, 1, "USD", DAY, "CHK 1001", "Offline payment",
                                                staff.id, home.id)
    national = offline(amount_cents=250000, reference="W" * 150, description="Sponsor check", chapter=None)
    assert (national.reference, national.description, national.chapter_id) == ("W" * 100, "Sponsor check", None)
    long = offline(description="D" * 400)
    assert long.description == "D" * 300


def test_a_correction_points_at_its_entry_carries_its_links_and_lands_in_the_first_open_month(books):
    staff = books["staff"]
    entry = ledger.add_entry(LedgerKind.CHARGE, amount_cents=21000, currency="USD", booked_on=date(2026, 1, 20),
                             description="Payment of ORD-1", chapter_id=books["home"].id, stripe_payout_id="po_1",
                             stripe_balance_transaction_id="txn_1", reference="ORD-1")
    ledger.close_month(date(2026, 1, 1), actor=staff)
    ledger.close_month(date(2026, 2, 1), actor=staff)
    db.session.commit()

    assert _refused(NotAllowed, lambda: ledger.correct_entry(entry, amount_cents=-100, reason="Overstated",
                                                             actor=books["officer"])) == ("Only staff correct the ledger.", None)
    assert _refused(DomainError, lambda: ledger.correct_entry(entry, amount_cents=0, reason="Overstated", actor=staff)) \
        == ("A correction needs an amount.", "amount_cents")
    assert _refused(DomainError, lambda: ledger.correct_entry(entry, amount_cents=-100, reason="  ", actor=staff)) \
        == ("Say why the entry is corrected.", "reason")

    # Asked for a day in January (closed, and before today): it lands on the first day of March, the first open month.
    correction = ledger.correct_entry(entry, amount_cents=-100, reason="  Overstated  ", actor=staff, day=date(2026, 1, 25))
    assert correction.booked_on == date(2026, 3, 1)
    assert (correction.kind, correction.amount_cents, correction.currency, correction.corrects_id, correction.actor_id,
            correction.chapter_id, correction.stripe_payout_id, correction.stripe_balance_transaction_id) == (
        LedgerKind.CHARGE, -100, "USD", entry.id, staff.id, books["home"].id, "po_1", "txn_1")
    assert correction.description == f"Correction of entry {entry.id}: Overstated"
    # A day given later than today is kept (April is open); without a day, today.
    assert ledger.correct_entry(entry, amount_cents=5, reason="Late", actor=staff, day=date(2026, 4, 2)).booked_on == date(2026, 4, 2)
    assert ledger.correct_entry(entry, amount_cents=5, reason="Now", actor=staff).booked_on == DAY


def test_a_correction_keeps_the_payment_and_refund_it_corrects(paid):
    refund_entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.REFUND))
    correction = ledger.correct_entry(refund_entry, amount_cents=100, reason="Refund overstated", actor=paid["staff"])
    assert (correction.payment_id, correction.refund_id, correction.kind) == (
        refund_entry.payment_id, refund_entry.refund_id, LedgerKind.REFUND)
    assert correction.payment_id is not None and correction.refund_id is not None


def test_a_remittance_is_booked_to_its_chapter_in_its_currency_and_audited(books):
    staff, home = books["staff"], books["home"]
    home.currency = "CAD"
    db.session.commit()

    def remit(**changes):
        fields = dict(amount_cents=1, booked_on=DAY, reference="  WIRE 77 ", actor=staff)
        return ledger.record_remittance(home, **{**fields, **changes})

    assert _refused(NotAllowed, lambda: remit(actor=books["officer"])) == (
        "Only the national treasurer records remittances.", None)
    for amount in (0, -1):
        assert _refused(DomainError, lambda: remit(amount_cents=amount)) == ("Enter an amount above zero.", "amount_cents")
    assert remit().amount_cents == 1
    entry = remit(amount_cents=123456, reference="R" * 120)
    assert (entry.kind, entry.currency, entry.chapter_id, entry.actor_id, entry.reference, entry.booked_on,
            entry.description) == (LedgerKind.REMITTANCE, "CAD", home.id, staff.id, "R" * 100, DAY,
                                   "Remittance to chapter #40")
    assert remit(reference="   ").reference is None
    db.session.commit()
    lines = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "treasury.remittance")
                               .order_by(AuditEntry.id)).all()
    assert len(lines) == 3
    audit = lines[1]
    assert (audit.actor_id, audit.chapter_id, audit.summary) == (staff.id, home.id, "Remitted 1234.56 CAD to chapter #40")
    assert audit.after["amount_cents"] == 123456 and audit.after["reference"] == "R" * 120
    assert str(audit.after["booked_on"]).startswith("2026-03-18")


def test_closing_and_reopening_a_month_say_who_and_which_month_and_refuse_what_makes_no_sense(books):
    staff, officer = books["staff"], books["officer"]
    march = date(2026, 3, 9)
    assert _refused(NotAllowed, lambda: ledger.close_month(march, actor=officer)) == ("Only staff close a month.", None)
    closed = ledger.close_month(march, actor=staff)
    db.session.commit()
    assert (closed.month, closed.closed_by_id) == (date(2026, 3, 1), staff.id)
    line = _audit("treasury.month_closed")
    assert (line.actor_id, line.summary) == (staff.id, "Closed March 2026")
    assert str(line.after["month"]).startswith("2026-03-01")
    assert _refused(DomainError, lambda: ledger.close_month(date(2026, 3, 31), actor=staff)) == (
        "March 2026 is already closed.", "month")
    assert _refused(ledger.PeriodClosed, lambda: ledger.add_entry(
        LedgerKind.CHARGE, amount_cents=100, currency="USD", booked_on=date(2026, 3, 31), description="Late")) == (
        "March 2026 is closed: no entry can be added to it.", "booked_on")
    ledger.close_month(date(2026, 1, 1), actor=staff)
    assert [p.month for p in ledger.closed_months()] == [date(2026, 3, 1), date(2026, 1, 1)]

    assert _refused(NotAllowed, lambda: ledger.reopen_month(march, actor=officer)) == ("Only staff reopen a month.", None)
    assert _refused(DomainError, lambda: ledger.reopen_month(date(2026, 2, 14), actor=staff)) == (
        "February 2026 is not closed.", "month")
    ledger.reopen_month(march, actor=staff)
    db.session.commit()
    assert db.session.get(ClosedPeriod, date(2026, 3, 1)) is None and not ledger.is_closed(march)
    line = _audit("treasury.month_reopened")
    assert (line.actor_id, line.summary) == (staff.id, "Reopened March 2026")
    assert str(line.before["month"]).startswith("2026-03-01")
    assert ledger.add_entry(LedgerKind.CHARGE, amount_cents=100, currency="usd", booked_on=march,
                            description="Now open", actor=staff).actor_id == staff.id
    assert ledger.add_entry(LedgerKind.CHARGE, amount_cents=100, currency="usd", booked_on=march,
                            description="By the system").actor_id is None
    assert ledger.first_open_day(date(2026, 1, 12)) == date(2026, 2, 1) and ledger.first_open_day(march) == march
    ledger.close_month(date(2026, 2, 1), actor=staff)  # closed after January: still listed first, latest first
    assert [p.month for p in ledger.closed_months()] == [date(2026, 2, 1), date(2026, 1, 1)]
    ledger.reopen_month(date(2026, 2, 1), actor=staff)
    assert ledger.next_month(date(2026, 12, 5)) == date(2027, 1, 1)
    assert timedelta(0) == ledger.month_of(march) - date(2026, 3, 1)


def test_a_payment_and_a_refund_are_booked_with_their_order_and_only_a_real_chapter_share(paid):
    """Each entry names its order and points at its payment (and refund); a payment or refund that owes its chapter
    nothing (a type without a chapter share) books no chapter-share line, not a line of $0."""
    first = paid["first"]
    reference = first.order.reference

    def of_payment(kind):
        return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == kind, LedgerEntry.payment_id == first.id)
                                  .order_by(LedgerEntry.id)).all()

    charge, = of_payment(LedgerKind.CHARGE)
    assert (charge.description, charge.reference, charge.chapter_id, charge.currency) == (
        f"Payment of {reference}", None, first.chapter_id, first.currency)
    share, refunded_share = of_payment(LedgerKind.CHAPTER_SHARE)
    assert share.description == f"Chapter share of {reference}" and share.amount_cents == first.chapter_share_cents
    refund_entry, = of_payment(LedgerKind.REFUND)
    refund = first.refunds[0]
    assert (refund_entry.description, refund_entry.refund_id, refund_entry.amount_cents) == (
        f"Refund on {reference}", refund.id, -5000)
    assert (refunded_share.description, refunded_share.refund_id, refunded_share.amount_cents) == (
        f"Chapter share refunded on {reference}", refund.id, -refund.chapter_share_cents)

    entries = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    first.chapter_share_cents = 0
    ledger.record_payment(first)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == entries + 1  # the charge alone
    refund.chapter_share_cents, refund.refunded_at = 0, None
    ledger.record_refund(refund)  # no refund date from Stripe: booked on the day it was asked for
    added = db.session.scalars(sa.select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(2)).all()
    assert [e.kind for e in added] == [LedgerKind.REFUND, LedgerKind.CHARGE]
    assert added[0].booked_on == refund.created_at.date()
    db.session.rollback()


def test_a_seats_chapter_share_is_prorated_by_the_days_it_is_held_rounded_down():
    from types import SimpleNamespace

    year = SimpleNamespace(starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))  # 365 days
    assert ledger.seat_share_cents(3500, year, date(2025, 11, 1)) == (3500, 365, 365)  # named before the term: all of it
    assert ledger.seat_share_cents(3500, year, date(2026, 1, 1)) == (3500, 365, 365)
    assert ledger.seat_share_cents(3500, year, date(2026, 1, 2)) == (3490, 364, 365)  # 3500 * 364 // 365
    assert ledger.seat_share_cents(3500, year, date(2026, 7, 1)) == (1764, 184, 365)
    assert ledger.seat_share_cents(3500, year, date(2026, 12, 31)) == (9, 1, 365)    # the last day: one day's worth
    assert ledger.seat_share_cents(3500, year, date(2027, 1, 1)) == (0, 0, 365)     # after the term: nothing
    assert ledger.seat_share_cents(3500, year, date(2027, 6, 1)) == (0, 0, 365)


def test_an_offline_payment_of_an_order_is_booked_as_offline_with_its_check_number(app):
    """A check recorded against a join order: the ledger line says offline payment, names the order, keeps the
    check number, and is dated the day the money came in."""
    from chapter.payments import attempts, dues

    staff, home = factories.staff(), factories.chapter(7)
    member = factories.member(home=home, status="pending")
    order = dues.start_join(member, factories.membership_type(), actor=staff)
    attempts.record_offline_payment(order, amount_cents=order.total_cents, received_on=date(2026, 2, 3),
                                    reference="CHK 100", actor=staff)
    entry, = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.OFFLINE_PAYMENT)).all()
    assert (entry.description, entry.reference, entry.amount_cents, entry.chapter_id) == (
        f"Offline payment of {order.reference}", "CHK 100", order.total_cents, home.id)
    assert not db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.CHARGE)).all()
