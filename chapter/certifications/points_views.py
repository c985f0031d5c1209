"""Claiming maintenance points with evidence, and reviewing claims: staff see every claim, a chapter's
VP Education the claims for that chapter's events."""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from chapter.certifications import bp, services
from chapter.certifications import views as _views  # the transcript page this form lives on
from chapter.certifications.forms import PointsForm, PointsReviewForm
from chapter.certifications.models import PointCategory, PointEntry
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.models import today
from chapter.extensions import db


@bp.post("/transcript/points")
@login_required
def log_points():
    """Log a professional-development activity for maintenance points."""
    member = _views._own_member_or_404()
    form = PointsForm()
    form.category_id.choices = [(c.id, c.name) for c in services.point_categories() if c.kind.claimable]
    if not form.validate_on_submit():
        return _views._transcript(member, points_form=form, status=400)
    category = db.session.get(PointCategory, form.category_id.data)
    try:
        chapter_id = _chapter_id_for_claim(form.chapter_number.data)
        services.log_points(member, category, form.units.data, form.earned_on.data, form.description.data, day=today(),
                            evidence_url=form.evidence_url.data, chapter_id=chapter_id)
    except DomainError as error:
        attach_domain_error(form, error)
        return _views._transcript(member, points_form=form, status=400)
    db.session.commit()
    flash("Activity claimed: its points count once staff (or the chapter's VP Education) approve it.", "success")
    return redirect(url_for("certifications.transcript"))


def _chapter_id_for_claim(number: int | None) -> int | None:
    from chapter.chapters.models import Chapter

    if number is None:
        return None
    chapter_id = db.session.scalar(sa.select(Chapter.id).where(Chapter.number == number))
    if chapter_id is None:
        raise DomainError("No chapter has that number.", field="chapter_number")
    return chapter_id


@bp.get("/points/review")
@login_required
def review_points_list():
    """The claims waiting for this reviewer."""
    day = today()
    claims = services.claims_to_review(current_user, day)
    if not current_user.is_staff and not claims and not _is_vp_education(day):
        abort(403)
    return render_template("certifications/review_points.html", claims=claims, form=PointsReviewForm())


def _is_vp_education(day) -> bool:
    from chapter.core.permissions import roles_of

    return any(p.code == services.VP_EDUCATION for positions in roles_of(current_user, day).positions_by_chapter.values()
               for p in positions)


@bp.post("/points/<int:entry_id>/review")
@login_required
def review_points(entry_id: int):
    """Approve or reject one claimed activity."""
    entry = db.session.get(PointEntry, entry_id) or abort(404)
    day = today()
    if not services.can_review_points(entry, current_user, day):
        abort(403)
    form = PointsReviewForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "reject"):
        abort(400)
    try:
        services.review_points(entry, approve=form.decision.data == "approve", actor=current_user, day=day,
                               note=form.note.data)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("certifications.review_points_list"))
    db.session.commit()
    flash(f"Claim {'approved' if entry.status.value == 'approved' else 'rejected'}.", "success")
    return redirect(url_for("certifications.review_points_list"))
