"""The form that makes an API token."""
from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from chapter.api.tokens import MAX_LIFETIME_DAYS, SCOPES
from chapter.core.forms import strip_filter
from chapter.core.models import today


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of labelled checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)], filters=[strip_filter],
                       description="What the token is for, e.g. \"chapter web site\".")
    scopes = CheckboxesField("Scopes", choices=[(scope, f"{scope}: {text}") for scope, text in SCOPES.items()],
                             validators=[DataRequired("Choose at least one scope.")])
    chapters = CheckboxesField("Chapters", coerce=int, choices=[])
    all_chapters = BooleanField("Every chapter I may see, as my positions change")
    expires_on = DateField("Expires on", validators=[DataRequired("Give a date (YYYY-MM-DD).")],
                           description=f"At most {MAX_LIFETIME_DAYS} days from today.")

    def __init__(self, *args, chapters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.chapters.choices = [(chapter.id, chapter.display_name) for chapter in chapters]
        if self.expires_on.data is None and not self.is_submitted():
            self.expires_on.data = today() + timedelta(days=90)
