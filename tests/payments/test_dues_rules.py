"""The dues rules word for word: what the membership page offers each kind of member (renewal_options), and what
joining, renewing, changing type, a free grant and the unemployed extension refuse, with the field the form shows it
by, and what the orders and terms they make record (who bought, the chapter's share, the term an upgrade changes)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import MembershipTerm, TermSource
from chapter.payments import dues
from chapter.payments import services as payment_services
from chapter.payments.dues import RenewalOptions
from tests import factories


def _refusal(call, error_class=DomainError):
    with pytest.raises(error_class) as caught:
        call()
    db.session.rollback()
    return caught.value.message, caught.value.field


def test_what_the_membership_page_offers_each_kind_of_member(app):
    from tests.payments.test_corporate import _contact, _organization

    day = today()
    home = factories.chapter(40, name="Schuylkill Valley")
    lifetime = factories.member(home=home, type_code="lifetime")
    honorary = factories.member(home=home, type_code="honorary")
    honorary_lapsed = factories.member(home=home, type_code="honorary", status="lapsed")
    pending = factories.member(home=home, status="pending")
    lapsed = factories.member(home=home, status="lapsed")
    active = factories.member(home=home)
    grace = factories.member(home=home, status="grace")
    organization = _organization(_contact())
    seat = factories.member(home=home, type_code="corporate_seat")
    seat.organization_id = organization.id
    freed_seat = factories.member(home=home, type_code="corporate_seat")  # freeing a seat clears organization_id
    db.session.commit()

    assert dues.renewal_options(lifetime, day) == RenewalOptions(False, False, None, "Your membership never ends.")
    honorary_name = honorary.current_type.name
    assert dues.renewal_options(honorary, day) == RenewalOptions(
        False, False, None, f"Your {honorary_name} membership is never invoiced.")
    lapsed_text = "Your membership has lapsed: rejoin to start a new term today."
    assert dues.renewal_options(honorary_lapsed, day) == RenewalOptions(True, False, None, lapsed_text)
    assert dues.renewal_options(pending, day) == RenewalOptions(True, False, None, "Join to start your membership.")
    assert dues.renewal_options(lapsed, day) == RenewalOptions(True, False, None, lapsed_text)
    assert dues.renewal_options(seat, day) == RenewalOptions(
        False, False, None, "Your seat is paid by your employer's corporate membership and renews with it.")
    opens = active.paid_through - timedelta(days=dues.RENEWAL_OPENS_DAYS_BEFORE_END)
    closed = RenewalOptions(False, False, None, f"Renewal opens on {opens:%d %b %Y}.")
    assert dues.renewal_options(active, day) == closed == dues.renewal_options(active, opens - timedelta(days=1))
    assert dues.renewal_options(freed_seat, day) == RenewalOptions(
        False, False, None, f"Renewal opens on {freed_seat.paid_through - timedelta(days=90):%d %b %Y}.")
    starts = active.paid_through + timedelta(days=1)
    assert dues.renewal_options(active, opens) == RenewalOptions(
        False, True, starts, f"Renewing now continues your membership from {starts:%d %b %Y}; you lose no days.")
    grace_from = grace.paid_through + timedelta(days=1)
    assert dues.renewal_options(grace, day) == RenewalOptions(
        False, True, grace_from, f"Renewing now continues your membership from {grace_from:%d %b %Y}; you lose no days.")


def test_joining_and_renewing_refuse_word_for_word_and_record_the_buyer_and_the_chapters_share(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    buyer = factories.user("buyer@example.org")
    pending = factories.member(home=home, status="pending")
    active = factories.member(home=home)
    grace = factories.member(home=home, status="grace")
    honorary_chapter = factories.membership_type("honorary_chapter")
    db.session.commit()
    not_online = ("This membership type cannot be bought online.", "membership_type_id")
    seat_type = factories.membership_type("corporate_seat")

    assert _refusal(lambda: dues.start_join(pending, seat_type, actor=None)) == not_online
    assert _refusal(lambda: dues.start_join(active, factories.membership_type("professional"), actor=None)) == (
        "Your membership is current: renew instead of joining.", None)
    assert _refusal(lambda: dues.start_renewal(grace, seat_type, actor=None)) == not_online
    assert honorary_chapter not in dues.renewable_types(grace)  # another member's staff-only type

    professional = factories.membership_type("professional")
    joined = dues.start_join(pending, professional, actor=buyer)
    assert (joined.purchaser_id, joined.chapter_id, joined.total_cents) == (buyer.id, home.id, professional.join_price_cents)
    assert joined.chapter_share_cents == dues.chapter_share(professional, home, professional.join_price_cents,
                                                            professional.join_price_cents) > 0
    renewal = dues.start_renewal(grace, professional, actor=buyer)
    assert (renewal.purchaser_id, renewal.covers_from) == (buyer.id, grace.paid_through + timedelta(days=1))
    assert renewal.chapter_share_cents == dues.type_share(professional, home) > 0
    assert renewal.association_share_cents == renewal.total_cents - renewal.chapter_share_cents
    # A second start reuses the member's open order of that purpose, not another member's or another purpose's.
    assert dues.start_renewal(grace, professional, actor=buyer).id == renewal.id
    assert dues.start_join(pending, professional, actor=buyer).id == joined.id != renewal.id
    db.session.rollback()


def test_a_staff_only_type_of_the_member_is_renewable_only_while_sold_and_invoiced(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    member = factories.member(home=home, status="grace", type_code="honorary_chapter")
    own = member.current_type
    db.session.commit()
    assert own.is_invoiced  # at the association's portion (DOMAIN.md), its chapter share 0
    assert own in dues.renewable_types(member) and own not in dues.purchasable_types()
    own.is_available = False
    assert own not in dues.renewable_types(member)
    own.is_available, own.is_invoiced = True, False
    assert own not in dues.renewable_types(member)
    db.session.rollback()


def test_shares_at_their_edges():
    from types import SimpleNamespace as Type

    chapter = Type(dues_share_cents=2000)
    assert dues.type_share(Type(chapter_share_cents=None, renewal_price_cents=21000), None) == 0
    assert dues.type_share(Type(chapter_share_cents=None, renewal_price_cents=21000), chapter) == 2000
    assert dues.type_share(Type(chapter_share_cents=3500, renewal_price_cents=21000), chapter) == 3500
    assert dues.type_share(Type(chapter_share_cents=0, renewal_price_cents=21000), chapter) == 0
    assert dues.type_share(Type(chapter_share_cents=3500, renewal_price_cents=1000), chapter) == 1000  # at most the price
    assert dues.type_share(Type(chapter_share_cents=3500, renewal_price_cents=0), chapter) == 3500  # a free renewal
    assert dues.chapter_share(Type(chapter_share_cents=None), None, 100, 100) == 0
    assert dues.chapter_share(Type(chapter_share_cents=None), chapter, 100, 0) == 0
    assert dues.chapter_share(Type(chapter_share_cents=None), chapter, 1, 1) == 1  # a one-cent price owes its cent
    assert dues.chapter_share(Type(chapter_share_cents=None), chapter, 10500, 21000) == 1000
    assert dues.chapter_share(Type(chapter_share_cents=3500), chapter, 10000, 21000) == 1666  # rounded down


def test_a_type_change_refuses_word_for_word_and_remembers_the_term_it_changes(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    buyer = factories.user("buyer@example.org")
    student = factories.member(home=home, type_code="student")
    pending = factories.member(home=home, status="pending")
    db.session.commit()
    professional, student_type = factories.membership_type("professional"), factories.membership_type("student")

    assert _refusal(lambda: dues.start_type_change(student, factories.membership_type("corporate_seat"), actor=None)) == (
        "This membership type cannot be bought online.", "membership_type_id")
    assert _refusal(lambda: dues.start_type_change(student, student_type, actor=None)) == (
        "That is already your membership type.", "membership_type_id")
    assert _refusal(lambda: dues.start_type_change(pending, professional, actor=None)) == (
        "You need a current membership to change its type.", None)
    professional_member = factories.member(home=home)
    db.session.commit()
    assert _refusal(lambda: dues.start_type_change(professional_member, student_type, actor=None)) == (
        "Student costs no more than your current type: a change to it takes effect when you renew. "
        "Choose it on the renewal page.", "membership_type_id")

    term = dues.current_term(student, today())
    order = dues.start_type_change(student, professional, actor=buyer)
    assert (order.purchaser_id, order.covers_from, order.covers_until) == (buyer.id, today(), term.ends_on)
    assert (order.upgraded_term_id, order.previous_membership_type_id) == (term.id, student_type.id)
    db.session.rollback()


def test_a_type_change_below_the_smallest_card_payment_is_refused_in_the_types_currency(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    member = factories.member(home=home, type_code="student")
    term = dues.current_term(member, today())
    db.session.execute(sa.update(MembershipTerm).where(MembershipTerm.id == term.id).values(ends_on=today()))
    db.session.commit()
    db.session.expire_all()
    professional = factories.membership_type("professional")
    quote = dues.quote_type_change(member, professional, today())
    assert quote.days_left == 1 and 0 < quote.amount_cents < 50

    message, field = _refusal(lambda: dues.start_type_change(member, professional, actor=None))

    assert field == "membership_type_id"
    assert message == (f"The difference for the 1 days left is ${quote.amount_cents / 100:.2f}, below the smallest card "
                       "payment ($0.50): choose Professional when you renew.")


def test_free_grants_and_extensions_refuse_word_for_word_and_say_who_granted_them(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    staff = factories.staff()
    officer = factories.officer(home, "treasurer")
    president = factories.officer(home, "president")
    member = factories.member(home=home)
    pending = factories.member(home=home, status="pending")
    db.session.commit()
    honorary = factories.membership_type("honorary")

    assert _refusal(lambda: payment_services.free_membership_grant(member, honorary, starts_on=today(), actor=officer),
                    NotAllowed) == ("Only staff grant free memberships.", None)
    assert _refusal(lambda: payment_services.free_membership_grant(
        member, factories.membership_type("professional"), starts_on=today(), actor=staff)) == (
        "Only free (never invoiced) types are granted; the others are paid.", "membership_type_id")
    granted = payment_services.free_membership_grant(pending, honorary, starts_on=today(), actor=staff)
    assert (granted.source, granted.note) == (TermSource.STAFF_GRANT, "Granted by staff")

    assert _refusal(lambda: payment_services.grant_unemployed_extension(member, approved_by=president, actor=officer),
                    NotAllowed) == ("Only staff record extensions.", None)
    assert _refusal(lambda: payment_services.grant_unemployed_extension(member, approved_by=officer, actor=staff)) == (
        "The approval must come from the president of the member's home chapter.", "approver_email")
    lapsed = factories.member(home=home, status="lapsed")
    db.session.commit()
    assert _refusal(lambda: payment_services.grant_unemployed_extension(lapsed, approved_by=president, actor=staff)) == (
        "Only a current member (active or in grace) can be extended.", None)
    extension = payment_services.grant_unemployed_extension(member, approved_by=president, actor=staff)
    assert (extension.source, extension.note) == (TermSource.EXTENSION, f"Unemployed extension approved by {president.name}")
    db.session.rollback()


def _prices_for_a_one_day_difference(member, cents: int, currency: str = "USD"):
    """The member's Student term ends today; Professional costs `cents` more for that one day, in `currency`."""
    term = dues.current_term(member, today())
    db.session.execute(sa.update(MembershipTerm).where(MembershipTerm.id == term.id).values(ends_on=today()))
    db.session.expire_all()
    student, professional = factories.membership_type("student"), factories.membership_type("professional")
    _, days_in_term = dues.term_being_upgraded(dues.current_term(member, today()))
    student.currency = professional.currency = currency
    professional.renewal_price_cents = student.renewal_price_cents + cents * days_in_term
    db.session.commit()
    assert dues.quote_type_change(member, professional, today()).amount_cents == cents
    return professional


@pytest.mark.parametrize("currency, smallest", [("USD", 50), ("GBP", 30), ("CHF", 50)])
def test_a_type_change_at_the_smallest_card_payment_of_its_currency_is_sold_and_a_cent_below_is_refused(
        app, currency, smallest):
    """Stripe's minimum per currency (GBP 0.30), 0.50 for a currency the table does not list (CHF): the minimum itself
    is sold; a cent less, or a single cent, is refused in the type's currency; no difference at all is 'costs no more'."""
    from chapter.core.money import format_money

    member = factories.member(home=factories.chapter(40), type_code="student")
    db.session.commit()
    professional = _prices_for_a_one_day_difference(member, smallest, currency)
    order = dues.start_type_change(member, professional, actor=None)
    assert (order.total_cents, order.currency) == (smallest, currency)
    db.session.rollback()
    for cents in (smallest - 1, 1):
        professional = _prices_for_a_one_day_difference(member, cents, currency)
        assert _refusal(lambda: dues.start_type_change(member, professional, actor=None)) == (
            f"The difference for the 1 days left is {format_money(cents, currency)}, below the smallest card payment "
            f"({format_money(smallest, currency)}): choose Professional when you renew.", "membership_type_id")
    professional = _prices_for_a_one_day_difference(member, 0, currency)
    assert _refusal(lambda: dues.start_type_change(member, professional, actor=None))[0].startswith(
        "Professional costs no more than your current type")
    if currency != "USD":
        assert format_money(smallest, currency) != format_money(smallest, "USD")


def test_the_current_term_is_the_unvoided_one_covering_the_day_not_one_paid_ahead_or_over(app):
    """A renewal paid ahead (starting after today), a voided term over today, a term that has ended: none is the
    current term, so an upgrade is prorated over the term that covers today; a lapsed member has none to change."""
    from chapter.core.models import utcnow
    from chapter.members import services as member_services

    home = factories.chapter(40)
    member = factories.member(home=home, type_code="student")
    db.session.commit()
    current = dues.current_term(member, today())
    student, professional = factories.membership_type("student"), factories.membership_type("professional")
    ahead = member_services.grant_term(member, student, starts_on=current.ends_on + timedelta(days=1),
                                       source=TermSource.PAYMENT, actor=None)
    voided = member_services.grant_term(member, student, starts_on=today() - timedelta(days=5),
                                        ends_on=current.ends_on + timedelta(days=30), source=TermSource.PAYMENT, actor=None)
    voided.voided_at = utcnow()
    db.session.commit()
    assert dues.current_term(member, today()).id == current.id not in (ahead.id, voided.id)
    assert dues.quote_type_change(member, professional, today()).days_left == (current.ends_on - today()).days + 1
    lapsed = factories.member(home=home, status="lapsed")
    db.session.commit()
    assert dues.current_term(lapsed, today()) is None
    assert _refusal(lambda: dues.start_type_change(lapsed, professional, actor=None)) == (
        "You need a current membership to change its type.", None)


def test_a_lifetime_grant_over_a_paid_term_is_the_current_term(app):
    """Two terms cover today (a paid one, then Lifetime granted over it): the current one is the one ending last."""
    member = factories.member(home=factories.chapter(40))
    staff = factories.staff()
    db.session.commit()
    lifetime = payment_services.free_membership_grant(member, factories.membership_type("lifetime"),
                                                      starts_on=today() - timedelta(days=1), actor=staff)
    db.session.commit()
    assert dues.current_term(member, today()).id == lifetime.id


def test_an_upgrade_without_a_chapter_share_difference_gives_the_chapter_nothing(app):
    """A member without a home chapter (the quote alone: starting the order assigns one) owes no chapter any share."""
    member = factories.member(home=None, type_code="student")
    db.session.commit()
    quote = dues.quote_type_change(member, factories.membership_type("professional"), today())
    assert quote.amount_cents > 0 and quote.chapter_share_cents == 0
    order = dues.start_type_change(member, factories.membership_type("professional"), actor=None)
    assert (order.chapter_id, order.chapter_share_cents, order.association_share_cents) == (None, 0, order.total_cents)


def test_a_freed_seat_holder_cannot_renew_to_the_corporate_seat_type_on_their_own(app):
    """A freed seat keeps the Corporate seat as the member's type, but only an organization buys seats."""
    member = factories.member(home=factories.chapter(40), type_code="corporate_seat")
    db.session.commit()
    seat_type = factories.membership_type("corporate_seat")
    assert member.current_type == seat_type and member.organization_id is None
    assert seat_type.is_invoiced and seat_type.is_available
    assert seat_type not in dues.renewable_types(member)
    assert factories.membership_type("professional") in dues.renewable_types(member)


def test_a_renewal_of_a_member_without_a_chapter_records_who_bought_it_on_the_closest_chapter_assignment(app):
    from chapter.chapters.models import ChapterTransfer
    from chapter.members import services as member_services

    home = factories.chapter(40)
    home.city, home.region, home.postal_code = "Reading", "PA", "19601"
    buyer = factories.user("buyer@example.org")
    member = factories.member(home=None, status="pending", postal_code="19604")
    member_services.grant_term(member, factories.membership_type(), starts_on=today() - timedelta(days=335),
                               source=TermSource.PAYMENT, actor=None)
    db.session.commit()
    order = dues.start_renewal(member, factories.membership_type(), actor=buyer)
    assert order.chapter_id == home.id
    [transfer] = db.session.scalars(sa.select(ChapterTransfer).where(ChapterTransfer.member_id == member.id)).all()
    assert (transfer.actor_id, transfer.reason) == (buyer.id, "Closest chapter by postal code 19604")


def test_voiding_an_upgrade_gives_back_its_members_term_and_touches_no_one_elses(app):
    """Ada upgraded mid-term (paid by cheque); Bo's term was granted after. Voiding Ada's upgrade voids its own part and
    gives her term its end back; Bo's later term stays."""
    from chapter.payments import attempts

    home = factories.chapter(40)
    staff = factories.staff()
    ada = factories.member(home=home, type_code="student")
    db.session.commit()
    term = dues.current_term(ada, today())
    end = term.ends_on
    order = dues.start_type_change(ada, factories.membership_type("professional"), actor=None)
    attempts.record_offline_payment(order, amount_cents=order.total_cents, received_on=today(), reference="Cheque 1",
                                    actor=staff)
    db.session.commit()
    assert db.session.get(MembershipTerm, term.id).ends_on == today() - timedelta(days=1)
    bo = factories.member(home=home)
    bo_term = dues.current_term(bo, today())
    db.session.commit()
    changed = dues.void_type_change(order)
    db.session.commit()
    assert changed.member_id == ada.id and changed.voided_at is not None
    assert db.session.get(MembershipTerm, term.id).ends_on == end
    assert db.session.get(MembershipTerm, bo_term.id).voided_at is None


def test_repricing_an_order_keeps_who_bought_it(app):
    buyer = factories.user("buyer@example.org")
    member = factories.member(home=factories.chapter(40), status="pending")
    db.session.commit()
    order = dues.start_join(member, factories.membership_type(), actor=buyer)
    db.session.commit()
    assert dues.reprice_dues(order, today()).purchaser_id == buyer.id


def test_a_members_payments_are_theirs_newest_first_in_two_queries_however_many(app):
    """member_payments: Ada's two payments (newest first), not Bo's; reading each payment's order and disputes
    afterwards asks the database nothing more (the member record lists them)."""
    from chapter.payments import attempts
    from chapter.payments.models import PaymentStatus

    home = factories.chapter(40)
    ada, bo = factories.member(home=home, status="pending"), factories.member(home=home, status="pending")
    db.session.commit()
    made = []
    for member in (ada, bo, ada):
        payment = attempts.open_payment(dues.start_join(member, factories.membership_type(), actor=None))
        payment.status = PaymentStatus.FAILED
        db.session.commit()
        made.append(payment.id)
    db.session.expire_all()
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731  (before_cursor_execute's statement)
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        listed = payment_services.member_payments(db.session.get(type(ada), ada.id))
        seen = [(p.id, p.order.member_id, len(p.disputes)) for p in listed]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    assert seen == [(made[2], ada.id, 0), (made[0], ada.id, 0)]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3  # the member, payments, disputes


def test_the_three_extensions_are_counted_per_member_voided_ones_aside_and_recorded_by_staff(app):
    """Bo's three extensions do not count against Ada; a voided extension gives its turn back; a Lifetime member has
    nothing to extend; each extension names the staff member who recorded it."""
    from chapter.core.models import utcnow

    home = factories.chapter(40)
    staff, president = factories.staff(), factories.officer(home, "president")
    ada, bo = factories.member(home=home), factories.member(home=home)
    db.session.commit()
    for _ in range(3):
        payment_services.grant_unemployed_extension(bo, approved_by=president, actor=staff)
    db.session.commit()
    assert _refusal(lambda: payment_services.grant_unemployed_extension(bo, approved_by=president, actor=staff)) == (
        "This member has had the 3 extensions allowed (18 months).", None)
    extensions = [payment_services.grant_unemployed_extension(ada, approved_by=president, actor=staff) for _ in range(3)]
    db.session.commit()
    assert [e.granted_by_id for e in extensions] == [staff.id] * 3
    extensions[-1].voided_at = utcnow()
    db.session.commit()
    assert payment_services.grant_unemployed_extension(ada, approved_by=president, actor=staff).member_id == ada.id
    db.session.rollback()

    lifetime = factories.member(home=home)
    payment_services.free_membership_grant(lifetime, factories.membership_type("lifetime"), starts_on=today(), actor=staff)
    db.session.commit()
    assert _refusal(lambda: payment_services.grant_unemployed_extension(lifetime, approved_by=president, actor=staff)) == (
        "Only a current member (active or in grace) can be extended.", None)


def test_an_organizations_receipt_is_seen_by_its_contact_and_staff_and_no_other_member(app, client, stripe_peer):
    from tests.payments.helpers import paid_seat_order

    factories.member(status="active", email="other@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    payment = paid_seat_order(client, stripe_peer)
    url = f"/payments/{payment.id}/receipt"
    assert client.get(url).status_code == 200 and "Acme Supply" in client.get(url).get_data(as_text=True)
    client.logout()
    client.login("other@example.org")
    assert client.get(url).status_code == 403
    client.logout()
    client.login(staff.email)
    assert client.get(url).status_code == 200


def test_each_term_a_payment_gives_names_its_order_and_a_renewal_on_the_last_day_of_grace_loses_no_day(app):
    """The terms a join, a renewal and a mid-term upgrade give say which order paid for them (the member record shows
    it); a renewal paid on the last day of grace starts the day after the old end, as any renewal in grace does."""
    from chapter.members import services as member_services
    from chapter.payments import attempts

    home = factories.chapter(40)
    staff = factories.staff()
    pending = factories.member(home=home, status="pending")
    last_day = factories.member(home=home, status="pending")
    old_end = today() - timedelta(days=30)
    member_services.grant_term(last_day, factories.membership_type(), starts_on=old_end - timedelta(days=364),
                               ends_on=old_end, source=TermSource.PAYMENT, actor=None)
    upgrading = factories.member(home=home, type_code="student")
    db.session.commit()
    assert last_day.grace_ends_on == today()

    def paid(order):
        attempts.record_offline_payment(order, amount_cents=order.total_cents, received_on=today(),
                                        reference=f"Cheque {order.id}", actor=staff)
        db.session.commit()
        return db.session.scalars(sa.select(MembershipTerm).where(MembershipTerm.order_id == order.id)).one()

    joined = dues.start_join(pending, factories.membership_type(), actor=None)
    first = paid(joined)
    assert (first.note, first.starts_on) == (joined.reference, today())
    renewal = dues.start_renewal(last_day, factories.membership_type(), actor=None)
    renewed = paid(renewal)
    assert (renewed.note, renewed.starts_on) == (renewal.reference, old_end + timedelta(days=1))
    upgrade = dues.start_type_change(upgrading, factories.membership_type("professional"), actor=None)
    upgraded_part = paid(upgrade)
    assert (upgraded_part.note, upgraded_part.starts_on, upgraded_part.membership_type.code) == (
        upgrade.reference, today(), "professional")


def test_joining_without_a_chapter_records_who_bought_it_on_the_closest_chapter_assignment(app):
    from chapter.chapters.models import ChapterTransfer

    home = factories.chapter(40)
    home.city, home.region, home.postal_code = "Reading", "PA", "19601"
    buyer = factories.user("buyer@example.org")
    member = factories.member(home=None, status="pending", postal_code="19604")
    db.session.commit()
    assert dues.start_join(member, factories.membership_type(), actor=buyer).chapter_id == home.id
    [transfer] = db.session.scalars(sa.select(ChapterTransfer).where(ChapterTransfer.member_id == member.id)).all()
    assert transfer.actor_id == buyer.id


def test_an_upgrade_quote_no_longer_holds_the_next_day_or_once_another_term_is_current(app):
    """dues_price_on answers STALE (the pay page then says the price changed) for an upgrade order charged on another
    day than its quote's, or after the term it upgrades stopped being the current one (a grant over it that day)."""
    from chapter.payments import fulfilment

    member = factories.member(home=factories.chapter(40), type_code="student")
    staff = factories.staff()
    db.session.commit()
    order = dues.start_type_change(member, factories.membership_type("professional"), actor=None)
    db.session.commit()
    assert dues.dues_price_on(order, today()) == order.total_cents
    assert dues.dues_price_on(order, today() + timedelta(days=1)) == fulfilment.STALE
    payment_services.free_membership_grant(member, factories.membership_type("honorary"), starts_on=today(), actor=staff)
    db.session.commit()
    assert dues.current_term(member, today()).id != order.upgraded_term_id
    assert dues.dues_price_on(order, today()) == fulfilment.STALE


def test_a_dues_receipt_names_the_type_and_for_a_renewal_the_period_it_pays_for(app, client):
    """What the receipt page shows (staff open it): the type for every dues order, the period for a renewal and an
    upgrade (a join's term starts on the payment date, which the receipt shows already)."""
    from chapter.payments import attempts

    home = factories.chapter(40)
    staff = factories.staff()
    joining = factories.member(home=home, status="pending")
    renewing = factories.member(home=home, status="grace")
    db.session.commit()
    join = dues.start_join(joining, factories.membership_type(), actor=None)
    renewal = dues.start_renewal(renewing, factories.membership_type(), actor=None)
    assert dues.dues_receipt_details(join) == [("Membership type", "Professional")]
    period = f"{renewal.covers_from:%d %b %Y} to {renewal.covers_until:%d %b %Y}"
    assert dues.dues_receipt_details(renewal) == [("Membership type", "Professional"), ("Period", period)]
    payment = attempts.record_offline_payment(renewal, amount_cents=renewal.total_cents, received_on=today(),
                                              reference="Cheque 7", actor=staff)
    db.session.commit()
    client.login(staff.email)
    page = " ".join(client.get(f"/payments/{payment.id}/receipt").get_data(as_text=True).split())
    assert "Membership type" in page and "Period" in page and period in page


def test_an_open_order_is_reused_only_for_its_own_member_purpose_and_while_open(app):
    """Ada's and Bo's joins are two orders; Cy's open renewal is not turned into his upgrade; Di's paid upgrade is not
    reused (or repriced) for her second one."""
    from chapter.members import services as member_services
    from chapter.payments import attempts
    from chapter.payments.models import OrderPurpose, OrderStatus

    home = factories.chapter(40)
    staff = factories.staff()
    ada, bo = factories.member(home=home, status="pending"), factories.member(home=home, status="pending")
    cy = factories.member(home=home, status="pending", type_code="student")
    member_services.grant_term(cy, factories.membership_type("student"), starts_on=today() - timedelta(days=335),
                               source=TermSource.PAYMENT, actor=None)
    di = factories.member(home=home, type_code="student")
    db.session.commit()
    professional = factories.membership_type("professional")

    ada_join = dues.start_join(ada, professional, actor=None)
    bo_join = dues.start_join(bo, professional, actor=None)
    assert ada_join.id != bo_join.id and (ada_join.member_id, bo_join.member_id) == (ada.id, bo.id)

    renewal = dues.start_renewal(cy, factories.membership_type("student"), actor=None)
    renewal_total = renewal.total_cents
    upgrade = dues.start_type_change(cy, professional, actor=None)
    assert upgrade.id != renewal.id and upgrade.purpose is OrderPurpose.TYPE_CHANGE
    assert (renewal.purpose, renewal.total_cents, renewal.membership_type.code) == (OrderPurpose.RENEWAL, renewal_total,
                                                                                   "student")
    db.session.commit()

    first = dues.start_type_change(di, factories.membership_type("retired"), actor=None)
    attempts.record_offline_payment(first, amount_cents=first.total_cents, received_on=today(), reference="Cheque 1",
                                    actor=staff)
    db.session.commit()
    paid_total = first.total_cents
    second = dues.start_type_change(di, professional, actor=None)
    assert second.id != first.id
    assert (first.status, first.total_cents, first.membership_type.code) == (OrderStatus.PAID, paid_total, "retired")


def test_starting_again_while_a_payment_is_under_way_says_so_word_for_word(app):
    from chapter.payments import attempts
    from chapter.payments.attempts import PaymentInProgress

    member = factories.member(home=factories.chapter(40), status="pending")
    db.session.commit()
    order = dues.start_join(member, factories.membership_type(), actor=None)
    attempts.open_payment(order)  # the claim the pay page makes before it calls Stripe
    db.session.commit()
    with pytest.raises(PaymentInProgress) as refused:
        dues.start_join(member, factories.membership_type(), actor=None)
    assert str(refused.value) == "A payment for this is already in progress. Wait a moment and reload the page."


@pytest.mark.parametrize("in_flight", [False, True])
def test_an_open_order_made_by_a_parallel_request_between_the_lookup_and_the_insert_is_used(app, in_flight):
    """Two requests start Ada's join at once: the other one's open order is committed after this one looked and found
    none. The unique index refuses the second open order; this request then uses (and prices) the other's, or, when
    the other has already claimed it for a payment, says a payment is under way. PostgreSQL: on SQLite one writer at a
    time (and WAL's snapshot) make this interleaving impossible."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the interleaving needs two concurrent writers (PostgreSQL)")
    from sqlalchemy.orm import Session

    from chapter.payments.attempts import PaymentInProgress
    from chapter.payments.models import Order, OrderPurpose, OrderStatus, Payment, PaymentStatus

    home = factories.chapter(40)
    member, bo = factories.member(home=home, status="pending"), factories.member(home=home, status="pending")
    db.session.commit()
    professional = factories.membership_type()
    # Orders the fallback lookup must pass over: Bo's open join, Ada's open exam order, Ada's cancelled join.
    for owner, purpose, status in ((bo, OrderPurpose.JOIN, OrderStatus.OPEN), (member, OrderPurpose.EXAM, OrderStatus.OPEN),
                                   (member, OrderPurpose.JOIN, OrderStatus.CANCELLED)):
        db.session.add(Order(member_id=owner.id, purpose=purpose, status=status, currency="USD", total_cents=100,
                             association_share_cents=100, description="Another order"))
    db.session.commit()
    made = []

    def the_other_request_commits_first(conn, cursor, statement, *args):
        if statement.startswith("SAVEPOINT") and not made:
            with Session(db.engine) as other:
                order = Order(member_id=member.id, purpose=OrderPurpose.JOIN, currency="USD", total_cents=0,
                              description="")
                other.add(order)
                other.commit()
                made.append(order.id)
                if in_flight:  # the other request's pay page has claimed it for an attempt
                    other.add(Payment(order_id=order.id, amount_cents=21000, currency="USD", status=PaymentStatus.PENDING))
                    other.commit()

    sa.event.listen(db.engine, "before_cursor_execute", the_other_request_commits_first)
    try:
        if in_flight:
            with pytest.raises(PaymentInProgress) as refused:
                dues.start_join(member, professional, actor=None)
            assert str(refused.value) == "A payment for this is already in progress. Wait a moment and reload the page."
            return
        order = dues.start_join(member, professional, actor=None)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", the_other_request_commits_first)
    db.session.commit()
    assert order.id == made[0] and order.total_cents == professional.join_price_cents
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.member_id == member.id, Order.status == OrderStatus.OPEN)) == 2  # the join and the exam order
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.description == "Another order")) == 3


def test_only_public_types_on_sale_and_invoiced_are_bought_online_and_an_order_is_one_line(app):
    """A type withdrawn from sale, or made never-invoiced, leaves the list (the seat type, staff-only, never is on it);
    a dues order is a single line: one of the type at its price, with the chapter's share."""
    member = factories.member(home=factories.chapter(40), status="pending")
    db.session.commit()
    retired, student = factories.membership_type("retired"), factories.membership_type("student")
    assert {retired, student} <= set(dues.purchasable_types())
    retired.is_available = False
    student.is_invoiced = False
    db.session.commit()
    codes = [t.code for t in dues.purchasable_types()]
    assert "retired" not in codes and "student" not in codes and "corporate_seat" not in codes and "professional" in codes
    assert dues.purchasable_types(for_corporate=True) == []  # seats are bought by organizations, not from this list
    order = dues.start_join(member, factories.membership_type(), actor=None)
    [line] = order.lines
    assert (line.description, line.quantity, line.unit_price_cents, line.amount_cents, line.chapter_share_cents) == (
        order.description, 1, order.total_cents, order.total_cents, order.chapter_share_cents)
    assert order.chapter_share_cents > 0
