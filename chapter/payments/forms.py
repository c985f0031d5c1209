"""Forms for choosing what to pay and for refunds."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from chapter.members.forms import MoneyField, required_money
from chapter.payments.models import TermAction


class ChooseTypeForm(FlaskForm):
    membership_type_id = RadioField("Membership type", coerce=int, validators=[DataRequired(message="Choose a membership type.")])


class RefundForm(FlaskForm):
    amount_cents = MoneyField("Amount to refund", validators=[required_money])
    reason = TextAreaField("Reason", validators=[DataRequired(message="Say why the money is refunded."), Length(max=500)])
    term_action = SelectField("The membership term it paid for", choices=[
        (TermAction.KEEP.value, "Keep the term as it is"),
        (TermAction.SHORTEN.value, "Shorten the term (end it on the date below)"),
        (TermAction.VOID.value, "Void the term (as if never bought)"),
    ], default=TermAction.KEEP.value)
    new_term_end = DateField("New last day of the term", validators=[Optional()])


class AutoRenewForm(FlaskForm):
    enabled = BooleanField("Renew automatically with my saved card")
