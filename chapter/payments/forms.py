"""Forms for choosing what to pay and for refunds."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
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
    # Set by the confirmation page's button: the first submission only shows what will happen.
    confirmed = HiddenField(filters=[lambda value: value == "yes" or value is True])


class TermDecisionForm(FlaskForm):
    """Staff decide what a refund made in Stripe's dashboard does to the membership term."""

    term_action = SelectField("The membership term", choices=[
        (TermAction.KEEP.value, "Keep it"), (TermAction.SHORTEN.value, "Shorten it to the date"),
        (TermAction.VOID.value, "Void it")], default=TermAction.KEEP.value)
    new_term_end = DateField("New last day", validators=[Optional()])


class OfflineOrderPaymentForm(FlaskForm):
    """Staff record a cheque or bank transfer against a member's open order."""

    order_reference = StringField("Order number (ORD-…)", validators=[DataRequired(message="Give the order number."), Length(max=20)])
    amount_cents = MoneyField("Amount received", validators=[required_money])
    received_on = DateField("Date received", validators=[DataRequired(message="Give the date it was received.")])
    reference = StringField("Cheque number or bank reference", validators=[DataRequired(message="Give the cheque number or bank reference."), Length(max=100)])


class AutoRenewForm(FlaskForm):
    enabled = BooleanField("Renew automatically with my saved card")
