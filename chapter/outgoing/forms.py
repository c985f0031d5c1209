"""The endpoint form: URL, events (checkboxes), description; staff also choose the chapter."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import URL, DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from chapter.core.forms import strip_filter
from chapter.outgoing.endpoints import EVENT_CHOICES


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes, each with its label."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        if self.data:
            super().pre_validate(form)


class EndpointForm(FlaskForm):
    url = StringField("URL", filters=[strip_filter],
                      validators=[DataRequired("Give the URL to send deliveries to."), Length(max=2000),
                                  URL(require_tld=False, message="Give a full URL, such as https://example.org/hooks.")],
                      description="Deliveries are POSTed here, signed (see the page on verifying them).")
    events = CheckboxesField("Events", choices=EVENT_CHOICES)
    description = StringField("Description", filters=[strip_filter], validators=[Length(max=200)],
                              description="What receives them, for you and the other officers.")


class StaffEndpointForm(EndpointForm):
    chapter_id = SelectField("Chapter", coerce=str, description="Every chapter, or one.")
