"""Forms for members' own pages and staff administration of membership types."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from chapter.core.forms import strip_filter
from chapter.core.money import parse_money
from chapter.members.models import MembershipKind


class ProfileForm(FlaskForm):
    first_name = StringField("First name", filters=[strip_filter], validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Last name", filters=[strip_filter], validators=[DataRequired(), Length(max=100)])
    phone = StringField("Phone", filters=[strip_filter], validators=[Optional(), Length(max=40)])
    employer = StringField("Employer", filters=[strip_filter], validators=[Optional(), Length(max=200)])
    job_title = StringField("Job title", filters=[strip_filter], validators=[Optional(), Length(max=200)])
    address_line1 = StringField("Address", filters=[strip_filter], validators=[Optional(), Length(max=200)])
    address_line2 = StringField("Address (line 2)", filters=[strip_filter], validators=[Optional(), Length(max=200)])
    city = StringField("City", filters=[strip_filter], validators=[Optional(), Length(max=100)])
    region = StringField("State / province", filters=[strip_filter], validators=[Optional(), Length(max=100)])
    postal_code = StringField("Postal code", filters=[strip_filter], validators=[Optional(), Length(max=20)])
    country = StringField("Country (2-letter code)", filters=[strip_filter],
                          validators=[DataRequired(), Regexp(r"^[A-Za-z]{2}$", message="Use a 2-letter code such as US or CA.")])


class HomeChapterForm(FlaskForm):
    home_chapter_id = SelectField("New home chapter", coerce=int, validators=[DataRequired(message="Choose a chapter.")])


class MoneyField(StringField):
    """An amount typed as 210 or 210.00, held as integer cents."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        if not self.raw.strip():
            self.data = None
            return
        try:
            self.data = parse_money(self.raw)
        except ValueError as error:
            self.data = None
            raise ValueError(f"Enter an amount like 210.00 ({error}).")
        if self.data < 0:
            raise ValueError("The amount cannot be negative.")

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data / 100:.2f}"


def required_money(form, field):
    if field.data is None and not field.errors:
        raise ValidationError("Enter an amount.")


class MembershipTypeForm(FlaskForm):
    code = StringField("Code", filters=[strip_filter],
                       validators=[DataRequired(), Length(max=40), Regexp(r"^[a-zA-Z0-9_-]+$", message="Letters, digits, - and _ only.")])
    name = StringField("Name", filters=[strip_filter], validators=[DataRequired(), Length(max=100)])
    kind = SelectField("Kind", choices=[(k.value, k.value.replace("_", " ").capitalize()) for k in MembershipKind])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    currency = StringField("Currency", default="USD", filters=[strip_filter],
                           validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message="A 3-letter ISO code, such as USD.")])
    join_price_cents = MoneyField("Join price", validators=[required_money])
    renewal_price_cents = MoneyField("Renewal price", validators=[required_money])
    chapter_share_cents = MoneyField("Chapter share", description="Leave empty to use each chapter's own share.")
    term_months = IntegerField("Term (months)", validators=[Optional(), NumberRange(min=1, max=120)],
                               description="Leave empty for a membership that never ends (lifetime).")
    grace_days = IntegerField("Grace period (days)", default=30, validators=[InputRequired(), NumberRange(min=0, max=365)])
    min_seats = IntegerField("Minimum seats", validators=[Optional(), NumberRange(min=1)],
                             description="Corporate types only.")
    eligibility_min_age = IntegerField("Minimum age (retired types)", validators=[Optional(), NumberRange(min=1, max=120)],
                                       description="A member this old qualifies without declaring retirement.")
    sort_order = IntegerField("Sort order", default=100, validators=[InputRequired()])
    is_public = BooleanField("Members can choose it (otherwise staff only)", default=True)
    is_invoiced = BooleanField("Invoiced (unchecked: never billed, e.g. honorary)", default=True)
    is_available = BooleanField("Available for new terms", default=True)


class GrantFreeMembershipForm(FlaskForm):
    membership_type_id = SelectField("Free membership type", coerce=int, validators=[DataRequired(message="Choose a type.")])
    starts_on = DateField("From", validators=[DataRequired(message="Enter a date.")])


class UnemployedExtensionForm(FlaskForm):
    approver_email = StringField("Approved by (the chapter president's e-mail)", filters=[strip_filter],
                                 validators=[DataRequired(message="Enter the president's e-mail.")])
