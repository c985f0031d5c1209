"""Forms for buying exams, recording results, logging points, applying and verifying."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from chapter.core.forms import strip_filter


class BuyExamForm(FlaskForm):
    """Only the CSRF token: the exam is in the URL."""


class EligibilityForm(FlaskForm):
    basis = SelectField("Basis of eligibility", validators=[DataRequired(message="Choose the basis of your application.")])


class ResultForm(FlaskForm):
    member_number = StringField("Member number", filters=[strip_filter], validators=[DataRequired(), Length(max=20)])
    exam_code = SelectField("Exam", validators=[DataRequired()])
    taken_on = DateField("Date taken", validators=[DataRequired(message="Enter the date as YYYY-MM-DD.")])
    score = IntegerField("Scaled score", validators=[DataRequired(message="Enter a whole number.")])


class ResultsUploadForm(FlaskForm):
    file = FileField("Results file (CSV: member_number, exam_code, date, score)")
    csv_text = HiddenField()


class PointsForm(FlaskForm):
    category_id = SelectField("Activity", coerce=int, validators=[DataRequired()])
    units = IntegerField("Units (hours, events, articles...)", default=1,
                         validators=[DataRequired(), NumberRange(min=1, max=1000)])
    earned_on = DateField("Date", validators=[DataRequired(message="Enter the date as YYYY-MM-DD.")])
    description = StringField("Description", filters=[strip_filter], validators=[DataRequired(), Length(max=300)])
    evidence_url = StringField("Link to evidence (certificate, programme, article; optional)", filters=[strip_filter],
                               validators=[Optional(), Length(max=500)])
    chapter_number = IntegerField("Chapter number, for a chapter event (optional)", validators=[Optional()])


class PointsReviewForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
    note = StringField("Note (optional)", filters=[strip_filter], validators=[Optional(), Length(max=300)])


class ApplyForm(FlaskForm):
    """Only the CSRF token: the certification is in the URL."""


class FellowshipForm(FlaskForm):
    recommended_by = StringField("Certificate number of the CFPIM recommending you", filters=[strip_filter],
                                 validators=[DataRequired(), Length(max=30)])


class ReviewForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])


class VerifyForm(FlaskForm):
    certificate_number = StringField("Certificate number", filters=[strip_filter],
                                     validators=[DataRequired(), Length(max=30)])
    last_name = StringField("Last name", filters=[strip_filter], validators=[DataRequired(), Length(max=100)])


class ExamFeesForm(FlaskForm):
    member_fee = IntegerField("Member fee (cents)", validators=[InputRequired(), NumberRange(min=0)])
    non_member_fee = IntegerField("Non-member fee (cents)", validators=[InputRequired(), NumberRange(min=0)])
    pass_score = IntegerField("Pass mark", validators=[DataRequired()])
    available_until = DateField("On sale until (empty: still offered)", validators=[Optional()])


class CertificationRulesForm(FlaskForm):
    points_required = IntegerField("Points per cycle", validators=[InputRequired(), NumberRange(min=0, max=1000)])
    cycle_years = IntegerField("Cycle (years)", validators=[InputRequired(), NumberRange(min=1, max=20)])
    teaching_cap_percent = IntegerField("Teaching-type cap (%)", validators=[InputRequired(), NumberRange(min=0, max=100)])
    reinstatement_points_per_year = IntegerField("Reinstatement points per extra year suspended",
                                                 validators=[InputRequired(), NumberRange(min=0, max=1000)])
    terminated_after_years = IntegerField("Terminated after (years suspended)",
                                          validators=[InputRequired(), NumberRange(min=1, max=50)])
    application_points_required = IntegerField("Points an application needs (fellowship)", validators=[Optional(), NumberRange(min=0)])
    application_exam_points_cap = IntegerField("Fellowship: most exam points counted", validators=[Optional(), NumberRange(min=0)])
    application_presentation_points_cap = IntegerField("Fellowship: most presentation points counted",
                                                       validators=[Optional(), NumberRange(min=0)])
    application_presentation_years = IntegerField("Fellowship: presentations from the last (years)",
                                                  validators=[Optional(), NumberRange(min=1, max=50)])


class PointCategoryForm(FlaskForm):
    points_per_unit = IntegerField("Points per unit", validators=[InputRequired(), NumberRange(min=0, max=1000)])
