"""Event forms: the officer's event form (sessions, prices, refund tiers) and the registrant's forms."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateTimeLocalField, DecimalField, FieldList, Form, FormField, IntegerField, SelectField, StringField,
    SubmitField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, URL

from chapter.core.forms import strip_filter
from chapter.events.models import EventKind, PriceCategory
from chapter.members.forms import MoneyField

LOCAL = "%Y-%m-%dT%H:%M"
MAX_SESSIONS = 12
PRICE_FIELDS = [(category, f"price_{category.value}") for category in PriceCategory]


class SessionForm(Form):
    """One sitting; an entirely empty row (beyond the first) is ignored."""

    title = StringField("Session title", filters=[strip_filter], validators=[Optional(), Length(max=200)])
    starts = DateTimeLocalField("Starts", format=LOCAL, validators=[Optional()])
    ends = DateTimeLocalField("Ends", format=LOCAL, validators=[Optional()])
    hours = DecimalField("Instructional hours", places=1, default=Decimal("1.0"),
                         validators=[Optional(), NumberRange(min=0, max=99.9, message="Between 0 and 99.9 hours.")])

    def is_blank(self) -> bool:
        return not (self.title.data or self.starts.data or self.ends.data or self.starts.raw_data and self.starts.raw_data[0])


class TierForm(Form):
    days_before = IntegerField("Days before", validators=[Optional(), NumberRange(min=0, max=365)])
    percent = IntegerField("Refund (%)", validators=[Optional(), NumberRange(min=0, max=100)])


class EventForm(FlaskForm):
    title = StringField("Title", filters=[strip_filter], validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=[(k.value, k.label) for k in EventKind], default=EventKind.MEETING.value)
    description_md = TextAreaField("Description (Markdown)", validators=[Optional(), Length(max=20000)])
    timezone = StringField("Time zone", filters=[strip_filter], validators=[DataRequired(), Length(max=50)],
                           description="An IANA name such as America/Chicago: the times below are in this zone.")
    sessions = FieldList(FormField(SessionForm), min_entries=1, max_entries=MAX_SESSIONS)
    add_session = SubmitField("Add a session")
    venue = StringField("Venue", filters=[strip_filter], validators=[Optional(), Length(max=500)],
                        description="Shown to registrants only.")
    online_url = StringField("Online link", filters=[strip_filter],
                             validators=[Optional(), Length(max=500), URL(message="Enter a full address (https://...).")],
                             description="Shown to registrants only.")
    capacity = IntegerField("Capacity", validators=[Optional(), NumberRange(min=1, max=100000)],
                            description="Seats; empty for no limit.")
    registration_opens = DateTimeLocalField("Registration opens", format=LOCAL, validators=[Optional()],
                                            description="Empty: when published.")
    registration_closes = DateTimeLocalField("Registration closes", format=LOCAL, validators=[Optional()],
                                             description="Empty: when the event starts.")
    price_member = MoneyField("Member price", description="Empty: not offered to that category; 0.00: free.")
    price_non_member = MoneyField("Non-member price")
    price_student = MoneyField("Student price")
    price_corporate = MoneyField("Corporate seat holder price")
    price_guest = MoneyField("Guest price", description="A member's guests; empty: no guests.")
    materials_fee_cents = MoneyField("Materials fee (never refunded)", default=0)
    tiers = FieldList(FormField(TierForm), min_entries=3, max_entries=3)
    chapter_share_percent = IntegerField("Chapter's share of the revenue (%)", default=100,
                                         validators=[InputRequired(message="Enter a percent from 0 to 100."),
                                                     NumberRange(min=0, max=100)])
    professional_development = BooleanField("Professional-development event (counts for chapter standards)",
                                            default=True)
    save = SubmitField("Save")


class RegisterForm(FlaskForm):
    guest_1 = StringField("Guest 1 (name)", filters=[strip_filter], validators=[Optional(), Length(max=200)])
    guest_2 = StringField("Guest 2 (name)", filters=[strip_filter], validators=[Optional(), Length(max=200)])
    guest_3 = StringField("Guest 3 (name)", filters=[strip_filter], validators=[Optional(), Length(max=200)])

    @property
    def guests(self) -> list[str]:
        return [name for name in (self.guest_1.data, self.guest_2.data, self.guest_3.data) if name]


class ActionForm(FlaskForm):
    """A button that posts (publish, pay, cancel): CSRF only."""


def event_input(form: EventForm):
    """The typed event as a services.EventInput (times converted from the event's zone to UTC); a DomainError
    naming the field when a row is incomplete."""
    from chapter.core.errors import DomainError
    from chapter.events.services import EventInput, SessionInput
    from chapter.events.times import check_timezone, to_utc

    tz = check_timezone(form.timezone.data)
    sessions = []
    for index, entry in enumerate(form.sessions.entries):
        row = entry.form
        if index > 0 and row.is_blank():
            continue
        if row.starts.data is None or row.ends.data is None:
            raise DomainError(f"Session {index + 1}: give its start and end.", field="sessions")
        sessions.append(SessionInput(starts_at=to_utc(row.starts.data, tz), ends_at=to_utc(row.ends.data, tz),
                                     instructional_hours=row.hours.data if row.hours.data is not None else Decimal(0),
                                     title=row.title.data or None))
    tiers = []
    for entry in form.tiers.entries:
        days, percent = entry.form.days_before.data, entry.form.percent.data
        if days is None and percent is None:
            continue
        if days is None or percent is None:
            raise DomainError("Each refund tier needs both its days and its percent.", field="tiers")
        tiers.append((days, percent))
    prices = {category: getattr(form, name).data for category, name in PRICE_FIELDS
              if getattr(form, name).data is not None}
    return EventInput(
        title=form.title.data, kind=EventKind(form.kind.data), description_md=form.description_md.data or "",
        timezone=tz, sessions=sessions, venue=form.venue.data or None, online_url=form.online_url.data or None,
        capacity=form.capacity.data,
        registration_opens_at=to_utc(form.registration_opens.data, tz) if form.registration_opens.data else None,
        registration_closes_at=to_utc(form.registration_closes.data, tz) if form.registration_closes.data else None,
        prices=prices, refund_tiers=tiers, materials_fee_cents=form.materials_fee_cents.data or 0,
        chapter_share_percent=form.chapter_share_percent.data, professional_development=form.professional_development.data)


def fill_form(form: EventForm, event) -> None:
    """The form showing a saved event (times in its zone)."""
    from chapter.events.times import to_local

    tz = event.timezone
    form.title.data, form.kind.data, form.description_md.data = event.title, event.kind.value, event.description_md
    form.timezone.data, form.venue.data, form.online_url.data = tz, event.venue, event.online_url
    form.capacity.data = event.capacity
    local = lambda moment: to_local(moment, tz).replace(tzinfo=None) if moment else None  # noqa: E731
    form.registration_opens.data = local(event.registration_opens_at)
    form.registration_closes.data = local(event.registration_closes_at)
    while len(form.sessions.entries):
        form.sessions.pop_entry()
    for session in event.sessions:
        form.sessions.append_entry({"title": session.title, "starts": local(session.starts_at),
                                    "ends": local(session.ends_at), "hours": session.instructional_hours})
    for category, name in PRICE_FIELDS:
        getattr(form, name).data = event.price_for(category)
    form.materials_fee_cents.data = event.materials_fee_cents
    tiers = sorted(event.refund_tiers, key=lambda t: -t.days_before)
    for index, entry in enumerate(form.tiers.entries):
        tier = tiers[index] if index < len(tiers) else None
        entry.form.days_before.data = tier.days_before if tier else None
        entry.form.percent.data = tier.percent if tier else None
    form.chapter_share_percent.data = event.chapter_share_percent
    form.professional_development.data = event.professional_development
