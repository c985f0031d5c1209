"""Exam purchase, ATTs, transcripts, public verification and the staff pages for exams and results."""
import io

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from chapter.certifications import bp, services
from chapter.certifications.forms import (
    ApplyForm, BuyExamForm, CertificationRulesForm, EligibilityForm, ExamFeesForm, FellowshipForm, PointCategoryForm,
    PointsForm, ResultForm, ResultsUploadForm, ReviewForm, VerifyForm,
)
from chapter.certifications.models import CertificationApplication, Exam, MemberCertification
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.models import today
from chapter.core.pagination import paginate, requested_page
from chapter.members.search import COUNT_LIMIT
from chapter.core.permissions import staff_required
from chapter.extensions import db, limiter
from chapter.members.models import Member
from chapter.core.spreadsheet import csv_writer


def _own_member_or_404() -> Member:
    """The logged-in user's member record (a registered non-member has a pending one)."""
    if current_user.member is None:
        abort(404)
    return current_user.member


def _exam_or_404(code: str) -> Exam:
    exam = services.exam_by_code(code)
    if exam is None:
        abort(404)
    return exam


def _own_certification_or_404(certification_id: int) -> MemberCertification:
    """A certification of the logged-in member; anyone else's is a 404."""
    held = db.session.get(MemberCertification, certification_id)
    if held is None or current_user.member is None or held.member_id != current_user.member.id:
        abort(404)
    return held


# --- Members ----------------------------------------------------------------------------------

@bp.get("/exams")
@login_required
def exams():
    """The exams on sale, with the price the member pays today and what membership saves."""
    member = _own_member_or_404()
    day = today()
    on_sale, eligible = services.exams_on_sale_for(member.id, day)
    quotes = [services.quote(member, exam, day) for exam in on_sale]
    return render_template("certifications/exams.html", quotes=quotes, member=member, form=BuyExamForm(),
                           eligible=eligible, eligibility_form=_eligibility_form())


def _eligibility_form() -> EligibilityForm:
    form = EligibilityForm()
    form.basis.choices = [("", "Choose…")] + list(services.ELIGIBILITY_BASES.items())
    return form


@bp.post("/exams/<code>/eligibility")
@login_required
def apply_eligibility(code: str):
    """Apply for eligibility to an exam that needs it (CSCP)."""
    member = _own_member_or_404()
    exam = _exam_or_404(code)
    form = _eligibility_form()
    try:
        if not form.validate_on_submit():
            raise DomainError("Choose the basis of your application.")
        services.submit_eligibility(member, exam, form.basis.data, day=today())
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("certifications.exams"))
    db.session.commit()
    flash("Your eligibility application was sent for review.", "success")
    return redirect(url_for("certifications.exams"))


@bp.post("/exams/<code>/buy")
@login_required
def buy_exam(code: str):
    """Start paying for an exam; the ATT is issued when the payment succeeds."""
    member = _own_member_or_404()
    exam = _exam_or_404(code)
    if not BuyExamForm().validate_on_submit():
        abort(400)
    try:
        order = services.start_exam_purchase(member, exam, actor=current_user, day=today())
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("certifications.exams"))
    db.session.commit()
    return redirect(url_for("payments.pay", order_id=order.id))


def _transcript(member: Member, points_form=None, fellowship_form=None, status: int = 200):
    """The transcript page: its points are read once for all certifications (a constant number of queries)."""
    day = today()
    held = services.certifications_of(member)
    categories = services.point_categories()
    points = services.member_points(member.id, categories, with_applications=bool(held))
    summaries = {h.id: services.summary_of(points, h, day, held) for h in held}
    statuses = {h.id: services.status_of(h, day, held) for h in held}
    if points_form is None:
        points_form = PointsForm()
    points_form.category_id.choices = [(c.id, f"{c.name} ({c.points_per_unit} per {c.unit})")
                                       for c in categories if c.kind.claimable]
    return render_template(
        "certifications/transcript.html", member=member, today=day, held=held, summaries=summaries,
        statuses=statuses, registrations=services.registrations_of(member), results=services.results_of(member),
        entries=points.entries, points_form=points_form, apply_form=ApplyForm(),
        fellowship_form=fellowship_form or FellowshipForm(),
    ), status


@bp.get("/transcript")
@login_required
def transcript():
    """The member's exams, attempts, scores, certifications, points and deadlines."""
    return _transcript(_own_member_or_404())


@bp.post("/certifications/<int:certification_id>/maintenance")
@login_required
def apply_maintenance(certification_id: int):
    """Submit a maintenance (or reinstatement) application with the cycle's points."""
    held = _own_certification_or_404(certification_id)
    if not ApplyForm().validate_on_submit():
        abort(400)
    try:
        services.submit_maintenance(held, day=today())
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("certifications.transcript"))
    db.session.commit()
    flash("Your maintenance application was sent for review.", "success")
    return redirect(url_for("certifications.transcript"))


@bp.post("/certifications/fellowship")
@login_required
def apply_fellowship():
    """Apply for CFPIM with a CFPIM holder's recommendation."""
    member = _own_member_or_404()
    form = FellowshipForm()
    if not form.validate_on_submit():
        return _transcript(member, fellowship_form=form, status=400)
    try:
        services.submit_fellowship(member, form.recommended_by.data, day=today())
    except DomainError as error:
        attach_domain_error(form, error)
        return _transcript(member, fellowship_form=form, status=400)
    db.session.commit()
    flash("Your CFPIM application was sent for review.", "success")
    return redirect(url_for("certifications.transcript"))


# --- Public verification ----------------------------------------------------------------------

@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def verify():
    """Employers check a certification with its number and the holder's last name."""
    form = VerifyForm()
    found = None
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("certifications/verify.html", form=form, found=None), 400
        found = services.verify(form.certificate_number.data, form.last_name.data, today())
        if found is None:
            form.form_errors.append("No certification matches that number and last name.")
            return render_template("certifications/verify.html", form=form, found=None), 404
    return render_template("certifications/verify.html", form=form, found=found)


# --- Staff ------------------------------------------------------------------------------------

def _result_form(form=None) -> ResultForm:
    form = form or ResultForm()
    form.exam_code.choices = [(e.code, f"{e.code} – {e.name}") for e in services.all_exams()]
    return form


def _staff_page(result_form=None, upload_form=None, lines=None, csv_text=None, status: int = 200):
    return render_template(
        "certifications/staff.html", exams=services.all_exams(), result_form=_result_form(result_form),
        upload_form=upload_form or ResultsUploadForm(), lines=lines, csv_text=csv_text,
        applications=services.pending_applications(), review_form=ReviewForm(), today=today(),
        certification_types=services.certification_types(), point_categories=services.point_categories(),
    ), status


@bp.get("/staff/exams")
@staff_required
def staff_exams():
    """Exams & results: the catalogue, recording results, importing a file, applications to review."""
    return _staff_page()


@bp.get("/staff/results")
@staff_required
def staff_results():
    """Every recorded result: search by member, filter by exam, sort, pages."""
    search = request.args.get("q", "").strip()[:100]
    exam_code = request.args.get("exam") or None
    sort = request.args.get("sort", "date") if request.args.get("sort") in services.RESULT_SORTS else "date"
    descending = request.args.get("dir", "desc" if sort in ("date", "score") else "asc") == "desc"
    page = paginate(services.results_query(search, exam_code, sort, descending), requested_page(request.args), 50,
                    scalars=False, count_limit=COUNT_LIMIT)
    return render_template("certifications/results.html", page=page, search=search, exam_code=exam_code, sort=sort,
                           descending=descending, exams=services.all_exams())


@bp.post("/staff/results")
@staff_required
def record_result():
    """Record one exam result."""
    form = _result_form()
    if not form.validate_on_submit():
        return _staff_page(result_form=form, status=400)
    member = db.session.scalar(sa.select(Member).where(Member.member_number == form.member_number.data))
    if member is None:
        form.member_number.errors = ["No member has that number."]
        return _staff_page(result_form=form, status=400)
    try:
        result = services.record_exam_result(member, services.exam_by_code(form.exam_code.data), form.taken_on.data,
                                             form.score.data, actor=current_user)
    except DomainError as error:
        attach_domain_error(form, error)
        return _staff_page(result_form=form, status=400)
    db.session.commit()
    flash(f"Result recorded for {member.full_name}: {result.score} ({'pass' if result.passed else 'fail'}).", "success")
    return redirect(url_for("certifications.staff_exams"))


@bp.post("/staff/results/import")
@staff_required
def import_results():
    """Upload a results file: first a preview with every line checked, then the import of all or nothing."""
    form = ResultsUploadForm()
    if not form.validate_on_submit():
        return _staff_page(upload_form=form, status=400)
    confirmed = bool(form.csv_text.data) and request.form.get("confirm") == "1"
    if confirmed:
        text = form.csv_text.data
    elif form.file.data:
        text = form.file.data.read().decode("utf-8-sig", errors="replace")
    else:
        form.file.errors = ["Choose a CSV file."]
        return _staff_page(upload_form=form, status=400)
    try:
        if not confirmed:
            lines = services.parse_results_csv(text)
            return _staff_page(upload_form=form, lines=lines, csv_text=text,
                               status=400 if any(line.errors for line in lines) else 200)
        count = services.import_results(text, actor=current_user)
    except services.ImportRejected as rejected:
        db.session.rollback()
        form.file.errors = [rejected.message]
        return _staff_page(upload_form=form, lines=rejected.lines, status=400)
    except DomainError as error:
        form.file.errors = [error.message]
        return _staff_page(upload_form=form, status=400)
    db.session.commit()
    flash(f"{count} results imported.", "success")
    return redirect(url_for("certifications.staff_exams"))


@bp.post("/staff/applications/<int:application_id>")
@staff_required
def review_application(application_id: int):
    """Approve or reject a maintenance or CFPIM application."""
    application = db.session.get(CertificationApplication, application_id) or abort(404)
    form = ReviewForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "reject"):
        abort(400)
    try:
        if form.decision.data == "approve":
            services.approve_application(application, actor=current_user, day=today())
        else:
            services.reject_application(application, actor=current_user, day=today())
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("certifications.staff_exams"))
    db.session.commit()
    flash(f"Application {'approved' if form.decision.data == 'approve' else 'rejected'}.", "success")
    return redirect(url_for("certifications.staff_exams"))


@bp.route("/staff/exams/<code>/edit", methods=["GET", "POST"])
@staff_required
def edit_exam(code: str):
    """Staff change an exam's fees, pass mark and sale window."""
    exam = _exam_or_404(code)
    form = ExamFeesForm(data=dict(member_fee=exam.member_fee_cents, non_member_fee=exam.non_member_fee_cents,
                                  pass_score=exam.pass_score, available_until=exam.available_until)
                        if request.method == "GET" else None)
    if not form.validate_on_submit():
        return render_template("certifications/edit_exam.html", exam=exam, form=form), \
            400 if request.method == "POST" else 200
    if not exam.score_min <= form.pass_score.data <= exam.score_max:
        form.pass_score.errors = [f"Between {exam.score_min} and {exam.score_max}."]
        return render_template("certifications/edit_exam.html", exam=exam, form=form), 400
    exam.member_fee_cents, exam.non_member_fee_cents = form.member_fee.data, form.non_member_fee.data
    exam.pass_score, exam.available_until = form.pass_score.data, form.available_until.data
    from chapter.core import audit

    audit.record("exam.catalogue_changed", actor=current_user, summary=f"{exam.code} fees or dates changed",
                 after={"member_fee_cents": exam.member_fee_cents, "non_member_fee_cents": exam.non_member_fee_cents})
    db.session.commit()
    flash(f"{exam.code} saved.", "success")
    return redirect(url_for("certifications.staff_exams"))


@bp.get("/staff/magazine.csv")
@staff_required
def magazine_export():
    """The magazine subscription list: active members with a postal address, streamed as CSV."""
    statement = services.magazine_subscribers(today())
    header = ["member_number", "first_name", "last_name", "address_line1", "address_line2", "city", "region",
              "postal_code", "country"]

    def rows():
        buffer = io.StringIO()
        writer = csv_writer(buffer)  # formula-safe cells, like every CSV we produce
        writer.writerow(header)
        yield buffer.getvalue()
        with db.engine.connect() as connection:
            for chunk in connection.execution_options(yield_per=2000).execute(statement).partitions():
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(chunk)
                yield buffer.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=magazine-subscribers.csv"})


@bp.route("/staff/certifications/<code>/edit", methods=["GET", "POST"])
@staff_required
def edit_certification_rules(code: str):
    """Staff change a certification's maintenance rules."""
    certification_type = next((t for t in services.certification_types() if t.code == code), None) or abort(404)
    form = CertificationRulesForm(obj=certification_type if request.method == "GET" else None)
    if not form.validate_on_submit():
        return render_template("certifications/edit_rules.html", title=certification_type.name, form=form), \
            400 if request.method == "POST" else 200
    services.update_certification_rules(certification_type, {name: getattr(form, name).data for name in services.RULE_FIELDS},
                                        actor=current_user)
    db.session.commit()
    flash(f"{certification_type.code} rules saved.", "success")
    return redirect(url_for("certifications.staff_exams"))


@bp.route("/staff/points/<code>/edit", methods=["GET", "POST"])
@staff_required
def edit_point_category(code: str):
    """Staff change the points an activity is worth."""
    category = next((c for c in services.point_categories() if c.code == code), None) or abort(404)
    form = PointCategoryForm(obj=category if request.method == "GET" else None)
    if not form.validate_on_submit():
        return render_template("certifications/edit_rules.html", title=category.name, form=form), \
            400 if request.method == "POST" else 200
    services.update_point_category(category, form.points_per_unit.data, actor=current_user)
    db.session.commit()
    flash(f"{category.name} saved.", "success")
    return redirect(url_for("certifications.staff_exams"))


from chapter.certifications import points_views  # noqa: E402,F401  (the review pages register on bp)
