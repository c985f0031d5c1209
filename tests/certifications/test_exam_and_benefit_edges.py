"""Buying an exam, its Authorization to Test (ATT), the catalogue order, and the benefits and magazine list at
their edges: whose results, eligibilities, ATTs and orders count, the exact messages and the stored values."""
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from chapter.certifications import services
from chapter.certifications.models import (
    Benefit, Exam, ExamEligibility, ExamProgram, ExamRegistration, membership_type_benefits,
)
from chapter.core.audit import AuditEntry
from chapter.core.errors import DomainError
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from chapter.members.services import add_months
from chapter.payments import services as payments
from chapter.payments.models import Order, OrderPurpose, OrderStatus
from tests import factories

ATT_CODE = re.compile(r"ATT-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{10}")


def exam(code: str) -> Exam:
    factories.reference_data()
    return services.exam_by_code(code)


def member_paid_through(last_day: date, **fields):
    """A member whose one-year term ends on `last_day`."""
    made = factories.member(status="pending", **fields)
    member_services.grant_term(made, factories.membership_type(), starts_on=add_months(last_day, -12) + timedelta(days=1),
                               source=TermSource.PAYMENT, actor=None)
    return made


def registration_of(order: Order) -> ExamRegistration:
    return db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.order_id == order.id))


def buy_and_pay(member, code: str, day: date, staff) -> ExamRegistration:
    """The member orders the exam on `day` and staff record their cheque received that day: the ATT is issued."""
    order = services.start_exam_purchase(member, exam(code), actor=None, day=day)
    payments.record_offline_payment(order, amount_cents=order.total_cents, received_on=day, reference=f"CHQ {order.id}",
                                    actor=staff)
    return registration_of(order)


def refused(member, code: str, day: date) -> str:
    with pytest.raises(services.PurchaseRefused) as caught:
        services.check_can_buy(member, exam(code), day)
    return caught.value.message


# --- The catalogue ------------------------------------------------------------------------------

def test_catalogue_lists_exams_by_program_order_then_by_exam_order(app):
    """Both lists follow the program's sort order first, then the exam's within its program."""
    exam("CLTD").program.sort_order = 5  # staff move the CLTD program to the top
    exam("CPIM-P2").sort_order = 55      # and Part 2 before Part 1
    db.session.flush()
    assert [e.code for e in services.exams_on_sale(date(2026, 6, 15))] == ["CLTD", "CPIM-P2", "CPIM-P1", "CSCP"]
    assert [e.code for e in services.all_exams()] == ["CLTD", "BSCM", "MPR", "DSP", "ECO", "SMR", "CPIM-P2", "CPIM-P1",
                                                      "CSCP"]


# --- Retakes --------------------------------------------------------------------------------------

def test_the_latest_of_two_failed_attempts_sets_the_retake_day(app):
    """Two failures: the wait counts from the later one (1 March), not the first (1 February)."""
    member = factories.member()
    part1 = exam("CPIM-P1")
    services.record_exam_result(member, part1, date(2026, 2, 1), 280, actor=None)
    services.record_exam_result(member, part1, date(2026, 3, 1), 290, actor=None)
    assert services.retake_allowed_from(member, part1) == date(2026, 3, 15)
    assert refused(member, "CPIM-P1", date(2026, 3, 14)) == "A retake of CPIM Part 1 can be bought from 15 March 2026."


def test_a_pass_after_a_failure_ends_the_retake_wait(app):
    """A failure then a pass: no retake wait is left."""
    member = factories.member()
    part1 = exam("CPIM-P1")
    services.record_exam_result(member, part1, date(2026, 2, 1), 280, actor=None)
    services.record_exam_result(member, part1, date(2026, 2, 10), 320, actor=None)
    assert services.retake_allowed_from(member, part1) is None


def test_another_members_failure_does_not_delay_a_purchase(app):
    """Someone else failed Part 1 yesterday: this member can still buy it today."""
    member, other = factories.member(), factories.member()
    services.record_exam_result(other, exam("CPIM-P1"), date(2026, 2, 1), 280, actor=None)
    assert services.retake_allowed_from(member, exam("CPIM-P1")) is None
    services.check_can_buy(member, exam("CPIM-P1"), date(2026, 2, 2))


def test_a_failure_at_another_exam_does_not_delay_a_purchase(app):
    """Failing Part 2 yesterday does not hold back buying Part 1 today."""
    member = factories.member()
    services.record_exam_result(member, exam("CPIM-P2"), date(2026, 2, 1), 280, actor=None)
    assert services.retake_allowed_from(member, exam("CPIM-P1")) is None
    services.check_can_buy(member, exam("CPIM-P1"), date(2026, 2, 2))


# --- What stops a purchase -------------------------------------------------------------------------

def test_a_retired_exam_is_refused_with_its_name(app):
    """A retired exam says which exam is not on sale."""
    member = factories.member()
    assert refused(member, "MPR", date(2026, 1, 1)) == "Master Planning of Resources is not on sale."


def test_another_members_eligibility_does_not_open_the_cscp_exam(app):
    """Only the member's own approved eligibility lets them buy the CSCP exam."""
    member, other = factories.member(), factories.member()
    db.session.add(ExamEligibility(member_id=other.id, exam_id=exam("CSCP").id, approved_on=date(2026, 1, 5)))
    db.session.flush()
    assert refused(member, "CSCP", date(2026, 2, 1)) == "CSCP exam needs an approved eligibility application first."
    db.session.add(ExamEligibility(member_id=member.id, exam_id=exam("CSCP").id, approved_on=date(2026, 1, 5)))
    db.session.flush()
    services.check_can_buy(member, exam("CSCP"), date(2026, 2, 1))


def test_an_eligibility_for_another_exam_does_not_count(app):
    """An approval for CSCP does not open another exam that needs its own eligibility."""
    member = factories.member()
    exam("CPIM-P1").requires_eligibility = True  # staff made Part 1 need an application too
    db.session.add(ExamEligibility(member_id=member.id, exam_id=exam("CSCP").id, approved_on=date(2026, 1, 5)))
    db.session.flush()
    assert refused(member, "CPIM-P1", date(2026, 2, 1)) == "CPIM Part 1 needs an approved eligibility application first."


def test_a_valid_att_stops_a_second_purchase_until_its_last_day(app):
    """Paid on 10 January: the ATT runs to 10 July, which still refuses; 11 July sells again."""
    member = factories.member()
    registration = buy_and_pay(member, "CLTD", date(2026, 1, 10), factories.staff())
    assert registration.expires_on == date(2026, 7, 10)
    assert refused(member, "CLTD", date(2026, 7, 10)) == "You already have a valid authorization to test for CLTD exam."
    services.check_can_buy(member, exam("CLTD"), date(2026, 7, 11))


def test_only_the_members_own_att_for_that_exam_stops_a_purchase(app):
    """An ATT for CLTD stops its holder buying CLTD, not another member buying it, nor its holder buying Part 1."""
    holder, other = factories.member(), factories.member()
    buy_and_pay(holder, "CLTD", date(2026, 1, 10), factories.staff())
    assert refused(holder, "CLTD", date(2026, 2, 1)) == "You already have a valid authorization to test for CLTD exam."
    services.check_can_buy(other, exam("CLTD"), date(2026, 2, 1))
    services.check_can_buy(holder, exam("CPIM-P1"), date(2026, 2, 1))


def test_a_used_att_does_not_stop_buying_the_retake(app):
    """The ATT used on 1 February (a fail) no longer counts: the retake sells on 15 February."""
    member = factories.member()
    registration = buy_and_pay(member, "CLTD", date(2026, 1, 10), factories.staff())
    services.record_exam_result(member, exam("CLTD"), date(2026, 2, 1), 250, actor=None)
    assert registration.used_on == date(2026, 2, 1)
    services.check_can_buy(member, exam("CLTD"), date(2026, 2, 15))


# --- The exam order ---------------------------------------------------------------------------------

def test_the_order_is_priced_on_the_day_given_not_today(app, clock):
    """Today (1 May) the membership has lapsed, but an order priced for 31 March gets the member price."""
    clock("2026-05-01")
    member = member_paid_through(date(2026, 3, 31))
    order = services.start_exam_purchase(member, exam("CPIM-P1"), actor=None, day=date(2026, 3, 31))
    assert (order.total_cents, order.description) == (12000, "CPIM Part 1 exam (member price)")
    order = services.start_exam_purchase(member, exam("CPIM-P1"), actor=None)
    assert (order.total_cents, order.description) == (15500, "CPIM Part 1 exam (non-member price)")


def test_the_exam_order_and_its_one_line_hold_the_exact_values(app):
    """Member price: total, shares, purchaser, description, no chapter; one line of quantity 1 and no chapter share."""
    member = member_paid_through(date(2026, 12, 31))
    buyer = factories.user()
    order = services.start_exam_purchase(member, exam("CPIM-P1"), actor=buyer, day=date(2026, 3, 1))
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.purpose, order.status, order.member_id, order.purchaser_id, order.chapter_id, order.membership_type_id,
            order.currency, order.total_cents, order.chapter_share_cents, order.association_share_cents,
            order.description) == (OrderPurpose.EXAM, OrderStatus.OPEN, member.id, buyer.id, None, None, "USD", 12000, 0,
                                   12000, "CPIM Part 1 exam (member price)")
    assert [(line.description, line.quantity, line.unit_price_cents, line.amount_cents, line.chapter_share_cents)
            for line in order.lines] == [("CPIM Part 1 exam (member price)", 1, 12000, 12000, 0)]
    registration = registration_of(order)
    assert (registration.member_id, registration.exam_id, registration.price_cents, registration.currency,
            registration.member_price, registration.att_code) == (member.id, exam("CPIM-P1").id, 12000, "USD", True, None)


def test_a_non_member_order_says_so_and_has_no_purchaser_without_an_actor(app):
    """A lapsed member ordering for themselves: the non-member price, named so on the order and its line."""
    member = member_paid_through(date(2025, 12, 31))
    order = services.start_exam_purchase(member, exam("CLTD"), actor=None, day=date(2026, 3, 1))
    assert (order.purchaser_id, order.total_cents, order.description) == (None, 15500, "CLTD exam exam (non-member price)")
    assert [line.description for line in order.lines] == ["CLTD exam exam (non-member price)"]
    assert registration_of(order).member_price is False


def test_each_member_gets_their_own_exam_order(app):
    """A second member's purchase opens a new order and leaves the first member's order as it was."""
    first, second = member_paid_through(date(2026, 12, 31)), member_paid_through(date(2025, 12, 31))
    first_order = services.start_exam_purchase(first, exam("CLTD"), actor=None, day=date(2026, 3, 1))
    second_order = services.start_exam_purchase(second, exam("CPIM-P1"), actor=None, day=date(2026, 3, 1))
    assert first_order.id != second_order.id and second_order.member_id == second.id
    db.session.expire_all()
    first_order = db.session.get(Order, first_order.id)
    assert (first_order.member_id, first_order.total_cents, first_order.description) == \
        (first.id, 12000, "CLTD exam exam (member price)")
    assert (registration_of(first_order).member_id, registration_of(first_order).exam_id) == (first.id, exam("CLTD").id)
    assert (registration_of(second_order).member_id, registration_of(second_order).exam_id) == \
        (second.id, exam("CPIM-P1").id)


def test_an_open_membership_order_is_not_reused_for_an_exam(app):
    """A lapsed member with a join order open buys an exam: a separate exam order, the join order untouched."""
    member = factories.member(status="lapsed")
    join = payments.start_join(member, factories.membership_type(), actor=None)
    join_total, join_description = join.total_cents, join.description
    order = services.start_exam_purchase(member, exam("CLTD"), actor=None)
    assert order.id != join.id and order.purpose is OrderPurpose.EXAM
    db.session.expire_all()
    join = db.session.get(Order, join.id)
    assert (join.purpose, join.total_cents, join.description) == (OrderPurpose.JOIN, join_total, join_description)
    assert registration_of(join) is None


def test_a_paid_exam_order_is_never_reopened_for_the_next_exam(app):
    """After CLTD is paid, ordering Part 1 opens a new order; the paid one keeps its exam and ATT."""
    member = member_paid_through(date(2026, 12, 31))
    paid = buy_and_pay(member, "CLTD", date(2026, 1, 10), factories.staff())
    next_order = services.start_exam_purchase(member, exam("CPIM-P1"), actor=None, day=date(2026, 1, 20))
    assert next_order.id != paid.order_id and next_order.status is OrderStatus.OPEN
    db.session.expire_all()
    paid = db.session.get(ExamRegistration, paid.id)
    assert (paid.exam_id, paid.order.status, paid.order.description) == \
        (exam("CLTD").id, OrderStatus.PAID, "CLTD exam exam (member price)")
    assert ATT_CODE.fullmatch(paid.att_code)
    assert registration_of(next_order).exam_id == exam("CPIM-P1").id


def test_an_exam_order_with_a_payment_in_flight_is_not_repriced(app, clock):
    """While a card payment of the open order awaits Stripe, ordering again is refused and the order stays as it was."""
    clock("2026-03-01")
    member = member_paid_through(date(2026, 12, 31))
    order = services.start_exam_purchase(member, exam("CLTD"), actor=None)
    payments.open_payment(order)
    with pytest.raises(payments.PaymentInProgress) as caught:
        services.start_exam_purchase(member, exam("CPIM-P1"), actor=None)
    assert caught.value.message == "A payment for an exam is already in progress. Wait a moment and reload the page."
    assert registration_of(order).exam_id == exam("CLTD").id


def test_an_exam_order_opened_meanwhile_by_another_request_is_refused_with_the_same_message(app):
    """Another request opens the member's exam order between our look-up and our insert: the unique index refuses
    ours, and the member is told a payment is in progress (the race is made by a second connection, no timing)."""
    member = member_paid_through(date(2026, 12, 31))
    member_id = member.id
    db.session.commit()
    session = db.session()
    raced = []

    def open_one_meanwhile(state):
        if raced or not state.is_select or Order.__mapper__ not in state.all_mappers:
            return None
        raced.append(True)
        frozen = state.invoke_statement().freeze()
        with Session(db.engine) as other:
            other.add(Order(member_id=member_id, purpose=OrderPurpose.EXAM, currency="USD", total_cents=0,
                            chapter_share_cents=0, association_share_cents=0, description="opened by another request"))
            other.commit()
        return frozen()

    sa.event.listen(session, "do_orm_execute", open_one_meanwhile)
    try:
        with pytest.raises(payments.PaymentInProgress) as caught:
            services.start_exam_purchase(member, exam("CLTD"), actor=None, day=date(2026, 3, 1))
    finally:
        sa.event.remove(session, "do_orm_execute", open_one_meanwhile)
    assert raced == [True]
    assert caught.value.message == "A payment for an exam is already in progress. Wait a moment and reload the page."
    db.session.rollback()
    assert db.session.scalars(sa.select(Order.description).where(Order.member_id == member_id)).all() == \
        ["opened by another request"]


# --- The Authorization to Test -------------------------------------------------------------------------

def test_payment_issues_an_att_code_of_ten_unambiguous_characters_and_audits_it(app):
    """The ATT code is ATT- and ten characters without 0, O, 1 or I; the audit line names code, exam, order, expiry."""
    member = factories.member()
    registration = buy_and_pay(member, "CLTD", date(2026, 1, 10), factories.staff())
    assert ATT_CODE.fullmatch(registration.att_code), registration.att_code
    assert (registration.issued_on, registration.expires_on) == (date(2026, 1, 10), date(2026, 7, 10))
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "exam.att_issued")).all()
    assert [(e.actor_id, e.member_id, e.summary, e.after) for e in entries] == [
        (None, member.id, f"ATT {registration.att_code} for CLTD exam ({registration.order.reference})",
         {"att_code": registration.att_code, "expires_on": "2026-07-10"})]


def _scheduling_refusal(code: str, day: date) -> tuple[str, str | None, type]:
    with pytest.raises(DomainError) as caught:
        services.att_for_scheduling(code, day)
    return caught.value.message, caught.value.field, type(caught.value)


def test_an_unknown_att_code_is_refused_on_the_code_field(app):
    """A code nobody holds says so, on the att_code field."""
    assert _scheduling_refusal("ATT-NOSUCHCODE", date(2026, 2, 1)) == \
        ("No authorization to test has that code.", "att_code", DomainError)


def test_an_att_code_typed_in_lower_case_with_spaces_is_found(app):
    """Candidates type codes as they like: trimmed and upper-cased before the look-up."""
    registration = buy_and_pay(factories.member(), "CLTD", date(2026, 1, 10), factories.staff())
    assert services.att_for_scheduling(f"  {registration.att_code.lower()} ", date(2026, 2, 1)) is registration


def test_a_used_att_says_the_day_it_was_used(app):
    """An ATT used on 1 February 2026 is refused with that date, on the att_code field."""
    member = factories.member()
    registration = buy_and_pay(member, "CLTD", date(2026, 1, 10), factories.staff())
    services.record_exam_result(member, exam("CLTD"), date(2026, 2, 1), 320, actor=None)
    assert _scheduling_refusal(registration.att_code, date(2026, 2, 2)) == \
        ("This authorization to test was used on 01 February 2026.", "att_code", DomainError)


def test_an_expired_att_says_when_it_expired_and_what_to_do(app):
    """The day after its last day the ATT is refused as expired, with the date and the advice, on att_code."""
    registration = buy_and_pay(factories.member(), "CLTD", date(2026, 1, 10), factories.staff())
    assert services.att_for_scheduling(registration.att_code, date(2026, 7, 10)) is registration
    assert _scheduling_refusal(registration.att_code, date(2026, 7, 11)) == \
        ("This authorization to test expired on 10 July 2026 and cannot be used; buy the exam again.", "att_code",
         services.AttExpired)


def test_a_refunded_att_is_refused_as_cancelled(app, client, stripe_peer):
    """Paid by card, refunded in full through the refund form: scheduling says the ATT was cancelled, on att_code."""
    from chapter.payments.models import Payment
    from tests.payments.helpers import pay_order

    member = factories.member(email="ada@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    client.login("ada@example.org")
    bought = client.submit("/exams/CLTD/buy", form_url="/exams")
    order_id = int(bought.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    client.logout()
    payment = db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))
    client.login(staff.email)
    form = {"amount_cents": f"{payment.amount_cents / 100:.2f}", "reason": "Cannot take the exam", "term_action": "keep",
            "confirmed": "yes"}
    assert client.submit(f"/payments/{payment.id}/refund", form).status_code == 302
    db.session.expire_all()
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.member_id == member.id))
    assert _scheduling_refusal(registration.att_code, registration.issued_on) == \
        ("This authorization to test was cancelled: its fee was refunded.", "att_code", DomainError)


def test_a_members_exams_are_their_paid_ones_newest_issue_first(app):
    """Issued 1 March (twice: the later one first), then 10 January; not the unpaid order, not another member's."""
    member, other = member_paid_through(date(2026, 12, 31)), factories.member()
    staff = factories.staff()
    cltd = buy_and_pay(member, "CLTD", date(2026, 3, 1), staff)
    part1 = buy_and_pay(member, "CPIM-P1", date(2026, 1, 10), staff)
    part2 = buy_and_pay(member, "CPIM-P2", date(2026, 3, 1), staff)
    buy_and_pay(other, "CLTD", date(2026, 3, 5), staff)
    db.session.add(ExamEligibility(member_id=member.id, exam_id=exam("CSCP").id, approved_on=date(2026, 3, 1)))
    unpaid = services.start_exam_purchase(member, exam("CSCP"), actor=None, day=date(2026, 3, 10))
    assert registration_of(unpaid).issued_on is None
    assert [r.id for r in services.registrations_of(member)] == [part2.id, cltd.id, part1.id]
    assert [(r.exam.code, r.order.status) for r in services.registrations_of(member)] == \
        [("CPIM-P2", OrderStatus.PAID), ("CLTD", OrderStatus.PAID), ("CPIM-P1", OrderStatus.PAID)]


# --- Benefits and the magazine list ----------------------------------------------------------------------

def test_benefits_follow_the_sort_order_staff_give_them(app):
    """Staff move the Dictionary to the top: the member's benefits list it first."""
    member = member_paid_through(date(2026, 12, 31))
    db.session.scalar(sa.select(Benefit).where(Benefit.code == "dictionary")).sort_order = 5
    db.session.flush()
    assert [b.code for b in services.benefits_on(member, date(2026, 6, 15))] == \
        ["dictionary", "magazine", "ombok", "learning_center", "member_exam_prices", "chapter_events"]


ADDRESS = dict(address_line1="12 Main Street", address_line2="Apartment 4", city="Reading", region="PA",
               postal_code="19601", country="CA")


def test_the_magazine_list_has_each_active_subscriber_once_with_the_full_address_by_member_number(app, clock):
    """One row per active member with a postal address whose type includes the magazine, in member-number order."""
    clock("2026-06-15")
    ada = factories.member(first_name="Ada", last_name="Lovelace", **ADDRESS)
    bob = factories.member(first_name="Bob", last_name="Byrne", **{**ADDRESS, "address_line2": None, "region": "ON",
                                                                      "city": "Ottawa", "postal_code": "K1A 0B1"})
    ada.member_number, bob.member_number = "7000002", "7000001"  # legacy numbers imported with the members
    factories.member(first_name="NoStreet", **{**ADDRESS, "address_line1": None})
    factories.member(first_name="BlankStreet", **{**ADDRESS, "address_line1": ""})
    factories.member(first_name="NoPostcode", **{**ADDRESS, "postal_code": None})
    factories.member(first_name="Lapsed", status="lapsed", **ADDRESS)
    factories.member(first_name="Pending", status="pending", **ADDRESS)
    student = factories.member(first_name="Student", type_code="student", **ADDRESS)
    student_type = factories.membership_type("student")
    magazine = db.session.scalar(sa.select(Benefit).where(Benefit.code == "magazine"))
    db.session.execute(membership_type_benefits.delete().where(  # staff take the magazine out of the student type
        membership_type_benefits.c.membership_type_id == student_type.id, membership_type_benefits.c.benefit_id == magazine.id))
    db.session.flush()
    assert student.current_type_id == student_type.id
    rows = db.session.execute(services.magazine_subscribers(date(2026, 6, 15))).all()
    assert [tuple(row) for row in rows] == [
        ("7000001", "Bob", "Byrne", "12 Main Street", None, "Ottawa", "ON", "K1A 0B1", "CA"),
        ("7000002", "Ada", "Lovelace", "12 Main Street", "Apartment 4", "Reading", "PA", "19601", "CA"),
    ]
