"""What the API sends and accepts, as marshmallow schemas: flask-smorest turns them into the OpenAPI document."""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma

from chapter.chapters.services import RosterSort, RosterView
from chapter.core.models import today
from chapter.members.models import MembershipStatus

STATUSES = [status.value for status in MembershipStatus]


# No field takes a NUL character (PostgreSQL cannot store one): the app refuses it with a 400 before any view.
NO_NUL = ma.validate.Regexp(r"^[^\x00]*$", error="A NUL character is not accepted.")


class UtcTimestamp(ma.fields.DateTime):
    """A moment as RFC 3339 with its offset: the database keeps naive UTC, the document promises "date-time"
    (which needs an offset), so a naive value is sent as UTC ("2026-12-31T23:00:00+00:00")."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def _text(maximum: int, minimum: int = 0) -> list:
    return [ma.validate.Length(minimum or None, maximum), NO_NUL]


def _nullable_string(**kwargs) -> ma.fields.String:
    return ma.fields.String(allow_none=True, **kwargs)


class DistrictSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class ChapterSchema(ma.Schema):
    """A chapter's public fields (what its public page shows)."""

    number = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    district = ma.fields.Function(lambda chapter: chapter.district.code, required=True,
                                  metadata={"type": "string", "description": "The district's code"})
    city = _nullable_string()
    region = _nullable_string()
    postal_code = _nullable_string()
    country = ma.fields.String(required=True)
    currency = ma.fields.String(required=True)
    website = _nullable_string()
    meeting_place = _nullable_string()
    contact_email = _nullable_string()
    is_active = ma.fields.Boolean(required=True)


class MembershipTypeSchema(ma.Schema):
    """A membership type members can buy, with its prices in cents."""

    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.Function(lambda t: t.kind.value, required=True, metadata={"type": "string"})
    description = _nullable_string()
    currency = ma.fields.String(required=True)
    join_price_cents = ma.fields.Integer(required=True)
    renewal_price_cents = ma.fields.Integer(required=True)
    term_months = ma.fields.Integer(allow_none=True, metadata={"description": "null: never ends (lifetime)"})
    grace_days = ma.fields.Integer(required=True)
    is_available = ma.fields.Boolean(required=True)


def _status(member) -> str:
    return member.status_on(today()).value


def _type_code(member) -> str | None:
    return member.current_type.code if member.current_type is not None else None


class RosterMemberSchema(ma.Schema):
    """A line of a roster: what the roster page shows (sent by `roster_line`: keep the two alike)."""

    member_number = ma.fields.String(required=True)
    first_name = ma.fields.String(required=True)
    last_name = ma.fields.String(required=True)
    email = _nullable_string()
    employer = _nullable_string()
    membership_type = ma.fields.Function(_type_code, metadata={"type": ["string", "null"]})
    status = ma.fields.Function(_status, required=True, metadata={"type": "string", "enum": STATUSES})
    joined_on = ma.fields.Date(allow_none=True)
    paid_through = ma.fields.Date(allow_none=True)


def roster_line(member, day) -> dict:
    """A roster line as RosterMemberSchema documents it, made by hand: a page of 100 is the API's busiest
    answer and marshmallow's dump was a third of its time (tests/api/test_roster_api.py compares the two)."""
    current_type = member.current_type
    return {
        "member_number": member.member_number, "first_name": member.first_name, "last_name": member.last_name,
        "email": member.email, "employer": member.employer,
        "membership_type": current_type.code if current_type is not None else None,
        "status": member.status_on(day).value,
        "joined_on": member.joined_on.isoformat() if member.joined_on is not None else None,
        "paid_through": member.paid_through.isoformat() if member.paid_through is not None else None,
    }


class MemberSchema(RosterMemberSchema):
    """A member as their chapter's officers see them."""

    phone = _nullable_string()
    address_line1 = _nullable_string()
    address_line2 = _nullable_string()
    city = _nullable_string()
    region = _nullable_string()
    postal_code = _nullable_string()
    country = ma.fields.String(required=True)
    job_title = _nullable_string()
    home_chapter = ma.fields.Function(lambda m: m.home_chapter.number if m.home_chapter else None,
                                      metadata={"type": ["integer", "null"]})
    continuous_since = ma.fields.Date(allow_none=True)
    grace_ends_on = ma.fields.Date(allow_none=True)


class MeSchema(ma.Schema):
    """The token owner's account and, when they are a member, their member record."""

    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    member = ma.fields.Nested(MemberSchema, allow_none=True)


class CursorPageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, 100),
                              metadata={"description": "How many items (1-100)"})
    cursor = ma.fields.String(validate=[ma.validate.Length(max=2000), ma.validate.Regexp(r"^[A-Za-z0-9_-]*$")],
                              metadata={"description": "`next_cursor` of the previous page"})


class RosterArgs(CursorPageArgs):
    """The roster page's filters (chapter.chapters.services.RosterQuery)."""

    q = ma.fields.String(load_default="", validate=_text(100), metadata={"description": "Search"})
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    type = ma.fields.String(validate=_text(40), metadata={"description": "A membership type code"})
    view = ma.fields.String(validate=ma.validate.OneOf([view.value for view in RosterView]),
                            metadata={"description": "A ready-made list, as on the roster page"})
    joined_from = ma.fields.Date()
    joined_to = ma.fields.Date()
    ends_from = ma.fields.Date()
    ends_to = ma.fields.Date()
    certification = ma.fields.String(validate=_text(40))
    sort = ma.fields.String(validate=ma.validate.OneOf([sort.value for sort in RosterSort]),
                            metadata={"description": "The roster page's sorts; by name unless a `view` has its own "
                                                     "(as on the page). A cursor serves only the sort and dir it came with."})
    dir = ma.fields.String(load_default="asc", validate=ma.validate.OneOf(["asc", "desc"]),
                           metadata={"description": "Ascending or descending, as on the page"})


def page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The schema of a keyset page of `item`s: the items and the cursor of the next page."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item), required=True),
        "next_cursor": ma.fields.String(allow_none=True, required=True,
                                        metadata={"description": "Pass as `cursor` for the next page; null on the last"}),
    }, name=name)


RosterPageSchema = page_of(RosterMemberSchema, "RosterPage")


class PaymentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.Function(lambda p: p.status.value, required=True, metadata={"type": "string"})
    method = ma.fields.Function(lambda p: p.method.value, required=True, metadata={"type": "string"})
    amount_cents = ma.fields.Integer(required=True)
    refunded_cents = ma.fields.Integer(required=True)
    chapter_share_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    purpose = ma.fields.Function(lambda p: p.order.purpose.value, required=True, metadata={"type": "string"})
    description = ma.fields.Function(lambda p: p.order.description, required=True, metadata={"type": "string"})
    member_number = ma.fields.Function(lambda p: p.order.member.member_number if p.order.member else None,
                                       metadata={"type": ["string", "null"]})
    created_at = UtcTimestamp(required=True)
    succeeded_at = UtcTimestamp(allow_none=True)


PaymentPageSchema = page_of(PaymentSchema, "PaymentPage")


class RefundSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    payment_id = ma.fields.Integer(required=True)
    amount_cents = ma.fields.Integer(required=True)
    chapter_share_cents = ma.fields.Integer(required=True)
    currency = ma.fields.Function(lambda r: r.payment.currency, required=True, metadata={"type": "string"})
    reason = ma.fields.String(required=True)
    created_at = UtcTimestamp(required=True)
    refunded_at = UtcTimestamp(allow_none=True)


RefundPageSchema = page_of(RefundSchema, "RefundPage")


class VerifyArgs(ma.Schema):
    certificate_number = ma.fields.String(required=True, validate=_text(40, 1))
    last_name = ma.fields.String(required=True, validate=_text(100, 1))


class VerificationSchema(ma.Schema):
    holder = ma.fields.String(required=True)
    certification = ma.fields.String(required=True)
    certificate_number = ma.fields.String(required=True)
    status = ma.fields.Function(lambda v: v.status.value, required=True, metadata={"type": "string"})
    earned_on = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(required=True)
    reason = _nullable_string()
