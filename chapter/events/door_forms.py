"""Forms of the door: a walk-in registered and paid at the door."""
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional

from chapter.core.forms import strip_filter


class WalkInForm(FlaskForm):
    name = StringField("Name", filters=[strip_filter], validators=[DataRequired("Enter the attendee's name."), Length(max=200)])
    email = EmailField("E-mail (for the receipt and the certificate)", filters=[strip_filter],
                       validators=[Optional(), Email("Enter a valid e-mail address."), Length(max=254)])
    category = SelectField("Price", validators=[DataRequired()])
    paid_by = RadioField("Paid by", choices=[("cash", "Cash (recorded now)"), ("card", "Card (pay on this phone)")],
                         default="cash", validators=[DataRequired("Choose how they pay.")])
    submit = SubmitField("Register walk-in")
