"""Members' own pages and staff administration of membership types."""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from chapter.chapters.services import active_chapters
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.models import today
from chapter.core.permissions import staff_required
from chapter.extensions import db
from chapter.members import bp, services
from chapter.members.forms import HomeChapterForm, MembershipTypeForm, ProfileForm
from chapter.members.models import MembershipKind, MembershipTerm, MembershipType


def _own_member():
    """The logged-in user's member record; staff without one are sent elsewhere by callers."""
    return current_user.member


@bp.get("/dashboard")
@login_required
def dashboard():
    """The member's home: status, end date, home chapter, member number, terms."""
    member = _own_member()
    if member is None:
        return render_template("members/dashboard_no_member.html")
    terms = db.session.scalars(
        sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id)
        .options(sa.orm.joinedload(MembershipTerm.membership_type))
        .order_by(MembershipTerm.starts_on.desc())
    ).all()
    day = today()
    return render_template(
        "members/dashboard.html", member=member, status=member.status_on(day), terms=terms,
        history=services.chapter_history(member), today=day,
    )


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    """The member edits their contact and employment details."""
    member = _own_member()
    if member is None:
        abort(404)
    form = ProfileForm(obj=member)
    if form.validate_on_submit():
        try:
            services.update_profile(member, actor=current_user, **{
                name: getattr(form, name).data for name in services.PROFILE_FIELDS
            })
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash("Your profile is saved.", "success")
            return redirect(url_for("members.dashboard"))
    return render_template("members/profile.html", form=form, member=member), (400 if form.is_submitted() else 200)


@bp.route("/home-chapter", methods=["GET", "POST"])
@login_required
def change_home_chapter():
    """The member picks another home chapter; it takes effect at once and the move is kept."""
    member = _own_member()
    if member is None:
        abort(404)
    form = HomeChapterForm(home_chapter_id=member.home_chapter_id)
    form.home_chapter_id.choices = [(0, "Choose a chapter")] + [(c.id, f"{c.display_name} — {c.city or ''}") for c in active_chapters()]
    if form.validate_on_submit():
        from chapter.chapters.models import Chapter

        chapter = db.session.get(Chapter, form.home_chapter_id.data)
        try:
            if chapter is None:
                raise DomainError("Choose one of the listed chapters.", field="home_chapter_id")
            transfer = services.change_home_chapter(member, chapter, actor=current_user, reason="Changed by the member")
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            if transfer is None:
                flash(f"{chapter.display_name} is already your home chapter.", "info")
            else:
                flash(f"Your home chapter is now {chapter.display_name}.", "success")
            return redirect(url_for("members.dashboard"))
    return render_template(
        "members/home_chapter.html", form=form, member=member, history=services.chapter_history(member)
    ), (400 if form.is_submitted() else 200)


# --- Staff: membership types ---------------------------------------------------------------

@bp.get("/admin/membership-types")
@staff_required
def admin_membership_types():
    """Staff list of membership types with prices and terms."""
    return render_template("members/admin_types.html", types=services.membership_types(include_staff_only=True))


@bp.route("/admin/membership-types/new", methods=["GET", "POST"], defaults={"type_id": None})
@bp.route("/admin/membership-types/<int:type_id>", methods=["GET", "POST"])
@staff_required
def admin_edit_membership_type(type_id: int | None):
    """Staff create or edit a membership type."""
    membership_type = None
    if type_id is not None:
        membership_type = db.session.get(MembershipType, type_id) or abort(404)
    form = MembershipTypeForm(obj=membership_type)
    if membership_type is not None and not form.is_submitted():
        form.kind.data = membership_type.kind.value
    if form.validate_on_submit():
        fields = {name: getattr(form, name).data for name in services.MEMBERSHIP_TYPE_FIELDS}
        fields["kind"] = MembershipKind(fields["kind"])
        try:
            saved = services.save_membership_type(membership_type, **fields)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"Membership type “{saved.name}” is saved.", "success")
            return redirect(url_for("members.admin_membership_types"))
    return render_template(
        "members/admin_type_form.html", form=form, membership_type=membership_type
    ), (400 if form.is_submitted() else 200)
