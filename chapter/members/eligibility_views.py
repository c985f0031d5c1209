"""Pages for eligibility: the member declares it when choosing Retired or Student; staff review it."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error, strip_filter
from chapter.core.models import today
from chapter.core.permissions import staff_required
from chapter.extensions import db
from chapter.members import bp
from chapter.members import eligibility
from chapter.members.models import MembershipKind, MembershipType

import sqlalchemy as sa


class RetiredForm(FlaskForm):
    date_of_birth = DateField("Date of birth", validators=[Optional()])
    retirement_declared = BooleanField("I declare that I have retired")


class StudentForm(FlaskForm):
    school = StringField("School, college or university", filters=[strip_filter],
                         validators=[DataRequired(message="Enter your school."), Length(max=200)])
    expected_graduation = DateField("Expected graduation date",
                                    validators=[DataRequired(message="Enter the date as YYYY-MM-DD.")])


class EligibilityReviewForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
    note = StringField("Note (optional)", filters=[strip_filter], validators=[Optional(), Length(max=300)])


NEXT_PAGES = {"join": "members.join", "renew": "members.renew", "change": "members.change_type"}


@bp.route("/membership/eligibility/<type_code>", methods=["GET", "POST"])
@login_required
def declare_eligibility(type_code: str):
    """Say what makes you eligible for a Retired or Student membership, then go on to pay."""
    member = current_user.member or abort(404)
    membership_type = db.session.scalar(sa.select(MembershipType).where(MembershipType.code == type_code)) or abort(404)
    if not eligibility.needs_eligibility(membership_type):
        abort(404)
    retired = membership_type.kind is MembershipKind.RETIRED
    form = RetiredForm() if retired else StudentForm()
    next_page = NEXT_PAGES.get(request.args.get("next", ""), "members.join")
    if form.validate_on_submit():
        fields = ({"date_of_birth": form.date_of_birth.data, "retirement_declared": form.retirement_declared.data}
                  if retired else {"school": form.school.data, "expected_graduation": form.expected_graduation.data})
        try:
            eligibility.declare_eligibility(member, membership_type, day=today(), **fields)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash("Thank you: staff will review what you declared. You can pay now.", "success")
            return redirect(url_for(next_page))
    return render_template("members/eligibility.html", form=form, membership_type=membership_type,
                           min_age=eligibility.min_age_for(membership_type)), (400 if form.is_submitted() else 200)


@bp.get("/admin/eligibility")
@staff_required
def admin_eligibility():
    """Staff see the eligibility declarations waiting for review."""
    return render_template("members/admin_eligibility.html", records=eligibility.eligibility_to_review(),
                           form=EligibilityReviewForm())


@bp.post("/admin/eligibility/<int:record_id>")
@staff_required
def review_eligibility(record_id: int):
    """Staff approve or reject one declaration."""
    record = db.session.get(eligibility.EligibilityRecord, record_id) or abort(404)
    form = EligibilityReviewForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "reject"):
        abort(400)
    try:
        eligibility.review_eligibility(record, approve=form.decision.data == "approve", actor=current_user,
                                       day=today(), note=form.note.data)
    except DomainError as error:
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(f"{record.member.full_name}: {record.status.label.lower()}.", "success")
    return redirect(url_for("members.admin_eligibility"))
