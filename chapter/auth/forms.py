"""Forms for registration, log-in and password reset."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from chapter.core.forms import strip_filter


class RegisterForm(FlaskForm):
    first_name = StringField("First name", filters=[strip_filter], validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Last name", filters=[strip_filter], validators=[DataRequired(), Length(max=100)])
    email = EmailField("E-mail address", filters=[strip_filter],
                       validators=[DataRequired(), Email(message="Enter a valid e-mail address."), Length(max=254)])
    home_chapter_id = SelectField("Home chapter", coerce=int, validators=[Optional()])
    password = PasswordField("Password", validators=[DataRequired()],
                             description="At least 10 characters; a few unusual words are easy to remember and hard to guess.")
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")])


class LoginForm(FlaskForm):
    email = EmailField("E-mail address", filters=[strip_filter], validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail address", filters=[strip_filter],
                       validators=[DataRequired(), Email(message="Enter a valid e-mail address.")])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired()],
                             description="At least 10 characters; a few unusual words are easy to remember and hard to guess.")
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")])


class ClaimAccountForm(FlaskForm):
    password = PasswordField("Choose a password", validators=[DataRequired()],
                             description="At least 10 characters; a few unusual words are easy to remember and hard to guess.")
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired()],
                             description="At least 10 characters; a few unusual words are easy to remember and hard to guess.")
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")])
