"""Chapter pages: the public directory, rosters for officers, staff administration."""
import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from chapter.auth.services import find_user_by_email
from chapter.chapters import bp, services
from chapter.chapters.forms import AppointOfficerForm, ChapterForm, DistrictForm, DistrictManagerForm, EndOfficerTermForm
from chapter.chapters.models import Chapter, District, OfficerPosition, OfficerTerm
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.models import today
from chapter.core.permissions import current_roles, staff_required
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus, MembershipTerm
from chapter.members.services import chapter_history


def get_chapter_or_404(number: int, *, roster: bool = False, manage_officers: bool = False) -> Chapter:
    """Load a chapter by number and check the current user's right to what they asked for."""
    chapter = services.get_chapter_by_number(number)
    if chapter is None:
        abort(404)
    roles = current_roles()
    if roster and not roles.can_view_roster(chapter):
        abort(403)
    if manage_officers and not roles.can_manage_officers(chapter):
        abort(403)
    return chapter


def _int_arg(name: str, default: int = 1) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except (TypeError, ValueError):
        return default


@bp.get("/chapters")
def directory():
    """Public directory: chapters by district with their officers (names and positions only)."""
    search = request.args.get("q", "")
    return render_template("chapters/directory.html", groups=services.directory(search=search), search=search)


@bp.get("/chapters/<int:number>")
def chapter_page(number: int):
    """A chapter's public page: district, city, officers."""
    chapter = get_chapter_or_404(number)
    officers = [t for t in services.chapter_officer_terms(chapter) if t.is_current(today())]
    return render_template("chapters/chapter.html", chapter=chapter, officers=officers,
                           can_view_roster=current_roles().can_view_roster(chapter))


@bp.get("/rosters")
@login_required
def my_rosters():
    """The chapters whose roster the current user may see: their own, their district's, or all."""
    roles = current_roles()
    if not (roles.is_staff or roles.is_district_manager or roles.is_officer):
        abort(403)
    search = request.args.get("q", "")[:100]
    page = services.chapters_page(search, _int_arg("page"), 50, visible_to=roles)
    return render_template("chapters/my_rosters.html", page=page, search=search)


@bp.get("/chapters/<int:number>/roster")
@login_required
def roster(number: int):
    """The chapter's members for its officers: search, status filter, sort, pages."""
    chapter = get_chapter_or_404(number, roster=True)
    query = services.RosterQuery(
        search=request.args.get("q", "")[:100],
        status=_enum_arg(MembershipStatus, "status"),
        sort=_enum_arg(services.RosterSort, "sort") or services.RosterSort.NAME,
        descending=request.args.get("dir") == "desc",
        page=_int_arg("page"),
    )
    page = services.roster_page(chapter, query, current_app.config["ROSTER_PAGE_SIZE"])
    return render_template(
        "chapters/roster.html", chapter=chapter, page=page, query=query, today=today(),
        counts=services.roster_counts(chapter), statuses=list(MembershipStatus),
    )


def _enum_arg(enum_class, name: str):
    """A query argument as an enum member; unknown values are ignored rather than failing."""
    try:
        return enum_class(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/chapters/<int:number>/members/<member_number>")
@login_required
def member_record(number: int, member_number: str):
    """An officer's view of one member of their chapter: contact, terms, chapter history."""
    chapter = get_chapter_or_404(number, roster=True)
    member = db.session.scalar(
        sa.select(Member).where(Member.member_number == member_number, Member.home_chapter_id == chapter.id)
    )
    if member is None:
        abort(404)
    terms = db.session.scalars(
        sa.select(MembershipTerm).options(joinedload(MembershipTerm.membership_type))
        .where(MembershipTerm.member_id == member.id).order_by(MembershipTerm.starts_on.desc())
    ).all()
    return render_template("chapters/member_record.html", chapter=chapter, member=member, terms=terms,
                           history=chapter_history(member), status=member.status_on(today()))


# --- Staff administration ----------------------------------------------------------------

@bp.route("/admin/districts", methods=["GET", "POST"])
@staff_required
def admin_districts():
    """Staff list and create districts, and see their managers."""
    form = DistrictForm()
    if form.validate_on_submit():
        try:
            district = services.save_district(None, code=form.code.data, name=form.name.data)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"District {district.name} is added.", "success")
            return redirect(url_for("chapters.admin_districts"))
    return render_template("chapters/admin_districts.html", form=form,
                           districts=services.districts_with_managers()), (400 if form.is_submitted() else 200)


@bp.route("/admin/districts/<int:district_id>", methods=["GET", "POST"])
@staff_required
def admin_district(district_id: int):
    """Staff rename a district and appoint its manager."""
    district = db.session.get(District, district_id) or abort(404)
    form = DistrictForm(obj=district, prefix="district")
    manager_form = DistrictManagerForm(prefix="manager", starts_on=today())
    failed = False
    if request.method == "POST" and "district-name" in request.form:
        if form.validate_on_submit():
            try:
                services.save_district(district, code=form.code.data, name=form.name.data)
            except DomainError as error:
                db.session.rollback()
                attach_domain_error(form, error)
            else:
                db.session.commit()
                flash("The district is saved.", "success")
                return redirect(url_for("chapters.admin_district", district_id=district.id))
        failed = True
    elif request.method == "POST":
        if manager_form.validate_on_submit():
            user = find_user_by_email(manager_form.email.data)
            if user is None:
                manager_form.email.errors.append("No account uses this e-mail address.")
            else:
                services.appoint_district_manager(district, user=user, starts_on=manager_form.starts_on.data, actor=current_user)
                db.session.commit()
                flash(f"{user.name} is district manager of {district.name} from {manager_form.starts_on.data}.", "success")
                return redirect(url_for("chapters.admin_district", district_id=district.id))
        failed = True
    managers = sorted(district.manager_terms, key=lambda t: t.starts_on, reverse=True)
    return render_template("chapters/admin_district.html", district=district, form=form,
                           manager_form=manager_form, managers=managers, today=today()), (400 if failed else 200)


@bp.get("/admin/chapters")
@staff_required
def admin_chapters():
    """Staff list of chapters: searchable, paged."""
    search = request.args.get("q", "")[:100]
    page = services.chapters_page(search, _int_arg("page"), 50)
    return render_template("chapters/admin_chapters.html", page=page, search=search)


@bp.route("/admin/chapters/new", methods=["GET", "POST"], defaults={"number": None})
@bp.route("/admin/chapters/<int:number>/edit", methods=["GET", "POST"])
@staff_required
def admin_edit_chapter(number: int | None):
    """Staff create or edit a chapter."""
    chapter = get_chapter_or_404(number) if number is not None else None
    form = ChapterForm(obj=chapter)
    form.district_id.choices = [(0, "Choose a district")] + [
        (d.id, d.name) for d in db.session.scalars(sa.select(District).order_by(District.name))
    ]
    if form.validate_on_submit():
        fields = {name: getattr(form, name).data for name in services.CHAPTER_FIELDS}
        try:
            saved = services.save_chapter(chapter, **fields)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"{saved.display_name} is saved.", "success")
            return redirect(url_for("chapters.admin_chapters"))
    return render_template("chapters/admin_chapter_form.html", form=form, chapter=chapter), (400 if form.is_submitted() else 200)


@bp.route("/chapters/<int:number>/officers", methods=["GET", "POST"])
@login_required
def officers(number: int):
    """Officer appointments of a chapter, for staff and the chapter's president."""
    chapter = get_chapter_or_404(number, manage_officers=True)
    form = AppointOfficerForm(starts_on=today())
    form.position_id.choices = [(0, "Choose a position")] + [(p.id, p.title) for p in services.officer_positions()]
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        position = db.session.get(OfficerPosition, form.position_id.data)
        try:
            if user is None:
                raise DomainError("No account uses this e-mail address. Ask them to register first.", field="email")
            if position is None:
                raise DomainError("Choose a position.", field="position_id")
            services.appoint_officer(chapter, user=user, position=position, starts_on=form.starts_on.data,
                                     ends_on=form.ends_on.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"{user.name} is appointed {position.title}.", "success")
            return redirect(url_for("chapters.officers", number=number))
    return render_template("chapters/officers.html", chapter=chapter, form=form, today=today(),
                           terms=services.chapter_officer_terms(chapter),
                           end_form=EndOfficerTermForm(ends_on=today())), (400 if form.is_submitted() else 200)


@bp.post("/chapters/<int:number>/officers/<int:term_id>/end")
@login_required
def end_officer_term(number: int, term_id: int):
    """End an officer's term on a given last day."""
    chapter = get_chapter_or_404(number, manage_officers=True)
    term = db.session.get(OfficerTerm, term_id)
    if term is None or term.chapter_id != chapter.id:
        abort(404)
    form = EndOfficerTermForm()
    if not form.validate_on_submit():
        flash("Enter the last day of the term.", "danger")
        return redirect(url_for("chapters.officers", number=number))
    try:
        services.end_officer_term(term, ends_on=form.ends_on.data, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(f"{term.user.name}'s term as {term.position.title} ends on {term.ends_on}.", "success")
    return redirect(url_for("chapters.officers", number=number))
