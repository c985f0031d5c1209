"""Forms of the standards pages: roster reviewed, submit, review, and staff editing standards and levels."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from chapter.core.forms import strip_filter
from chapter.standards.models import StandardKind


class RosterReviewedForm(FlaskForm):
    """Only the CSRF token: the day and the officer come from the request."""


class SubmitReportForm(FlaskForm):
    fy = HiddenField("Fiscal year", validators=[DataRequired(), Regexp(r"^\d{4}$")])


class ReviewReportForm(FlaskForm):
    decision = RadioField("Decision", choices=[("approve", "Approve the report"),
                                               ("return", "Return it to the chapter")],
                          validators=[DataRequired(message="Choose approve or return.")])
    comment = TextAreaField("Comment (needed to return the report)", filters=[strip_filter],
                            validators=[Optional(), Length(max=2000)])


class StandardForm(FlaskForm):
    title = StringField("Title", filters=[strip_filter], validators=[DataRequired(), Length(max=150)])
    minimum = IntegerField("How many in the year", validators=[DataRequired(message="Give a number."),
                                                                NumberRange(min=1, max=1000)])
    position_codes = StringField("Positions to fill (codes, comma-separated)", filters=[strip_filter],
                                 validators=[Optional(), Length(max=400)])
    sort_order = IntegerField("Order", default=100, validators=[Optional(), NumberRange(min=0, max=10000)])
    is_active = BooleanField("Counts toward recognition")


class NewStandardForm(StandardForm):
    code = StringField("Code", filters=[strip_filter],
                       validators=[DataRequired(), Length(max=40),
                                   Regexp(r"^[a-z0-9_]+$", message="Lower-case letters, digits and _ only.")])
    kind = SelectField("What it counts", choices=[(k.value, k.label) for k in StandardKind])
    activity_kind = SelectField("Activity", choices=[], validate_choice=False)


class LevelForm(FlaskForm):
    name = StringField("Level", filters=[strip_filter], validators=[DataRequired(), Length(max=40)])
    standards_met = IntegerField("Standards met to reach it", validators=[DataRequired(message="Give a number."),
                                                                          NumberRange(min=1, max=100)])
