"""Standards pages: a chapter's year counted live, the roster-reviewed action, the report submitted and reviewed."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.chapters.fiscal import FiscalYear, fiscal_year_named, fiscal_year_of
from chapter.chapters.models import Chapter, District
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.models import today
from chapter.core.pagination import paginate, requested_page
from chapter.core.permissions import current_roles
from chapter.extensions import db
from chapter.standards import bp, services
from chapter.standards.evaluation import evaluate, levels
from chapter.standards.forms import ReviewReportForm, RosterReviewedForm, SubmitReportForm
from chapter.standards.models import ReportStatus, StandardsReport


def _chapter_or_404(number: int) -> Chapter:
    """The chapter, for whoever sees its roster (its officers, its district manager, staff)."""
    chapter = db.session.scalar(sa.select(Chapter).where(Chapter.number == number))
    if chapter is None:
        abort(404)
    if not current_roles().can_view_roster(chapter):
        abort(403)
    return chapter


def _year(chapter: Chapter, text: str | None) -> FiscalYear:
    """?fy=2026 is the fiscal year starting in 2026; anything else the current fiscal year."""
    if text and text.isdigit() and len(text) == 4 and 1900 < int(text) < 3000:
        return fiscal_year_named(chapter.fiscal_year_start_month, int(text))
    return fiscal_year_of(chapter.fiscal_year_start_month, today())


def _report_or_404(report_id: int) -> StandardsReport:
    report = db.session.get(StandardsReport, report_id)
    if report is None:
        abort(404)
    if not current_roles().can_view_roster(report.chapter):
        abort(403)
    return report


@bp.get("/chapters/<int:number>/standards")
@login_required
def chapter(number: int):
    """The chapter's standards for a fiscal year: each standard, its evidence, what is missing, the level so far."""
    found = _chapter_or_404(number)
    year = _year(found, request.args.get("fy"))
    return _chapter_page(found, year)


def _chapter_page(found: Chapter, year: FiscalYear, submit_form: SubmitReportForm | None = None, status: int = 200):
    roles = current_roles()
    current = fiscal_year_of(found.fiscal_year_start_month, today())
    years = [current, current.previous(), current.previous().previous()]
    return render_template(
        "standards/chapter.html", chapter=found, year=year, years=years, result=evaluate(found, year),
        levels=levels(), report=services.report_for(found, year),
        can_mark=services.can_mark_roster_reviewed(roles, found), can_submit=services.can_submit(roles, found),
        roster_form=RosterReviewedForm(), submit_form=submit_form or SubmitReportForm(fy=str(year.starts_on.year)),
    ), status


@bp.post("/chapters/<int:number>/standards/roster-reviewed")
@login_required
def mark_roster_reviewed(number: int):
    """An officer records that they reviewed the chapter's roster today."""
    found = _chapter_or_404(number)
    if not services.can_mark_roster_reviewed(current_roles(), found):
        abort(403)
    if not RosterReviewedForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("standards.chapter", number=number))
    review = services.mark_roster_reviewed(found, actor=current_user)
    db.session.commit()
    flash(f"Roster marked reviewed on {review.reviewed_on.isoformat()}.", "success")
    return redirect(url_for("standards.chapter", number=number))


@bp.post("/chapters/<int:number>/standards/submit")
@login_required
def submit(number: int):
    """The president submits the year's report: the standards as counted now, frozen."""
    found = _chapter_or_404(number)
    if not services.can_submit(current_roles(), found):
        abort(403)
    form = SubmitReportForm()
    year = _year(found, form.fy.data)
    if not form.validate_on_submit():
        return _chapter_page(found, year, form, 400)
    try:
        report = services.submit_report(found, year, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        attach_domain_error(form, error)
        return _chapter_page(found, year, form, 400)
    db.session.commit()
    flash(f"The {year.label} standards report went to the district manager.", "success")
    return redirect(url_for("standards.report", report_id=report.id))


@bp.get("/standards/reports/<int:report_id>")
@login_required
def report(report_id: int):
    """A submitted report as it was frozen, printable; the district manager reviews it here."""
    found = _report_or_404(report_id)
    can_review = services.can_review(current_roles(), found.chapter) and found.status is ReportStatus.SUBMITTED
    return render_template("standards/report.html", report=found, result=found.snapshot,
                           review_form=ReviewReportForm() if can_review else None)


@bp.post("/standards/reports/<int:report_id>/review")
@login_required
def review(report_id: int):
    """The district manager approves the report or returns it with a comment."""
    found = _report_or_404(report_id)
    if not services.can_review(current_roles(), found.chapter):
        abort(403)
    form = ReviewReportForm()
    if form.validate_on_submit():
        try:
            services.review_report(found, actor=current_user, approve=form.decision.data == "approve",
                                   comment=form.comment.data)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"Report {found.status.label.lower()}.", "success")
            return redirect(url_for("standards.report", report_id=found.id))
    return render_template("standards/report.html", report=found, result=found.snapshot, review_form=form), 400


@bp.get("/standards/reports")
@login_required
def reports():
    """Staff: every chapter's reports by district and status; a district manager: their district's."""
    roles = current_roles()
    if not (roles.is_staff or roles.is_district_manager):
        abort(403)
    districts = db.session.scalars(sa.select(District).order_by(District.name)).all()
    if not roles.is_staff:
        districts = [d for d in districts if d.id in roles.managed_district_ids]
    chosen = next((d for d in districts if d.code == request.args.get("district")), None)
    status = next((s for s in ReportStatus if s.value == request.args.get("status")), None)
    statement = (sa.select(StandardsReport, Chapter, District)
                 .join(Chapter, Chapter.id == StandardsReport.chapter_id)
                 .join(District, District.id == Chapter.district_id)
                 .where(District.id.in_([chosen.id] if chosen else [d.id for d in districts] or [-1])))
    if status is not None:
        statement = statement.where(StandardsReport.status == status)
    statement = statement.order_by(District.name, StandardsReport.fiscal_year_starts_on.desc(), Chapter.number)
    page = paginate(statement, requested_page(request.args), 50, scalars=False)
    return render_template("standards/reports.html", page=page, districts=districts, chosen=chosen, status=status,
                           statuses=list(ReportStatus))
