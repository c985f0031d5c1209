"""Dues: what a membership costs (join, renew, change type), the chapter's share, and what paying
or refunding dues does to the member's terms. Registers the dues purposes with the fulfilment registry."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from chapter.chapters.models import Chapter
from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.core.money import format_money
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member, MembershipStatus, MembershipTerm, MembershipType, TermSource
from chapter.payments import fulfilment
from chapter.payments.gateway import MINIMUM_CHARGE_CENTS
from chapter.payments.models import Order, OrderLine, OrderPurpose, OrderStatus

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.payments.models import Refund

RENEWAL_OPENS_DAYS_BEFORE_END = 90
DUES_PURPOSES = (OrderPurpose.JOIN, OrderPurpose.RENEWAL, OrderPurpose.TYPE_CHANGE)


# --- Prices and shares ----------------------------------------------------------------------

def type_share(membership_type: MembershipType, chapter: Chapter | None) -> int:
    """The chapter's share of a full term of this type (the type's own, else the chapter's), at most its price."""
    if chapter is None:
        return 0
    share = membership_type.chapter_share_cents
    if share is None:
        share = chapter.dues_share_cents
    return max(0, min(share, membership_type.renewal_price_cents or share))


def chapter_share(membership_type: MembershipType, chapter: Chapter | None, amount_cents: int, full_price_cents: int) -> int:
    """The home chapter's part of `amount_cents`: the type's (or chapter's) share, prorated to the amount."""
    if chapter is None or full_price_cents <= 0:
        return 0
    share = membership_type.chapter_share_cents
    if share is None:
        share = chapter.dues_share_cents
    share = min(share, full_price_cents)
    # Integer arithmetic, rounding down, so the association keeps the odd cent.
    return share * amount_cents // full_price_cents


def new_order(member: Member, purpose: OrderPurpose, membership_type: MembershipType, amount_cents: int,
              share_cents: int, description: str, actor: User | None, covers_from: date | None = None,
              covers_until: date | None = None) -> Order:
    """Create (or reuse and reprice) the member's open order for `purpose`."""
    from chapter.payments.attempts import PaymentInProgress, payment_in_flight

    chapter = member.home_chapter
    order = db.session.scalar(sa.select(Order).where(
        Order.member_id == member.id, Order.purpose == purpose, Order.status == OrderStatus.OPEN))
    if order is not None and payment_in_flight(order) is not None:
        raise PaymentInProgress("A payment for this is already in progress. Wait a moment and reload the page.")
    if order is None:
        try:
            with db.session.begin_nested():
                order = Order(member_id=member.id, purpose=purpose, currency=membership_type.currency,
                              total_cents=0, description="")
                db.session.add(order)
        except IntegrityError:
            # A parallel request created the open order first: use (and reprice) that one.
            order = db.session.scalar(sa.select(Order).where(
                Order.member_id == member.id, Order.purpose == purpose, Order.status == OrderStatus.OPEN))
            if order is None or payment_in_flight(order) is not None:
                raise PaymentInProgress("A payment for this is already in progress. Wait a moment and reload the page.")
    share = max(0, min(share_cents, amount_cents))
    order.purchaser_id = actor.id if actor else None
    order.membership_type = membership_type
    order.chapter_id = chapter.id if chapter else None
    order.currency = membership_type.currency
    order.total_cents = amount_cents
    order.chapter_share_cents = share
    order.association_share_cents = amount_cents - share
    order.description = description
    order.covers_from, order.covers_until = covers_from, covers_until
    order.lines.clear()
    order.lines.append(OrderLine(description=description, quantity=1, unit_price_cents=amount_cents,
                                 amount_cents=amount_cents, chapter_share_cents=share))
    db.session.flush()
    return order


def purchasable_types(for_corporate: bool = False) -> list[MembershipType]:
    """Types a member can buy online: public, available, invoiced, not corporate seats."""
    return [t for t in member_services.membership_types()
            if t.is_available and t.is_invoiced and (t.kind.value == "corporate_seat") == for_corporate]


def renewable_types(member: Member) -> list[MembershipType]:
    """Types a member can renew to online: the public ones, and their own invoiced type even when staff-only
    (an Honorary Chapter member renews at the association's portion, the chapter's share being 0)."""
    types = purchasable_types()
    own = member.current_type
    if own is not None and own not in types and own.is_invoiced and own.is_available and own.kind.value != "corporate_seat":
        types.append(own)
    return types


def ensure_home_chapter(member: Member, actor: User | None) -> None:
    """Every dues payment carries a chapter share: a member with no home chapter gets the closest one."""
    if member.home_chapter_id is None:
        from chapter.members.closest import assign_closest_chapter

        assign_closest_chapter(member, actor=actor)


@dataclass(frozen=True)
class RenewalOptions:
    """What a member may do about their membership today."""

    can_join: bool
    can_renew: bool
    renew_from: date | None
    message: str


def renewal_options(member: Member, day: date) -> RenewalOptions:
    """Join, renew, or nothing yet: from the member's dates and the renewal window."""
    status = member.status_on(day)
    if member.is_lifetime:
        return RenewalOptions(False, False, None, "Your membership never ends.")
    if member.current_type is not None and not member.current_type.is_invoiced \
            and status in (MembershipStatus.ACTIVE, MembershipStatus.GRACE):
        return RenewalOptions(False, False, None, f"Your {member.current_type.name} membership is never invoiced.")
    if status in (MembershipStatus.PENDING, MembershipStatus.LAPSED):
        return RenewalOptions(True, False, None, "Join to start your membership." if status is MembershipStatus.PENDING
                              else "Your membership has lapsed: rejoin to start a new term today.")
    if member.current_type is not None and member.current_type.kind.value == "corporate_seat" \
            and member.organization_id is not None:  # still holds a seat (freeing one clears organization_id)
        return RenewalOptions(False, False, None, "Your seat is paid by your employer's corporate membership "
                                                  "and renews with it.")
    opens = member.paid_through - timedelta(days=RENEWAL_OPENS_DAYS_BEFORE_END)
    if day < opens:
        return RenewalOptions(False, False, None, f"Renewal opens on {opens:%d %b %Y}.")
    return RenewalOptions(False, True, member.paid_through + timedelta(days=1),
                          f"Renewing now continues your membership from {member.paid_through + timedelta(days=1):%d %b %Y}; you lose no days.")


def start_join(member: Member, membership_type: MembershipType, *, actor: User | None, day: date | None = None) -> Order:
    """An order to join (or rejoin after lapsing): the term will start on the payment date."""
    day = day or today()
    if membership_type not in purchasable_types():
        raise DomainError("This membership type cannot be bought online.", field="membership_type_id")
    if not renewal_options(member, day).can_join:
        raise DomainError("Your membership is current: renew instead of joining.")
    ensure_home_chapter(member, actor)
    price = membership_type.join_price_cents
    return new_order(member, OrderPurpose.JOIN, membership_type, price,
                     chapter_share(membership_type, member.home_chapter, price, price),
                     f"{membership_type.name} membership, {membership_type.term_months} months", actor)


def start_renewal(member: Member, membership_type: MembershipType, *, actor: User | None, day: date | None = None) -> Order:
    """An order for the next term, which starts the day after the current one ends."""
    day = day or today()
    if membership_type not in renewable_types(member):
        raise DomainError("This membership type cannot be bought online.", field="membership_type_id")
    options = renewal_options(member, day)
    if not options.can_renew:
        raise DomainError(options.message)
    ensure_home_chapter(member, actor)
    starts = options.renew_from
    price = membership_type.renewal_price_cents
    return new_order(member, OrderPurpose.RENEWAL, membership_type, price,
                     chapter_share(membership_type, member.home_chapter, price, price),
                     f"{membership_type.name} membership renewal from {starts:%d %b %Y}",
                     actor, covers_from=starts, covers_until=member_services.term_end(starts, membership_type))


def current_term(member: Member, day: date) -> MembershipTerm | None:
    """The term that covers `day`, if any."""
    return db.session.scalar(sa.select(MembershipTerm).where(
        MembershipTerm.member_id == member.id, MembershipTerm.voided_at.is_(None),
        MembershipTerm.starts_on <= day, MembershipTerm.ends_on >= day,
    ).order_by(MembershipTerm.ends_on.desc()))


def term_being_upgraded(term: MembershipTerm) -> tuple[date, int]:
    """(first day, days) of the paid term an upgrade applies to.

    After a first upgrade the current term row starts on the upgrade day, but what was paid for is
    still the whole term: a second upgrade is prorated over that term, not over what was left.
    """
    months = term.membership_type.term_months
    starts = term.starts_on
    if months:
        starts = min(starts, member_services.add_months(term.ends_on + timedelta(days=1), -months))
    return starts, (term.ends_on - starts).days + 1


@dataclass(frozen=True)
class TypeChangeQuote:
    """The price of changing type on one day: for that day only."""

    amount_cents: int
    chapter_share_cents: int
    days_left: int
    days_in_term: int
    term: MembershipTerm


def quote_type_change(member: Member, new_type: MembershipType, day: date) -> TypeChangeQuote:
    """The difference of prices (and of chapter shares) for the days left of the term current on `day`."""
    term = current_term(member, day)
    if term is None:
        raise DomainError("You need a current membership to change its type.")
    if new_type.id == term.membership_type_id:
        raise DomainError("That is already your membership type.", field="membership_type_id")
    _, days_in_term = term_being_upgraded(term)
    days_left = (term.ends_on - day).days + 1
    old_type = term.membership_type
    difference = new_type.renewal_price_cents - old_type.renewal_price_cents
    amount = difference * days_left // days_in_term
    chapter = member.home_chapter
    share_difference = type_share(new_type, chapter) - type_share(old_type, chapter)
    share = max(0, min(amount, share_difference * days_left // days_in_term))
    return TypeChangeQuote(amount, share, days_left, days_in_term, term)


def type_change_quote(member: Member, new_type: MembershipType, day: date) -> tuple[int, int, int]:
    """(price difference for the rest of the term in cents, days left, days in the term)."""
    quote = quote_type_change(member, new_type, day)
    return quote.amount_cents, quote.days_left, quote.days_in_term


def start_type_change(member: Member, new_type: MembershipType, *, actor: User | None, day: date | None = None) -> Order:
    """An upgrade for the rest of the term, the price difference prorated by day; the quote holds for `day` only."""
    day = day or today()
    if new_type not in purchasable_types():
        raise DomainError("This membership type cannot be bought online.", field="membership_type_id")
    quote = quote_type_change(member, new_type, day)
    if quote.amount_cents <= 0:
        raise DomainError(f"{new_type.name} costs no more than your current type: a change to it takes effect "
                          "when you renew. Choose it on the renewal page.", field="membership_type_id")
    minimum = MINIMUM_CHARGE_CENTS.get(new_type.currency.upper(), 50)
    if quote.amount_cents < minimum:
        # Chosen rule: refused, not granted free (README, "Money"): a card payment under Stripe's
        # minimum cannot be taken, and a free upgrade would be a price nobody decided.
        raise DomainError(f"The difference for the {quote.days_left} days left is {format_money(quote.amount_cents, new_type.currency)}, "
                          f"below the smallest card payment ({format_money(minimum, new_type.currency)}): "
                          f"choose {new_type.name} when you renew.", field="membership_type_id")
    order = new_order(member, OrderPurpose.TYPE_CHANGE, new_type, quote.amount_cents, quote.chapter_share_cents,
                      f"Change to {new_type.name} for the remaining {quote.days_left} days", actor,
                      covers_from=day, covers_until=quote.term.ends_on)
    order.upgraded_term_id = quote.term.id
    order.previous_membership_type_id = quote.term.membership_type_id
    db.session.flush()
    return order


# --- Fulfilment and refunds (registered below) ------------------------------------------------

def fulfil_dues(order: Order, day: date) -> None:
    """Give the member the term they paid for (or the upgrade of the current one)."""
    member = order.member
    membership_type = order.membership_type
    if order.purpose is OrderPurpose.TYPE_CHANGE:
        term = order.upgraded_term or current_term(member, day)
        if term is None:
            return
        order.upgraded_term_id = term.id
        order.previous_membership_type_id = order.previous_membership_type_id or term.membership_type_id
        if term.starts_on < day:
            term.original_ends_on = term.original_ends_on or term.ends_on
            old_end, term.ends_on = term.ends_on, day - timedelta(days=1)
            member_services.grant_term(member, membership_type, starts_on=day, ends_on=old_end,
                                       source=TermSource.PAYMENT, actor=None, note=order.reference)
            _link_latest_term(member, order)
        else:
            # Upgraded on its first day: the term changes type in place (it stays linked to the
            # order that paid for it; this order remembers the previous type for a refund).
            term.membership_type = membership_type
            member_services.refresh_membership_dates(member)
        return
    starts = day
    if order.purpose is OrderPurpose.RENEWAL and member.grace_ends_on is not None and member.grace_ends_on >= day \
            and member.paid_through is not None:
        # Renewing early or in grace continues the membership: no day is lost or paid twice.
        starts = member.paid_through + timedelta(days=1)
    term = member_services.grant_term(member, membership_type, starts_on=starts, source=TermSource.PAYMENT,
                                      actor=None, note=order.reference)
    _link_latest_term(member, order)
    member_services.publish_membership(
        "member.joined" if order.purpose is OrderPurpose.JOIN else "member.renewed", member, term, order_id=order.id)


def _link_latest_term(member: Member, order: Order) -> None:
    term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id)
                             .order_by(MembershipTerm.id.desc()))
    term.order_id = order.id


def void_type_change(order: Order) -> MembershipTerm | None:
    """Undo only what an upgrade bought: the upgraded part goes, the paid term under it comes back whole."""
    upgraded = order.upgraded_term
    split = db.session.scalar(sa.select(MembershipTerm).where(
        MembershipTerm.order_id == order.id, MembershipTerm.voided_at.is_(None)).order_by(MembershipTerm.id.desc()))
    from chapter.core.models import utcnow

    if split is not None and (upgraded is None or split.id != upgraded.id):
        split.voided_at = utcnow()
        if upgraded is not None:
            upgraded.ends_on = split.ends_on
        member_services.refresh_membership_dates(order.member)
        return split
    if upgraded is not None and order.previous_membership_type_id:
        upgraded.membership_type_id = order.previous_membership_type_id
        db.session.flush()
        db.session.refresh(upgraded)
        member_services.refresh_membership_dates(order.member)
        return upgraded
    return None


def dues_price_on(order: Order, day: date) -> int | None:
    """The price of a dues order if it were charged on `day` (-1: the quote no longer holds)."""
    membership_type = order.membership_type
    if membership_type is None or order.member is None:
        return None
    if order.purpose is OrderPurpose.JOIN:
        return membership_type.join_price_cents
    if order.purpose is OrderPurpose.RENEWAL:
        return membership_type.renewal_price_cents
    # An upgrade quote is for the day it was made, on the term current that day.
    term = current_term(order.member, day)
    if order.covers_from != day or term is None or (order.upgraded_term_id and term.id != order.upgraded_term_id):
        return fulfilment.STALE
    return quote_type_change(order.member, membership_type, day).amount_cents


def reprice_dues(order: Order, day: date) -> Order:
    """Price the open order again for `day` (after 'The price changed')."""
    starts = {OrderPurpose.JOIN: start_join, OrderPurpose.RENEWAL: start_renewal,
              OrderPurpose.TYPE_CHANGE: start_type_change}[order.purpose]
    return starts(order.member, order.membership_type, actor=order.purchaser, day=day)


def dues_receipt_details(order: Order) -> list[tuple[str, str]]:
    details = []
    if order.membership_type is not None:
        details.append(("Membership type", order.membership_type.name))
    if order.covers_from and order.covers_until and order.purpose is not OrderPurpose.JOIN:
        details.append(("Period", f"{order.covers_from:%d %b %Y} to {order.covers_until:%d %b %Y}"))
    return details


def dues_refunded(order: Order, refund: Refund, fully: bool) -> None:
    """Dues refunds change the term only as staff chose (term_action); nothing else to do."""


fulfilment.register(DUES_PURPOSES, fulfilment.PurposeHandlers(
    fulfil=fulfil_dues, refunded=dues_refunded, price_on=dues_price_on, reprice=reprice_dues,
    receipt_details=dues_receipt_details, is_membership=True))
