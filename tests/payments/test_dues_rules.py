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
