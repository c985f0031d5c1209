"""Members and their terms: creating members, granting terms, profile and home-chapter changes."""
from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.chapters.models import Chapter, ChapterTransfer
from chapter.core import audit, caching, domain_events
from chapter.core.audit import AuditAction
from chapter.core.errors import DomainError
from chapter.core.models import FOREVER, today
from chapter.core.sequences import reserve_numbers
from chapter.extensions import db
from chapter.members.models import Member, MembershipTerm, MembershipType, TermSource

if TYPE_CHECKING:
    from chapter.auth.models import User

MEMBER_NUMBER_START = 1_000_001
PROFILE_FIELDS = (
    "first_name", "last_name", "phone", "address_line1", "address_line2", "city", "region",
    "postal_code", "country", "employer", "job_title",
)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(starts_on: date, membership_type: MembershipType) -> date:
    """The last day of a term of this type that starts on `starts_on`."""
    if membership_type.term_months is None:
        return FOREVER
    return add_months(starts_on, membership_type.term_months) - timedelta(days=1)


def next_member_numbers(count: int = 1) -> int:
    """Reserve `count` member numbers and return the first."""
    return reserve_numbers("member_number", count, start=MEMBER_NUMBER_START)


def get_member_by_number(member_number: str) -> Member | None:
    """The member with this number, or None."""
    return db.session.scalar(sa.select(Member).where(Member.member_number == member_number.strip()))


def create_member(
    *,
    first_name: str,
    last_name: str,
    email: str | None,
    home_chapter_id: int | None,
    actor: User | None,
    user: User | None = None,
    **profile,
) -> Member:
    """Create a member with a new member number; the membership is pending until a term exists."""
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name or not last_name:
        raise DomainError("First and last name are required.")
    member = Member(
        member_number=str(next_member_numbers()),
        first_name=first_name,
        last_name=last_name,
        email=(email or "").strip().lower() or None,
        user=user,
        **{key: value for key, value in profile.items() if key in PROFILE_FIELDS},
    )
    db.session.add(member)
    db.session.flush()
    audit.record(AuditAction.MEMBER_CREATED, actor=actor, chapter_id=home_chapter_id, member_id=member.id,
                 summary=f"{member.full_name} ({member.member_number}) added",
                 after={key: getattr(member, key) for key in ("member_number", "first_name", "last_name", "email")})
    if home_chapter_id is not None:
        change_home_chapter(member, _get_chapter(home_chapter_id), actor=actor, reason="Joined")
    return member


def _get_chapter(chapter_id: int) -> Chapter:
    chapter = db.session.get(Chapter, chapter_id)
    if chapter is None or not chapter.is_active:
        raise DomainError("Choose one of the listed chapters.", field="home_chapter_id")
    return chapter


def grant_term(
    member: Member,
    membership_type: MembershipType,
    *,
    starts_on: date,
    source: TermSource,
    actor: User | None,
    organization_id: int | None = None,
    ends_on: date | None = None,
    note: str | None = None,
) -> MembershipTerm:
    """Add a term of membership (a row of its own) and refresh the member's derived dates."""
    term = MembershipTerm(
        member=member,
        membership_type=membership_type,
        starts_on=starts_on,
        ends_on=ends_on or term_end(starts_on, membership_type),
        source=source,
        organization_id=organization_id,
        granted_by_id=actor.id if actor else None,
        note=note,
    )
    db.session.add(term)
    db.session.flush()
    paid_through_before = member.paid_through
    refresh_membership_dates(member)
    audit.record(AuditAction.TERM_CREATED, actor=actor, chapter_id=member.home_chapter_id, member_id=member.id,
                 summary=f"{membership_type.name} term {term.starts_on} to {term.ends_on} for {member.full_name}",
                 before={"paid_through": paid_through_before},
                 after={"paid_through": member.paid_through, "type": membership_type.code,
                        "starts_on": term.starts_on, "ends_on": term.ends_on, "source": source})
    return term


def refresh_membership_dates(member: Member) -> None:
    """Derive joined_on, paid_through, grace_ends_on and the current type from the terms."""
    terms = db.session.scalars(
        sa.select(MembershipTerm)
        .where(MembershipTerm.member_id == member.id, MembershipTerm.voided_at.is_(None))
        .order_by(MembershipTerm.ends_on.desc(), MembershipTerm.id.desc())
    ).all()
    if not terms:
        member.joined_on = member.continuous_since = member.paid_through = member.grace_ends_on = None
        member.current_type_id = None
    else:
        latest = terms[0]
        member.joined_on = min(term.starts_on for term in terms)
        member.continuous_since = continuous_since(terms)
        member.paid_through = latest.ends_on
        member.grace_ends_on = latest.grace_ends_on()
        member.current_type_id = latest.membership_type_id
    db.session.flush()


def continuous_since(terms: list[MembershipTerm]) -> date:
    """The first day of the unbroken run of terms ending with the one that ends last (terms newest-ending first)."""
    since = terms[0].starts_on
    for term in sorted(terms[1:], key=lambda t: t.ends_on, reverse=True):
        if term.ends_on >= since - timedelta(days=1):
            since = min(since, term.starts_on)
        else:
            break
    return since


def update_profile(member: Member, *, actor: User, **changes) -> Member:
    """Change a member's contact and employment details (only the profile fields)."""
    before, after = {}, {}
    for key, value in changes.items():
        if key not in PROFILE_FIELDS:
            raise DomainError(f"{key} cannot be changed here.")
        if isinstance(value, str):
            value = value.strip() or None
        if key in ("first_name", "last_name") and not value:
            raise DomainError("This field is required.", field=key)
        if getattr(member, key) != value:
            before[key], after[key] = getattr(member, key), value
        setattr(member, key, value)
    db.session.flush()
    if after:
        audit.record(AuditAction.MEMBER_UPDATED, actor=actor, chapter_id=member.home_chapter_id, member_id=member.id,
                     summary=f"{member.full_name}: {', '.join(after)} changed", before=before, after=after)
    return member


def change_home_chapter(
    member: Member, chapter: Chapter, *, actor: User | None, reason: str | None = None, on: date | None = None
) -> ChapterTransfer | None:
    """Move a member to another home chapter at once; the move is kept in both chapters' history."""
    if not chapter.is_active:
        raise DomainError("That chapter is not taking members.", field="home_chapter_id")
    if member.home_chapter_id == chapter.id:
        return None
    transfer = ChapterTransfer(
        member_id=member.id,
        from_chapter_id=member.home_chapter_id,
        to_chapter_id=chapter.id,
        effective_on=on or today(),
        actor_id=actor.id if actor else None,
        reason=reason,
    )
    member.home_chapter_id = chapter.id
    db.session.add(transfer)
    db.session.flush()
    # Recorded in both chapters' logs: each sees who left and who arrived.
    previous = db.session.get(Chapter, transfer.from_chapter_id) if transfer.from_chapter_id else None
    for chapter_id in {transfer.from_chapter_id, transfer.to_chapter_id} - {None}:
        audit.record(AuditAction.MEMBER_TRANSFERRED, actor=actor, chapter_id=chapter_id, member_id=member.id,
                     summary=f"{member.full_name} moved to {chapter.display_name}" + (f" ({reason})" if reason else ""),
                     before={"home_chapter": previous.display_name if previous else None},
                     after={"home_chapter": chapter.display_name, "effective_on": transfer.effective_on})
    if previous is not None:
        domain_events.publish("member.transferred", {
            "transfer_id": transfer.id, "member_id": member.id, "member_number": member.member_number,
            "chapter_id": chapter.id, "chapter_number": chapter.number,
            "from_chapter_id": previous.id, "from_chapter_number": previous.number,
            "to_chapter_id": chapter.id, "to_chapter_number": chapter.number,
            "effective_on": transfer.effective_on.isoformat()})
    return transfer


def publish_membership(name: str, member: Member, term: MembershipTerm, *, order_id: int | None = None) -> None:
    """Publish member.joined or member.renewed for a term just granted (ids and dates only)."""
    chapter = db.session.get(Chapter, member.home_chapter_id) if member.home_chapter_id else None
    domain_events.publish(name, {
        "member_id": member.id, "member_number": member.member_number, "chapter_id": member.home_chapter_id,
        "chapter_number": chapter.number if chapter is not None else None, "term_id": term.id,
        "membership_type": term.membership_type.code, "starts_on": term.starts_on.isoformat(),
        "ends_on": term.ends_on.isoformat(), "order_id": order_id})


def chapter_history(member: Member) -> list[ChapterTransfer]:
    """The member's home-chapter changes, newest first, with both chapters (one query, however many moves)."""
    return db.session.scalars(
        sa.select(ChapterTransfer)
        .options(joinedload(ChapterTransfer.from_chapter), joinedload(ChapterTransfer.to_chapter))
        .where(ChapterTransfer.member_id == member.id)
        .order_by(ChapterTransfer.recorded_at.desc(), ChapterTransfer.id.desc())
    ).all()


def membership_types(include_staff_only: bool = False) -> list[MembershipType]:
    """Membership types in display order; staff-only ones when asked."""
    statement = sa.select(MembershipType).order_by(MembershipType.sort_order, MembershipType.name)
    if not include_staff_only:
        statement = statement.where(MembershipType.is_public.is_(True))
    return db.session.scalars(statement).all()


class TypeOption(NamedTuple):
    """A membership type as a filter list shows it."""
    code: str
    name: str


def membership_type_options() -> list[TypeOption]:
    """Every membership type (staff-only ones too) as (code, name) in display order, for filter lists; kept per
    process (`caching.references`), so a roster does not ask for it on every page."""
    return caching.references.get("membership_type_options", lambda: [
        TypeOption(t.code, t.name) for t in membership_types(include_staff_only=True)], models=(MembershipType,))


MEMBERSHIP_TYPE_FIELDS = ("code", "name", "kind", "description", "currency", "join_price_cents",
                          "renewal_price_cents", "chapter_share_cents", "term_months", "grace_days",
                          "is_public", "is_invoiced", "min_seats", "is_available", "sort_order",
                          "eligibility_min_age")


def save_membership_type(membership_type: MembershipType | None, **fields) -> MembershipType:
    """Create or update a membership type; codes are unique and the chapter share fits the price."""
    code = fields["code"].strip().lower()
    clash = db.session.scalar(sa.select(MembershipType).where(MembershipType.code == code))
    if clash is not None and clash is not membership_type:
        raise DomainError("Another membership type has this code.", field="code")
    share = fields.get("chapter_share_cents")
    if share is not None and share > min(fields["join_price_cents"], fields["renewal_price_cents"]) and fields.get("is_invoiced", True):
        raise DomainError("The chapter share cannot exceed the price.", field="chapter_share_cents")
    membership_type = membership_type or MembershipType()
    for key in MEMBERSHIP_TYPE_FIELDS:
        if key in fields:
            setattr(membership_type, key, fields[key])
    membership_type.code = code
    membership_type.currency = membership_type.currency.upper()
    db.session.add(membership_type)
    db.session.flush()
    return membership_type


def set_auto_renew(member: Member, *, enabled: bool, actor: User) -> None:
    """Switch automatic renewal on (only with a saved card) or off."""
    if enabled and not member.saved_payment_method_id:
        raise DomainError("There is no saved card to renew with.")
    member.auto_renew = enabled
    db.session.flush()


def begin_card_replacement(member: Member):
    """A SetupIntent for the member's own Stripe customer, to save a new card for automatic renewal."""
    from chapter.payments import gateway

    member.stripe_customer_id = gateway.ensure_customer(
        member.stripe_customer_id, email=member.email, name=member.full_name,
        metadata={"member_number": member.member_number})
    db.session.flush()
    return gateway.create_setup_intent(member.stripe_customer_id, {"member_number": member.member_number,
                                                                   "purpose": "replace_card"})


def replace_saved_card(member: Member, setup_intent_id: str, *, actor: User) -> None:
    """Keep the card the browser just saved (a SetupIntent this member was given) for automatic renewal."""
    from chapter.payments import gateway

    result = gateway.retrieve_setup_intent(setup_intent_id)
    if result.status != "succeeded" or not result.payment_method_id:
        raise DomainError("Your card was not saved. Please enter it again.")
    before = f"{member.saved_card_brand or 'card'} {member.saved_card_last4}" if member.saved_payment_method_id else "none"
    member.saved_payment_method_id = result.payment_method_id
    member.saved_card_brand, member.saved_card_last4 = result.card_brand, result.card_last4
    after = f"{result.card_brand or 'card'} {result.card_last4}"
    audit.record(AuditAction.MEMBER_UPDATED, actor=actor, chapter_id=member.home_chapter_id, member_id=member.id,
                 summary=f"Saved card changed from {before} to {after}", before={"card": before}, after={"card": after})
    db.session.flush()
