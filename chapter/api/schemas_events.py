"""Events and registrations as the API sends them, and the event an officer's program sends."""
from __future__ import annotations

import copy
from datetime import timezone

import marshmallow as ma

from chapter.api.schemas import NO_NUL, UtcTimestamp, page_of
from chapter.events.models import EventKind, EventStatus, PriceCategory, RegistrationStatus

KINDS = [kind.value for kind in EventKind]
CATEGORIES = [category.value for category in PriceCategory]
# Times the calendar can show and convert to any zone: years outside are typing mistakes.
YEARS = (1900, 2200)


class UtcDateTime(UtcTimestamp):
    """An ISO 8601 date-time; with an offset it is converted to UTC, without one it is read as UTC; sent with +00:00."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not YEARS[0] <= moment.year <= YEARS[1]:
            raise ma.ValidationError(f"Give a time between the years {YEARS[0]} and {YEARS[1]}.")
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return moment


class SessionSchema(ma.Schema):
    starts_at = UtcDateTime(required=True, metadata={"description": "UTC (or with an offset)"})
    ends_at = UtcDateTime(required=True)
    instructional_hours = ma.fields.Float(load_default=0.0, validate=ma.validate.Range(0, 99.9))
    title = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=200), NO_NUL])


class PriceSchema(ma.Schema):
    category = ma.fields.Function(lambda p: p.category.value, deserialize=lambda value: value, required=True,
                                  validate=ma.validate.OneOf(CATEGORIES), metadata={"type": "string", "enum": CATEGORIES})
    amount_cents = ma.fields.Integer(required=True, validate=ma.validate.Range(0, 10_000_000))


class RefundTierSchema(ma.Schema):
    days_before = ma.fields.Integer(required=True, validate=ma.validate.Range(0, 365))
    percent = ma.fields.Integer(required=True, validate=ma.validate.Range(0, 100))


class EventSchema(ma.Schema):
    """An event of a chapter, times in UTC."""

    id = ma.fields.Integer(dump_only=True)
    chapter = ma.fields.Function(lambda e: e.chapter.number, dump_only=True, metadata={"type": "integer"})
    status = ma.fields.Function(lambda e: e.status.value, dump_only=True,
                                metadata={"type": "string", "enum": [s.value for s in EventStatus]})
    title = ma.fields.String(required=True, validate=[ma.validate.Length(1, 200), NO_NUL])
    kind = ma.fields.Function(lambda e: e.kind.value, deserialize=lambda value: value, required=True,
                              validate=ma.validate.OneOf(KINDS), metadata={"type": "string", "enum": KINDS})
    description_md = ma.fields.String(load_default="", validate=[ma.validate.Length(max=20_000), NO_NUL],
                                      metadata={"description": "Markdown"})
    timezone = ma.fields.String(required=True, validate=[ma.validate.Length(1, 50), NO_NUL],
                                metadata={"description": "IANA name, e.g. America/New_York"})
    venue = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=500), NO_NUL])
    online_url = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=500), NO_NUL])
    capacity = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(1, 100_000))
    registration_opens_at = UtcDateTime(allow_none=True)
    registration_closes_at = UtcDateTime(allow_none=True)
    starts_at = UtcTimestamp(dump_only=True)
    ends_at = UtcTimestamp(dump_only=True)
    currency = ma.fields.String(dump_only=True)
    materials_fee_cents = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 10_000_000))
    chapter_share_percent = ma.fields.Integer(load_default=100, validate=ma.validate.Range(0, 100))
    sessions = ma.fields.List(ma.fields.Nested(SessionSchema), required=True, validate=ma.validate.Length(1, 50))
    prices = ma.fields.List(ma.fields.Nested(PriceSchema), required=True, validate=ma.validate.Length(1, 5))
    refund_tiers = ma.fields.List(ma.fields.Nested(RefundTierSchema), load_default=list,
                                  validate=ma.validate.Length(max=10))


def _changes_of(schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The body of a partial update: every writable field of `schema`, none required, none defaulted
    (a field left out keeps its value; a list given replaces the whole list)."""
    fields = {}
    for field_name, field in schema._declared_fields.items():
        if field.dump_only:
            continue
        field = copy.deepcopy(field)
        field.required, field.load_default = False, ma.missing
        fields[field_name] = field
    return ma.Schema.from_dict(fields, name=name)


EventChangesSchema = _changes_of(EventSchema, "EventChanges")


class RegistrationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    member_number = ma.fields.Function(lambda r: r.member.member_number if r.member else None,
                                       metadata={"type": ["string", "null"]})
    category = ma.fields.Function(lambda r: r.category.value, required=True, metadata={"type": "string"})
    status = ma.fields.Function(lambda r: r.status.value, required=True,
                                metadata={"type": "string", "enum": [s.value for s in RegistrationStatus]})
    price_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    guest_of = ma.fields.Integer(attribute="guest_of_id", allow_none=True)
    checked_in_at = UtcTimestamp(allow_none=True)
    created_at = UtcTimestamp(required=True)


EventPageSchema = page_of(EventSchema, "EventPage")
RegistrationPageSchema = page_of(RegistrationSchema, "RegistrationPage")
