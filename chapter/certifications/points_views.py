"""Reviewing claimed maintenance points: staff see every claim, a chapter's VP Education the chapter's events."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from chapter.certifications import bp, services
from chapter.certifications.forms import PointsReviewForm
from chapter.certifications.models import PointEntry
from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.extensions import db


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
