"""Chapter pages: the public directory, rosters for officers, staff administration."""
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from chapter.auth import claims, notices
from chapter.auth.services import find_user_by_email
from chapter.chapters import audit_text, bp, exports, imports, roster_listing, services
from chapter.chapters.forms import (
    AppointOfficerForm,
    BulkTransferForm,
    ChapterForm,
    DistrictForm,
    DistrictManagerForm,
    EndOfficerTermForm,
    MemberNoteForm,
    RosterImportForm,
    TransferRequestForm,
)
from chapter.chapters.models import Chapter, District, OfficerPosition, OfficerTerm, RosterImport, RosterImportStatus, TransferRequest
from chapter.core import audit, caching
from chapter.core.confirm import confirmation_page, dry_run, is_confirmed
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.formatting import format_date
from chapter.core.forms import attach_domain_error
from chapter.core.models import today, utcnow
from chapter.core.text import fold
from chapter.core.pagination import requested_page
from chapter.core.params import db_int
from chapter.core.permissions import current_roles, staff_required
from chapter.extensions import db, limiter
from chapter.members.models import Member, MembershipStatus
from chapter.members.services import get_member_by_number, membership_type_options


def get_chapter_or_404(
    number: int, *, roster: bool = False, manage_officers: bool = False, export: bool = False,
    manage_members: bool = False, notes: bool = False, audit_log: bool = False,
) -> Chapter:
    """Load a chapter by number and check the current user's right to what they asked for."""
    chapter = services.get_chapter_by_number(number)
    if chapter is None:
        abort(404)
    roles = current_roles()
    checks = [
        (roster, roles.can_view_roster), (manage_officers, roles.can_manage_officers),
        (export, roles.can_export_roster), (manage_members, roles.can_manage_members),
        (notes, roles.can_write_notes), (audit_log, roles.can_read_audit_log),
    ]
    if any(wanted and not allowed(chapter) for wanted, allowed in checks):
        abort(403)
    return chapter


@bp.get("/chapters")
def directory():
    """Public directory: chapters by district with their officers (names and positions only)."""
    search = request.args.get("q", "")[:100].strip()
    day = today()
    etag = caching.version_tag("directory", services.directory_version(day), fold(search))
    if (unchanged := caching.not_modified(etag)) is not None:
        return unchanged
    listing = caching.fragments.get_or_render(etag, lambda: render_template(
        "chapters/_directory_listing.html", groups=services.directory(day, search=search), search=search))
    return caching.cacheable(render_template("chapters/directory.html", listing=listing, search=search), etag)


@bp.get("/chapters/<int:number>")
def chapter_page(number: int):
    """A chapter's public page: district, city, officers."""
    chapter = get_chapter_or_404(number)
    day = today()
    from chapter.events import listing as event_listing  # the chapter's upcoming events (issue 12)

    now = utcnow()
    etag = caching.version_tag("chapter", chapter.id, services.chapter_page_version(chapter.id, day, now))
    if (unchanged := caching.not_modified(etag)) is not None:
        return unchanged

    def render() -> str:
        officers = [t for t in services.chapter_officer_terms(chapter) if t.is_current(day)]
        contact = next((t for t in officers if t.position.code in ("secretary", "vp_membership", "president")), None)
        return render_template("chapters/chapter.html", chapter=chapter, officers=officers, contact=contact,
                               events=event_listing.upcoming_for_chapter(chapter.id, now),
                               can_view_roster=current_roles().can_view_roster(chapter))

    if caching.is_shared_view():  # a visitor's page is the same for every visitor: rendered once per version
        return caching.cacheable(caching.fragments.get_or_render(f"chapter-page:{etag}", render), etag)
    return caching.cacheable(render(), etag)


@bp.get("/rosters")
@login_required
def my_rosters():
    """The chapters whose roster the current user may see: their own, their district's, or all."""
    roles = current_roles()
    if not (roles.is_staff or roles.is_district_manager or roles.is_officer):
        abort(403)
    search = request.args.get("q", "")[:100]
    page = services.chapters_page(search, requested_page(request.args), 50, visible_to=roles)
    return render_template("chapters/my_rosters.html", page=page, search=search)


@bp.get("/chapters/<int:number>/roster")
@login_required
def roster(number: int):
    """The chapter's members for its officers: search, filters, ready-made views, sort, pages."""
    from chapter.certifications.services import certification_codes  # issue 4's catalogue (no import cycle)

    chapter = get_chapter_or_404(number, roster=True)
    query = _roster_query()
    counts = services.roster_counts(chapter)
    page = roster_listing.roster_rows_page(chapter, query, current_app.config["ROSTER_PAGE_SIZE"], counts=counts)
    roles = current_roles()
    with_login = claims.members_with_login(page.items)
    return render_template(
        "chapters/roster.html", chapter=chapter, page=page, query=query,
        counts=counts, statuses=list(MembershipStatus), views=list(services.RosterView),
        membership_types=membership_type_options(), certification_codes=certification_codes(),
        can_export=roles.can_export_roster(chapter), can_manage_members=roles.can_manage_members(chapter),
        can_read_audit_log=roles.can_read_audit_log(chapter), with_login=with_login,
        can_message=roles.can_message_members(chapter),
        to_invite=[m.member_number for m in page.items if m.id not in with_login and m.email],
    )


@bp.post("/chapters/<int:number>/invitations")
@login_required
@limiter.limit(lambda: current_app.config["CLAIM_INVITE_RATE_LIMIT"], key_func=lambda: f"invite:{current_user.id}")
def invite_members(number: int):
    """Officers invite members without a log-in (one, or all on screen) to claim their account."""
    chapter = get_chapter_or_404(number, manage_members=True)
    back = request.form.get("back", "")
    back = back if back.startswith(f"/chapters/{number}/") and "\n" not in back and "\r" not in back else \
        url_for("chapters.roster", number=number)
    if not FlaskForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(back)
    members = claims.roster_members_by_number(chapter.id, request.form.getlist("member")[:500])
    batch = claims.invite_roster_members(
        members, chapter_id=chapter.id, actor=current_user,
        cooldown=timedelta(hours=current_app.config["CLAIM_INVITE_COOLDOWN_HOURS"]))
    failed = [m for m in batch.invited if not notices.try_send_claim_link(m, reason="officer_invitation")]
    db.session.commit()
    sent = len(batch.invited) - len(failed)
    parts = [f"{sent} invitation{'s' if sent != 1 else ''} sent"]
    if batch.recently_invited:
        parts.append(f"{len(batch.recently_invited)} already invited in the last "
                     f"{current_app.config['CLAIM_INVITE_COOLDOWN_HOURS']} hours")
    if batch.has_account:
        parts.append(f"{len(batch.has_account)} already ha{'ve' if len(batch.has_account) != 1 else 's'} an account")
    if batch.no_email:
        parts.append(f"{len(batch.no_email)} without an e-mail address")
    if batch.opted_out:
        parts.append(f"{len(batch.opted_out)} asked for no chapter mail")
    if failed:
        parts.append(f"{len(failed)} could not be e-mailed now; try again later")
    flash("; ".join(parts) + ".", "success" if sent else "info")
    return redirect(back)


def _roster_query() -> services.RosterQuery:
    """The roster's search, filters, view, sort and page from the query string; nonsense is ignored."""
    return services.RosterQuery.from_args(request.args)


@bp.post("/chapters/<int:number>/roster.csv")
@login_required
def export_roster(number: int):
    """The list on screen as CSV, streamed; who exported what, and how many rows, is logged first.

    A POST (the Export CSV button, with its CSRF token): the export is written to the audit log, and a
    GET changes nothing.
    """
    chapter = get_chapter_or_404(number, export=True)
    query = _roster_query()
    day = today()
    rows = services.roster_count(chapter, query, day)
    exports.record_export(chapter, query, rows=rows, actor=current_user)
    filename = exports.export_filename(chapter, day)
    db.session.commit()
    response = Response(stream_with_context(exports.export_csv(chapter, query, day)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Row-Count"] = str(rows)
    return response


def _invite_if_no_login(member: Member | None, *, reason: str, detail: str) -> bool:
    """Send the claim link to a member who cannot log in yet (recorded); True when it went."""
    if member is None or claims.has_login(member) or not member.email:
        return False
    claims.record_invitation(member, reason=reason, actor=current_user)
    return notices.try_send_claim_link(member, reason=reason, detail=detail)


def _roster_member_or_404(chapter: Chapter, member_number: str) -> Member:
    member = services.get_roster_member(chapter, member_number)
    if member is None:
        abort(404)
    return member


@bp.get("/chapters/<int:number>/members/<member_number>")
@login_required
def member_record(number: int, member_number: str):
    """An officer's view of one member of their chapter: contact, terms, chapter history, notes, payments."""
    chapter = get_chapter_or_404(number, roster=True)
    member = _roster_member_or_404(chapter, member_number)
    form = MemberNoteForm(noted_on=today()) if current_roles().can_write_notes(chapter) else None
    return _render_member_record(chapter, member, form)


def _render_member_record(chapter: Chapter, member: Member, note_form: MemberNoteForm | None):
    from chapter.certifications import services as certification_services

    roles = current_roles()
    certifications = [(held, certification_services.status_of(held, today()))
                      for held in certification_services.certifications_of(member)]
    from chapter.members.eligibility import eligibility_of

    return render_template("chapters/member_record.html", chapter=chapter, member=member,
                           record=services.member_record(chapter, member), note_form=note_form,
                           can_read_audit_log=roles.can_read_audit_log(chapter), certifications=certifications,
                           eligibility=eligibility_of(member))


@bp.post("/chapters/<int:number>/members/<member_number>/notes")
@login_required
def add_member_note(number: int, member_number: str):
    """An officer keeps a dated note on a member."""
    chapter = get_chapter_or_404(number, notes=True)
    member = _roster_member_or_404(chapter, member_number)
    form = MemberNoteForm()
    if form.validate_on_submit():
        try:
            services.add_note(chapter, member, noted_on=form.noted_on.data, body=form.body.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash("The note is saved.", "success")
            return redirect(url_for("chapters.member_record", number=number, member_number=member_number) + "#notes")
    return _render_member_record(chapter, member, form), 400


# --- Import ------------------------------------------------------------------------------

@bp.route("/chapters/<int:number>/import", methods=["GET", "POST"])
@login_required
def import_roster(number: int):
    """Upload a CSV file of members; nothing is written before the preview is confirmed."""
    chapter = get_chapter_or_404(number, manage_members=True)
    form = RosterImportForm()
    limit = imports.MAX_IMPORT_BYTES
    if request.method == "POST" and (request.content_length or 0) > limit + 64 * 1024:
        # Refused before the body is read: say why instead of a bare "413".
        form.file.errors = [f"The file is larger than {limit // (1024 * 1024)} MB. Split it into smaller files."]
        return render_template("chapters/import_upload.html", chapter=chapter, form=form,
                               columns=imports.FIELD_LABELS.values()), 413
    request.max_content_length = limit + 64 * 1024
    if form.validate_on_submit():
        upload_file = form.file.data
        try:
            upload, _plan = imports.store_upload(chapter, filename=upload_file.filename or "roster.csv",
                                                 content=upload_file.read(limit + 1), actor=current_user)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            return redirect(url_for("chapters.import_preview", number=number, token=upload.token))
    return render_template("chapters/import_upload.html", chapter=chapter, form=form,
                           columns=imports.FIELD_LABELS.values()), (400 if form.is_submitted() else 200)


def _upload_or_404(chapter: Chapter, token: str) -> RosterImport:
    upload = imports.get_upload(chapter, token, actor=current_user)
    if upload is None:
        abort(404)
    return upload


@bp.get("/chapters/<int:number>/import/<token>")
@login_required
def import_preview(number: int, token: str):
    """How many rows are new, matched or invalid, every invalid row with its line and reason."""
    chapter = get_chapter_or_404(number, manage_members=True)
    upload = _upload_or_404(chapter, token)
    if upload.status is not RosterImportStatus.PREVIEWED:
        flash(f"{upload.filename} has already been {upload.status.value}.", "info")
        return redirect(url_for("chapters.import_roster", number=number))
    plan = imports.preview_upload(upload)
    return render_template("chapters/import_preview.html", chapter=chapter, upload=upload, plan=plan,
                           form=FlaskForm())


@bp.post("/chapters/<int:number>/import/<token>")
@login_required
def import_confirm(number: int, token: str):
    """Write the previewed file: every row or, if anything is wrong, none."""
    chapter = get_chapter_or_404(number, manage_members=True)
    upload = _upload_or_404(chapter, token)
    if not FlaskForm().validate_on_submit():
        flash("Your form expired. Please confirm again.", "danger")
        return redirect(url_for("chapters.import_preview", number=number, token=token))
    try:
        result = imports.confirm_upload(upload, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("chapters.import_preview", number=number, token=token))
    db.session.commit()
    flash(f"Imported: {result.created:,} new member{'s' if result.created != 1 else ''}, "
          f"{result.updated:,} updated, {result.unchanged:,} unchanged.", "success")
    return redirect(url_for("chapters.roster", number=number))


@bp.post("/chapters/<int:number>/import/<token>/discard")
@login_required
def import_discard(number: int, token: str):
    """Give up an uploaded file without importing it."""
    chapter = get_chapter_or_404(number, manage_members=True)
    upload = _upload_or_404(chapter, token)
    if FlaskForm().validate_on_submit():
        imports.discard_upload(upload, actor=current_user)
        db.session.commit()
        flash(f"{upload.filename} was not imported.", "info")
    return redirect(url_for("chapters.import_roster", number=number))


# --- Transfers ---------------------------------------------------------------------------

@bp.route("/chapters/<int:number>/transfers", methods=["GET", "POST"])
@login_required
def chapter_transfers(number: int):
    """Moves into and out of the chapter, requests waiting for members, and a form to ask a member to move here."""
    chapter = get_chapter_or_404(number, roster=True)
    can_request = current_roles().can_manage_members(chapter)
    form = TransferRequestForm() if can_request else None
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            try:
                transfer_request = services.request_transfer(chapter, member_number=form.member_number.data,
                                                             last_name=form.last_name.data, actor=current_user)
            except DomainError as error:
                db.session.rollback()
                attach_domain_error(form, error)
            else:
                invited = _invite_if_no_login(
                    transfer_request.member, reason="transfer_request",
                    detail=f"{chapter.display_name} asks you to make it your home chapter.")
                db.session.commit()
                flash(f"{transfer_request.member.full_name} is asked to confirm the move to {chapter.display_name}."
                      + (" They have no log-in yet: we e-mailed them a link to set their password." if invited else ""),
                      "success")
                return redirect(url_for("chapters.chapter_transfers", number=number))
    return render_template(
        "chapters/transfers.html", chapter=chapter, form=form, page=services.chapter_transfers_page(chapter, requested_page(request.args)),
        waiting=services.chapter_transfer_requests(chapter), cancel_form=FlaskForm(),
    ), (400 if request.method == "POST" else 200)


@bp.post("/chapters/<int:number>/transfer-requests/<int:request_id>/cancel")
@login_required
def cancel_transfer_request(number: int, request_id: int):
    """The requesting chapter withdraws a request the member has not answered."""
    chapter = get_chapter_or_404(number, manage_members=True)
    transfer_request = db.session.get(TransferRequest, request_id)
    if transfer_request is None or transfer_request.to_chapter_id != chapter.id:
        abort(404)
    if FlaskForm().validate_on_submit():
        try:
            services.cancel_transfer_request(transfer_request, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash("The request is withdrawn.", "info")
    return redirect(url_for("chapters.chapter_transfers", number=number))


@bp.post("/transfer-requests/<int:request_id>/<any(confirm, decline):answer>")
@login_required
def answer_transfer_request(request_id: int, answer: str):
    """The member accepts or declines a chapter's request to move there."""
    transfer_request = db.session.get(TransferRequest, request_id)
    if transfer_request is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        flash("Your form expired. Please answer again.", "danger")
        return redirect(url_for("members.dashboard"))
    try:
        if answer == "confirm":
            services.confirm_transfer_request(transfer_request, actor=current_user)
        else:
            services.decline_transfer_request(transfer_request, actor=current_user)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("members.dashboard"))
    db.session.commit()
    chapter_name = transfer_request.to_chapter.display_name
    flash(f"Your home chapter is now {chapter_name}." if answer == "confirm" else
          f"You stay in your chapter; {chapter_name} is told you declined.", "success")
    return redirect(url_for("members.dashboard"))


@bp.route("/admin/transfers", methods=["GET", "POST"])
@staff_required
def admin_transfers():
    """Staff move many members to another chapter at once (e.g. when chapters merge)."""
    form = BulkTransferForm(effective_on=today())
    if form.validate_on_submit():
        to_chapter = services.get_chapter_by_number(form.to_chapter.data)
        confirmed = is_confirmed()
        try:
            if to_chapter is None:
                raise DomainError(f"There is no chapter #{form.to_chapter.data}.", field="to_chapter")
            with dry_run(not confirmed):  # first time: find out exactly who would move, then ask
                moved, already_there = services.transfer_members(
                    services.parse_member_numbers(form.member_numbers.data), to_chapter, actor=current_user,
                    reason=form.reason.data, on=form.effective_on.data,
                )
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            if not confirmed:
                return _confirm_bulk_transfer(form, to_chapter, len(moved), already_there)
            db.session.commit()
            flash(f"{len(moved):,} member{'s' if len(moved) != 1 else ''} moved to {to_chapter.display_name}"
                  + (f"; {already_there:,} already there." if already_there else "."), "success")
            return redirect(url_for("chapters.chapter_transfers", number=to_chapter.number))
    return render_template("chapters/admin_transfers.html", form=form), (400 if form.is_submitted() else 200)


def _confirm_bulk_transfer(form: BulkTransferForm, to_chapter, moving: int, already_there: int):
    """Say how many members would move where and when, and ask once more."""
    who = f"{moving:,} member{'s' if moving != 1 else ''}"
    consequences = [f"{who} move to {to_chapter.display_name} on {format_date(form.effective_on.data)}: it becomes "
                    "their home chapter and their chapter history shows the move.",
                    "Their past payments keep the chapter share they were made with; new ones go to the new chapter.",
                    "All move or none; the move is recorded in the audit log with your name."]
    if already_there:
        consequences.insert(1, f"{already_there:,} of the numbers given already belong to {to_chapter.display_name} "
                               "and stay as they are.")
    return confirmation_page(
        heading=f"Move {who} to {to_chapter.display_name}?", consequences=consequences,
        action=url_for("chapters.admin_transfers"), confirm_label=f"Yes, move {who}",
        cancel_url=url_for("chapters.admin_transfers"), danger=False,
        fields={"member_numbers": form.member_numbers.data, "to_chapter": str(form.to_chapter.data),
                "effective_on": form.effective_on.data.isoformat(), "reason": form.reason.data or ""})


# --- Audit log ---------------------------------------------------------------------------

@bp.get("/chapters/<int:number>/audit")
@login_required
def audit_log(number: int):
    """Who changed what in the chapter, newest first; by member or by person acting."""
    chapter = get_chapter_or_404(number, audit_log=True)
    member_number = request.args.get("member", "").strip()[:20]
    member = get_member_by_number(member_number) if member_number else None
    actor_id = db_int(request.args.get("actor"))
    query = audit.AuditQuery(member_id=member.id if member else (-1 if member_number else None),
                             actor_id=actor_id, page=requested_page(request.args))
    page = audit.chapter_log(chapter.id, query)
    zone = audit_text.chapter_zone(chapter)
    return render_template("chapters/audit_log.html", chapter=chapter, page=page,
                           actors=audit.chapter_log_actors(chapter.id), member_number=member_number,
                           member=member, actor_id=actor_id, sentences=audit_text.sentences(page.items),
                           local_time=lambda moment: audit_text.local_time(moment, zone), zone=zone)


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
    page = services.chapters_page(search, requested_page(request.args), 50)
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
        member = None if user is not None else claims.member_by_email(form.email.data)
        position = db.session.get(OfficerPosition, form.position_id.data)
        try:
            if user is None and member is None:
                raise DomainError("No account uses this e-mail address, and no member record either. Ask them to register first.",
                                  field="email")
            if position is None:
                raise DomainError("Choose a position.", field="position_id")
            if user is None:
                user = claims.ensure_login(member)  # no usable password until they claim it
            services.appoint_officer(chapter, user=user, position=position, starts_on=form.starts_on.data,
                                     ends_on=form.ends_on.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            invited = _invite_if_no_login(user.member, reason="officer_appointment",
                                          detail=f"You are {position.title} of {chapter.display_name}.")
            db.session.commit()
            flash(f"{user.name} is appointed {position.title}."
                  + (" They have no log-in yet: we e-mailed them a link to set their password." if invited else ""),
                  "success")
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
    if not is_confirmed():
        last_day = format_date(form.ends_on.data)
        return confirmation_page(
            heading=f"End {term.user.name}'s term as {term.position.title} on {last_day}?",
            consequences=[f"{term.user.name} is {term.position.title} of {chapter.display_name} until {last_day}, "
                          "and no longer from the next day.",
                          "From then on they lose what the position lets them do (the roster, exports, officers, "
                          "money pages), unless they hold another position.",
                          "The end of the term is recorded in the chapter's audit log."],
            action=url_for("chapters.end_officer_term", number=number, term_id=term.id),
            fields={"ends_on": form.ends_on.data.isoformat()}, confirm_label=f"Yes, end the term on {last_day}",
            cancel_url=url_for("chapters.officers", number=number))
    try:
        services.end_officer_term(term, ends_on=form.ends_on.data, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(f"{term.user.name}'s term as {term.position.title} ends on {term.ends_on}.", "success")
    return redirect(url_for("chapters.officers", number=number))
