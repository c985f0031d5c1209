"""Forms for chapter administration."""
import calendar

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from chapter.core.forms import strip_filter
from chapter.members.forms import MoneyField, required_money


class DistrictForm(FlaskForm):
    code = StringField("Code", filters=[strip_filter],
                       validators=[DataRequired(), Length(max=20), Regexp(r"^[A-Za-z0-9_-]+$", message="Letters, digits, - and _ only.")])
    name = StringField("Name", filters=[strip_filter], validators=[DataRequired(), Length(max=100)])


class DistrictManagerForm(FlaskForm):
    email = EmailField("E-mail of the new district manager", filters=[strip_filter],
                       validators=[DataRequired(), Email(message="Enter a valid e-mail address.")])
    starts_on = DateField("From", validators=[DataRequired(message="Enter a date.")])


class ChapterForm(FlaskForm):
    number = IntegerField("Number", validators=[InputRequired(message="Enter the chapter number."), NumberRange(min=1, max=99999)])
    name = StringField("Name", filters=[strip_filter], validators=[DataRequired(), Length(max=150)])
    district_id = SelectField("District", coerce=int, validators=[DataRequired(message="Choose a district.")])
    city = StringField("City", filters=[strip_filter], validators=[Optional(), Length(max=100)])
    region = StringField("State / province", filters=[strip_filter], validators=[Optional(), Length(max=100)])
    country = StringField("Country (2-letter code)", default="US", filters=[strip_filter],
                          validators=[DataRequired(), Regexp(r"^[A-Za-z]{2}$", message="Use a 2-letter code such as US or CA.")])
    currency = StringField("Currency", default="USD", filters=[strip_filter],
                           validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message="A 3-letter ISO code, such as USD.")])
    dues_share_cents = MoneyField("Chapter share of dues", default=0, validators=[required_money],
                                  description="Used when a membership type does not set its own chapter share.")
    website = StringField("Website", filters=[strip_filter], validators=[
        Optional(), Length(max=200), Regexp(r"^https?://[^\s]+$", message="Start with http:// or https://.")])
    description = TextAreaField("About the chapter", filters=[strip_filter], validators=[Optional(), Length(max=2000)],
                                description="Shown on the chapter's public page.")
    meeting_place = StringField("Where the chapter meets", filters=[strip_filter], validators=[Optional(), Length(max=300)])
    contact_email = EmailField("Contact e-mail", filters=[strip_filter],
                               validators=[Optional(), Email(message="Enter a valid e-mail address."), Length(max=254)])
    timezone = StringField("Time zone", default="America/New_York", filters=[strip_filter],
                           validators=[Optional(), Length(max=50)],
                           description="Its audit log shows times in it, e.g. America/New_York or America/Chicago.")
    is_active = BooleanField("Active (listed and taking members)", default=True)
    postal_code = StringField("Postal code (where the chapter meets)", filters=[strip_filter],
                              validators=[Optional(), Length(max=20)],
                              description="Members who pick no chapter are given the closest one by postal code.")
    fiscal_year_start_month = SelectField("Fiscal year starts in", coerce=int, default=7,
                                          choices=[(m, calendar.month_name[m]) for m in range(1, 13)])

    def validate_timezone(self, field):
        """An IANA time zone name the server knows."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if field.data:
            try:
                ZoneInfo(field.data)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError("Use a time zone name such as America/New_York.")


class AppointOfficerForm(FlaskForm):
    email = EmailField("Officer's e-mail", filters=[strip_filter],
                       validators=[DataRequired(), Email(message="Enter a valid e-mail address.")],
                       description="The person must have an account.")
    position_id = SelectField("Position", coerce=int, validators=[DataRequired(message="Choose a position.")])
    starts_on = DateField("First day", validators=[DataRequired(message="Enter a date.")])
    ends_on = DateField("Last day", validators=[Optional()], description="Leave empty if the term has no set end.")


class EndOfficerTermForm(FlaskForm):
    ends_on = DateField("Last day", validators=[DataRequired(message="Enter a date.")])


class MemberNoteForm(FlaskForm):
    noted_on = DateField("Date", validators=[DataRequired(message="Enter a date.")])
    body = TextAreaField("Note", filters=[strip_filter],
                         validators=[DataRequired(message="Write the note."), Length(max=2000)])


class RosterImportForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired(message="Choose a CSV file to upload.")],
                     render_kw={"accept": ".csv,text/csv,text/plain"},
                     description="Saved from a spreadsheet as CSV (comma or semicolon; UTF-8 or Latin-1). "
                                 "First line: the column names, such as First name, Last name, E-mail, Member number.")


class TransferRequestForm(FlaskForm):
    member_number = StringField("Member number", filters=[strip_filter],
                                validators=[DataRequired(message="Enter the member number."), Length(max=20)])
    last_name = StringField("Last name", filters=[strip_filter],
                            validators=[DataRequired(message="Enter the member's last name."), Length(max=100)],
                            description="As a check: the member's last name as it is on their membership.")


class BulkTransferForm(FlaskForm):
    member_numbers = TextAreaField("Member numbers", filters=[strip_filter],
                                   validators=[DataRequired(message="Enter at least one member number.")],
                                   description="One per line, or separated by commas or spaces.")
    to_chapter = IntegerField("Move to chapter number", validators=[InputRequired(message="Enter the chapter number.")])
    effective_on = DateField("Effective on", validators=[DataRequired(message="Enter a date.")])
    reason = StringField("Reason", filters=[strip_filter], validators=[Optional(), Length(max=200)],
                         description="Shown in both chapters' history, e.g. “Chapter #212 merged into #40”.")
