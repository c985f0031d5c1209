"""Forms: compose a message, the daily cap, mail preferences, the unsubscribe button."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from chapter.communications.models import MailCategory
from chapter.core.forms import strip_filter


class ComposeForm(FlaskForm):
    audience = SelectField("To", choices=[], validate_choice=True)
    roster_filter = HiddenField()  # the filters of the roster list the officer came from (a query string)
    event_id = IntegerField("Event number", validators=[Optional(), NumberRange(min=1, max=2**31 - 1)],
                            description="Only for “Registrants of an event”.")
    category = SelectField("Kind of mail", choices=[], validate_choice=True,
                           description="Members who opted out of this kind of mail do not receive it.")
    subject = StringField("Subject", filters=[strip_filter], validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=20000)],
                         description="Markdown: **bold**, *italic*, [a link](https://…), lists. Merge fields: "
                                     "{{first_name}}, {{member_until}}, {{renew_link}}.")
    when = RadioField("When", choices=[("now", "Send now"), ("later", "Send at a set time")], default="now")
    # labelled with the chapter's zone by the view ("Send at (America/Chicago)"): typed there, stored as UTC
    send_at = DateTimeLocalField("Send at", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    preview = SubmitField("Preview")
    test = SubmitField("Send me a test")
    send = SubmitField("Send")

    def validate_send_at(self, field):
        if self.when.data == "later" and field.data is None:
            raise ValidationError("Give the date and time to send it at.")

    def set_choices(self, audiences: list[tuple[str, str]], *, staff: bool) -> None:
        self.audience.choices = audiences
        self.category.choices = [(c.value, c.label) for c in MailCategory
                                 if staff or c is not MailCategory.ASSOCIATION_NEWS]


class DailyCapForm(FlaskForm):
    daily_cap = IntegerField("Messages a day", validators=[InputRequired(), NumberRange(min=0, max=1000)])
    save = SubmitField("Save the cap")


class PreferencesForm(FlaskForm):
    chapter_news = BooleanField(MailCategory.CHAPTER_NEWS.label, description=MailCategory.CHAPTER_NEWS.description)
    event_announcements = BooleanField(MailCategory.EVENT_ANNOUNCEMENTS.label,
                                       description=MailCategory.EVENT_ANNOUNCEMENTS.description)
    association_news = BooleanField(MailCategory.ASSOCIATION_NEWS.label,
                                    description=MailCategory.ASSOCIATION_NEWS.description)
    save = SubmitField("Save my preferences")


class CancelForm(FlaskForm):
    cancel = SubmitField("Cancel this message")
