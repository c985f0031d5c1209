"""Forms of the corporate membership pages: the organization, seat counts, naming an employee."""
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

from chapter.core.forms import strip_filter


class OrganizationForm(FlaskForm):
    name = StringField("Organization name", filters=[strip_filter], validators=[DataRequired(), Length(max=200)])
    billing_email = EmailField("Billing e-mail", filters=[strip_filter],
                               validators=[Optional(), Email(message="Enter a valid e-mail address."), Length(max=254)],
                               description="Receipts go here. Leave empty to use the contact's address.")
    address_line1 = StringField("Address", filters=[strip_filter], validators=[Optional(), Length(max=200)])
    city = StringField("City", filters=[strip_filter], validators=[Optional(), Length(max=100)])
    region = StringField("State / province", filters=[strip_filter], validators=[Optional(), Length(max=100)])
    postal_code = StringField("Postal code", filters=[strip_filter], validators=[Optional(), Length(max=20)])
    country = StringField("Country (2-letter code)", default="US", filters=[strip_filter],
                          validators=[DataRequired(), Regexp(r"^[A-Za-z]{2}$", message="Use a 2-letter code such as US or CA.")])


class StaffOrganizationForm(OrganizationForm):
    contact_email = EmailField("Contact person's e-mail", filters=[strip_filter],
                               validators=[Optional(), Email(message="Enter a valid e-mail address.")],
                               description="A registered user who will buy and manage the seats. Leave empty to be the contact yourself.")


class SeatsForm(FlaskForm):
    seats = IntegerField("Number of seats", validators=[
        DataRequired(message="Enter a number of seats."), NumberRange(min=1, message="Enter a number of seats.")])


class AssignSeatForm(FlaskForm):
    member_number = StringField("Member number", filters=[strip_filter], validators=[Optional(), Length(max=20)],
                                description="For an employee who is already a member. Leave empty to add a new person below.")
    first_name = StringField("First name", filters=[strip_filter], validators=[Optional(), Length(max=100)])
    last_name = StringField("Last name", filters=[strip_filter], validators=[Optional(), Length(max=100)])
    email = EmailField("E-mail address", filters=[strip_filter],
                       validators=[Optional(), Email(message="Enter a valid e-mail address."), Length(max=254)],
                       description="The employee logs in with it; we send them a link to choose a password.")
    home_chapter_id = SelectField("Home chapter", coerce=int, validators=[Optional()])
    override_reason = StringField("Staff only: reason to give a seat freed in this term to someone else",
                                  filters=[strip_filter], validators=[Optional(), Length(max=300)])
