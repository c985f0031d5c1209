"""Forms for the treasury: periods, remittances, offline payments, report ranges."""
from flask_wtf import FlaskForm
from wtforms import DateField, MonthField, StringField
from wtforms.validators import DataRequired, Length, Optional

from chapter.core.forms import strip_filter
from chapter.members.forms import MoneyField, required_money


class EmptyForm(FlaskForm):
    """A button that posts (CSRF only)."""


class MonthForm(FlaskForm):
    # A month input sends YYYY-MM; browsers without one (and older links) send a full date: take both.
    month = MonthField("Month", format=["%Y-%m", "%Y-%m-%d"], validators=[DataRequired(message="Choose a month.")])


class RemittanceForm(FlaskForm):
    amount_cents = MoneyField("Amount remitted", validators=[required_money])
    booked_on = DateField("Date paid", validators=[DataRequired(message="Give the date it was paid.")])
    reference = StringField("Bank or check reference", filters=[strip_filter], validators=[Optional(), Length(max=100)])


class OfflinePaymentForm(FlaskForm):
    # Own ids: the staff page also holds the order payment form, whose fields have the same names.
    amount_cents = MoneyField("Amount received", id="offline_amount_cents", validators=[required_money])
    booked_on = DateField("Date received", id="offline_booked_on",
                          validators=[DataRequired(message="Give the date it was received.")])
    reference = StringField("Check number or bank reference", id="offline_reference", filters=[strip_filter],
                            validators=[DataRequired(message="Give the check number or bank reference."), Length(max=100)])
    description = StringField("What it pays for", id="offline_description", filters=[strip_filter],
                              validators=[Optional(), Length(max=300)])
