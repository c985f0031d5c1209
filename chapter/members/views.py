"""Members' own pages and staff administration of membership types."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.chapters.services import active_chapters
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.models import today
from chapter.core.permissions import staff_required
from chapter.extensions import db
from chapter.members import bp, eligibility, services
from chapter.members.corporate import organizations_of
from chapter.members.dashboard import dashboard_lists
from chapter.members.forms import HomeChapterForm, MembershipTypeForm, ProfileForm
from chapter.members.models import MembershipKind, MembershipTerm, MembershipType


def _own_member():
    """The logged-in user's member record; staff without one are sent elsewhere by callers."""
    return current_user.member


@bp.get("/prices")
def prices():
    """Membership and exam prices (member and non-member), for anyone, logged in or not."""
    from chapter.certifications.services import exams_on_sale
    from chapter.payments.services import purchasable_types

    return render_template("members/prices.html", types=purchasable_types(), exams=exams_on_sale(today()))


@bp.get("/dashboard")
@login_required
def dashboard():
    """The member's home: status, end date, home chapter, member number, terms."""
    member = _own_member()
    if member is None:
        from chapter.chapters.overview import overview_for
        from chapter.core.permissions import current_roles

        roles = current_roles()
        overview = overview_for(roles, today()) if roles.is_staff or roles.is_district_manager else None
        return render_template("members/dashboard_no_member.html", organizations=organizations_of(current_user),
                               overview=overview)
    terms = db.session.scalars(
        sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id)
        .options(sa.orm.joinedload(MembershipTerm.membership_type))
        .order_by(MembershipTerm.starts_on.desc())
    ).all()
    from chapter.certifications.services import benefits_on
    from chapter.payments.services import renewal_options

    from chapter.payments.charge_notices import expected_charge_day

    day = today()
    status = member.status_on(day)
    days_left = (member.paid_through - day).days if member.paid_through else None
    ends_soon = status.value == "active" and days_left is not None and days_left <= 60 and not member.is_lifetime
    # The day automatic renewal charges (never sooner than 7 days after the notice): shown with automatic renewal on.
    auto_charge_on = expected_charge_day(member, day) \
        if ends_soon and member.auto_renew and member.saved_payment_method_id else None
    lists = dashboard_lists(member, current_user)
    return render_template(
        "members/dashboard.html", member=member, status=status, terms=terms, days_left=days_left,
        ends_soon=ends_soon, auto_charge_on=auto_charge_on, home_chapter=lists.home_chapter,
        transfer_requests=lists.transfer_requests, seat_offers=lists.seat_offers,
        history=lists.history, today=day, options=renewal_options(member, day),
        organizations=lists.organizations, benefits=benefits_on(member, day),
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
    chapters = active_chapters()
    form.home_chapter_id.choices = [(0, "Choose a chapter")] + [(c.id, f"{c.display_name} — {c.city or ''}") for c in chapters]
    if not form.is_submitted() and request.args.get("chapter"):  # "Join this chapter" on a chapter's page
        form.home_chapter_id.data = next((c.id for c in chapters if str(c.number) == request.args["chapter"]),
                                         form.home_chapter_id.data)
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


# --- Dues: join, renew, change type, auto-renew ------------------------------------------------

def _choose_type_page(template_action: str, start, title: str, intro: str, options=None):
    """Shared flow of the join / renew / change-type pages: choose a type, then pay."""
    from chapter.payments import services as payment_services
    from chapter.payments.forms import ChooseTypeForm

    member = _own_member()
    if member is None:
        abort(404)
    types = payment_services.renewable_types(member) if template_action == "renew" else payment_services.purchasable_types()
    form = ChooseTypeForm(membership_type_id=member.current_type_id if member.current_type_id in [t.id for t in types] else None)
    form.membership_type_id.choices = [(t.id, t.name) for t in types]
    if form.validate_on_submit():
        chosen = db.session.get(MembershipType, form.membership_type_id.data)
        if template_action in ("join", "renew") and eligibility.needs_eligibility(chosen) \
                and not eligibility.has_standing_declaration(member, chosen):
            return redirect(url_for("members.declare_eligibility", type_code=chosen.code, next=template_action))
        try:
            order = start(member, chosen, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            return redirect(url_for("payments.pay", order_id=order.id))
    day = today()
    quotes = {}
    if template_action == "change":
        for t in types:
            try:
                quotes[t.id] = payment_services.type_change_quote(member, t, day)[0]
            except DomainError:
                quotes[t.id] = None
    return render_template("members/choose_type.html", form=form, types=types, member=member, title=title,
                           intro=intro, action=template_action, quotes=quotes, options=options,
                           status=member.status_on(day)), (400 if form.is_submitted() else 200)


@bp.route("/membership/join", methods=["GET", "POST"])
@login_required
def join():
    """Choose a membership type and pay the join price; the term starts on the payment date."""
    from chapter.payments import services as payment_services

    member = _own_member()
    if member is not None and not payment_services.renewal_options(member, today()).can_join:
        flash("Your membership is current. You can renew it from your dashboard.", "info")
        return redirect(url_for("members.dashboard"))
    return _choose_type_page("join", payment_services.start_join, "Join the association",
                             "Choose your membership. Your first term starts on the day you pay and lasts a year.")


@bp.route("/membership/renew", methods=["GET", "POST"])
@login_required
def renew():
    """Renew from 90 days before the end date through the grace period; no day is lost."""
    from chapter.payments import services as payment_services

    member = _own_member()
    if member is None:
        abort(404)
    options = payment_services.renewal_options(member, today())
    if not options.can_renew:
        flash(options.message, "info")
        return redirect(url_for("members.join") if options.can_join else url_for("members.dashboard"))
    return _choose_type_page("renew", payment_services.start_renewal, "Renew your membership", options.message, options)


@bp.route("/membership/change-type", methods=["GET", "POST"])
@login_required
def change_type():
    """Upgrade for the rest of the term (price difference prorated by day); downgrades wait for renewal."""
    from chapter.payments import services as payment_services

    return _choose_type_page("change", payment_services.start_type_change, "Change your membership type",
                             "An upgrade takes effect today: you pay the difference for the days left in your term. "
                             "A change to a cheaper type takes effect when you renew.")


@bp.route("/membership/auto-renew", methods=["GET", "POST"])
@login_required
def auto_renew():
    """See and switch off automatic renewal; the card is saved when paying with the box ticked."""
    from chapter.payments.forms import AutoRenewForm

    member = _own_member()
    if member is None:
        abort(404)
    form = AutoRenewForm(enabled=member.auto_renew)
    if form.validate_on_submit():
        if form.enabled.data and not member.saved_payment_method_id:
            flash("To turn on automatic renewal, pay your next renewal with the box ticked: that saves your card.", "info")
        else:
            services.set_auto_renew(member, enabled=form.enabled.data, actor=current_user)
            db.session.commit()
            flash("Automatic renewal is " + ("on." if member.auto_renew else "off."), "success")
        return redirect(url_for("members.auto_renew"))
    return render_template("members/auto_renew.html", form=form, member=member)


@bp.get("/membership/card")
@login_required
def replace_card():
    """The card field to save another card for automatic renewal (a SetupIntent, as on the payment page)."""
    from flask import current_app, session

    from chapter.payments.gateway import GatewayError

    member = _own_member()
    if member is None:
        abort(404)
    try:
        setup = services.begin_card_replacement(member)
        db.session.commit()
    except GatewayError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("members.auto_renew"))
    session["card_setup_intent"] = setup.id  # only this SetupIntent may be saved as the member's card
    return render_template("members/replace_card.html", member=member, client_secret=setup.client_secret,
                           stripe_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
                           stripe_js_url=current_app.config["STRIPE_JS_URL"])


@bp.post("/membership/card")
@login_required
def save_card():
    """Keep the card the browser saved (JSON from static/js/card.js); answers where to go next."""
    from flask import jsonify, session

    from chapter.payments.gateway import GatewayError

    member = _own_member()
    setup_intent_id = (request.get_json(silent=True) or {}).get("setup_intent_id")
    if member is None or not setup_intent_id or setup_intent_id != session.get("card_setup_intent"):
        return jsonify(status="failed", message="This card form has expired. Reload the page and try again."), 400
    try:
        services.replace_saved_card(member, setup_intent_id, actor=current_user)
    except (DomainError, GatewayError) as error:
        db.session.rollback()
        return jsonify(status="failed", message=getattr(error, "message", str(error))), 400
    db.session.commit()
    session.pop("card_setup_intent", None)
    flash(f"Your {(member.saved_card_brand or 'card').capitalize()} card ending in {member.saved_card_last4} is saved "
          "for automatic renewal.", "success")
    return jsonify(status="saved", redirect=url_for("members.auto_renew"))


# --- Staff: members, free memberships, unemployed extensions ---------------------------------

@bp.get("/admin/members")
@staff_required
def admin_members():
    """Staff find any member by name, e-mail or member number (paged in SQL)."""
    from chapter.core.pagination import requested_page
    from chapter.members.search import find_members

    search = request.args.get("q", "").strip()[:100]
    return render_template("members/admin_members.html", page=find_members(search, requested_page(request.args), 50),
                           search=search)


@bp.route("/admin/members/<member_number>", methods=["GET", "POST"])
@staff_required
def admin_member(member_number: str):
    """Staff view of a member: terms and payments, free grants and unemployed extensions."""
    from chapter.auth.services import find_user_by_email
    from chapter.members.forms import GrantFreeMembershipForm, UnemployedExtensionForm
    from chapter.payments import services as payment_services

    member = services.get_member_by_number(member_number) or abort(404)
    grant_form = GrantFreeMembershipForm(prefix="grant", starts_on=today())
    grant_form.membership_type_id.choices = [(0, "Choose a type")] + [
        (t.id, t.name) for t in services.membership_types(include_staff_only=True) if not t.is_invoiced]
    extension_form = UnemployedExtensionForm(prefix="extension")
    failed = False
    if request.method == "POST":
        form = grant_form if "grant-membership_type_id" in request.form else extension_form
        if form.validate_on_submit():
            try:
                if form is grant_form:
                    chosen = db.session.get(MembershipType, grant_form.membership_type_id.data)
                    if chosen is None:
                        raise DomainError("Choose a type.", field="membership_type_id")
                    payment_services.free_membership_grant(member, chosen, starts_on=grant_form.starts_on.data, actor=current_user)
                    message = f"{chosen.name} membership granted."
                else:
                    approver = find_user_by_email(extension_form.approver_email.data)
                    if approver is None:
                        raise DomainError("No account uses this e-mail address.", field="approver_email")
                    term = payment_services.grant_unemployed_extension(member, approved_by=approver, actor=current_user)
                    message = f"Extended until {term.ends_on:%d %b %Y}."
            except DomainError as error:
                db.session.rollback()
                attach_domain_error(form, error)
            else:
                db.session.commit()
                flash(message, "success")
                return redirect(url_for("members.admin_member", member_number=member.member_number))
        failed = True
    terms = db.session.scalars(
        sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id)
        .options(sa.orm.joinedload(MembershipTerm.membership_type)).order_by(MembershipTerm.starts_on.desc())
    ).all()
    return render_template(
        "members/admin_member.html", member=member, terms=terms, payments=payment_services.member_payments(member),
        grant_form=grant_form, extension_form=extension_form, status=member.status_on(today()),
        history=services.chapter_history(member),
    ), (400 if failed else 200)


from chapter.members import eligibility_views  # noqa: E402,F401  (eligibility pages register on bp)
