"""Corporate membership pages: the organization's dashboard, buying, adding and renewing seats,
naming employees to seats and freeing them. Only the organization's contact person and staff."""
import logging

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.chapters.services import active_chapters
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.forms import attach_domain_error
from chapter.core.mail import send_mail
from chapter.core.models import today
from chapter.core.money import format_money
from chapter.core.pagination import requested_page
from chapter.extensions import db
from chapter.members import bp, corporate
from chapter.members.corporate_forms import AssignSeatForm, OrganizationForm, SeatsForm, StaffOrganizationForm
from chapter.members.models import CorporateMembership, CorporateSeat, Organization

log = logging.getLogger(__name__)


def get_organization_or_404(organization_id: int) -> Organization:
    """Load an organization the current user manages (its contact, or staff)."""
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        abort(404)
    if not corporate.can_manage_organization(organization, current_user):
        abort(403)
    return organization


@bp.get("/organizations")
@login_required
def organizations():
    """The organizations the user is the contact of; staff search them all."""
    search = request.args.get("q", "").strip()[:100]
    page = corporate.all_organizations(search, requested_page(request.args)) if current_user.is_staff else None
    return render_template("members/corporate_list.html", mine=corporate.organizations_of(current_user),
                           page=page, search=search)


@bp.route("/organizations/new", methods=["GET", "POST"])
@login_required
def new_organization():
    """Start a corporate membership: name the organization; the user becomes its contact person."""
    form = StaffOrganizationForm() if current_user.is_staff else OrganizationForm()
    if form.validate_on_submit():
        try:
            contact = None
            if current_user.is_staff and form.contact_email.data:
                from chapter.auth.services import find_user_by_email

                contact = find_user_by_email(form.contact_email.data)
                if contact is None:
                    raise DomainError("No registered user has this e-mail address.", field="contact_email")
            organization = corporate.create_organization(
                name=form.name.data, actor=current_user, contact=contact, billing_email=form.billing_email.data,
                address_line1=form.address_line1.data, city=form.city.data, region=form.region.data,
                postal_code=form.postal_code.data, country=form.country.data)
        except NotAllowed:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"{organization.name} is set up. Now choose how many seats to buy.", "success")
            return redirect(url_for("members.buy_seats", organization_id=organization.id))
    return render_template("members/corporate_new.html", form=form), (400 if form.is_submitted() else 200)


@bp.get("/organizations/<int:organization_id>")
@login_required
def organization_dashboard(organization_id: int):
    """The organization's dashboard: seats used and total, the employees holding them, what can be done."""
    organization = get_organization_or_404(organization_id)
    day = today()
    options = corporate.corporate_options(organization, day)
    shown = options.current or options.latest
    upcoming = corporate.later_corporate_memberships(shown) if shown is not None else []
    holders = corporate.seat_holders(shown, requested_page(request.args)) if shown is not None else None
    return render_template(
        "members/corporate_dashboard.html", organization=organization, options=options, corporate_membership=shown,
        used=corporate.seats_used(shown) if shown is not None else 0, holders=holders, today=day,
        upcoming=[(c, corporate.seats_used(c)) for c in upcoming],
        history=corporate.corporate_memberships(organization),
    )


def _order_page(organization: Organization, form: SeatsForm, start, *, action: str, title: str, intro: str,
                quote: dict | None = None):
    """Shared flow of buying, adding and renewing seats: choose a number, then pay on the payment page."""
    if form.validate_on_submit():
        try:
            order = start(organization, form.seats.data, actor=current_user)
        except NotAllowed:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            return redirect(url_for("payments.pay", order_id=order.id))
    return render_template("members/corporate_order.html", organization=organization, form=form, action=action,
                           title=title, intro=intro, quote=quote or {}), (400 if form.is_submitted() else 200)


@bp.route("/organizations/<int:organization_id>/buy", methods=["GET", "POST"])
@login_required
def buy_seats(organization_id: int):
    """Buy a corporate membership: at least the type's minimum of seats, paid once for all."""
    organization = get_organization_or_404(organization_id)
    options = corporate.corporate_options(organization, today())
    if not options.can_buy:
        flash(options.message, "info")
        return redirect(url_for("members.organization_dashboard", organization_id=organization.id))
    try:
        membership_type = corporate.default_corporate_type()
    except DomainError as error:
        flash(error.message, "warning")
        return redirect(url_for("members.organization_dashboard", organization_id=organization.id))
    form = SeatsForm()
    if not form.is_submitted():
        form.seats.data = membership_type.min_seats or 1
    return _order_page(
        organization, form, corporate.start_corporate_purchase, action="buy", title="Buy a corporate membership",
        intro=f"Each seat costs {format_money(membership_type.join_price_cents, membership_type.currency)} for "
              f"{membership_type.term_months} months, at least {membership_type.min_seats or 1} seats. "
              "The membership starts on the day you pay; then you name an employee to each seat.",
        quote={"unit_cents": membership_type.join_price_cents, "currency": membership_type.currency,
               "min_seats": membership_type.min_seats or 1})


@bp.route("/organizations/<int:organization_id>/add-seats", methods=["GET", "POST"])
@login_required
def add_seats(organization_id: int):
    """Add seats to the current corporate membership, prorated by day for the rest of its term."""
    organization = get_organization_or_404(organization_id)
    day = today()
    current = corporate.current_corporate_membership(organization, day)
    if current is None:
        flash("The organization has no current corporate membership to add seats to.", "info")
        return redirect(url_for("members.organization_dashboard", organization_id=organization.id))
    unit, days_left, days_in_term = corporate.add_seats_quote(current, day)
    form = SeatsForm()
    if not form.is_submitted():
        form.seats.data = 1
    return _order_page(
        organization, form, corporate.start_add_seats, action="add", title="Add seats",
        intro=f"The corporate membership runs until {current.ends_on:%d %b %Y}: {days_left} of its {days_in_term} days "
              "are left, so each new seat costs that part of the yearly price.",
        quote={"unit_cents": unit, "currency": current.membership_type.currency})


@bp.route("/organizations/<int:organization_id>/renew", methods=["GET", "POST"])
@login_required
def renew_seats(organization_id: int):
    """Renew every seat for the next term in one payment; the employees holding seats carry on."""
    organization = get_organization_or_404(organization_id)
    options = corporate.corporate_options(organization, today())
    if not options.can_renew:
        flash(options.message, "info")
        return redirect(url_for("members.organization_dashboard", organization_id=organization.id))
    latest = options.latest
    form = SeatsForm()
    if not form.is_submitted():
        form.seats.data = latest.seats
    return _order_page(
        organization, form, corporate.start_corporate_renewal, action="renew", title="Renew the corporate membership",
        intro=f"{options.message} Everyone holding a seat now ({corporate.seats_used(latest)}) gets the next term "
              "without doing anything.",
        quote={"unit_cents": latest.membership_type.renewal_price_cents, "currency": latest.membership_type.currency})


@bp.route("/organizations/<int:organization_id>/seats", methods=["GET", "POST"])
@login_required
def assign_seat(organization_id: int):
    """Name an employee to a free seat: an existing member by number, or a new person by name and e-mail."""
    organization = get_organization_or_404(organization_id)
    target = corporate.corporate_options(organization, today()).assignable
    if target is None:
        flash("The organization has no current corporate membership: buy or renew seats first.", "info")
        return redirect(url_for("members.organization_dashboard", organization_id=organization.id))
    form = AssignSeatForm()
    form.home_chapter_id.choices = [(0, "Choose later")] + [(c.id, c.display_name) for c in active_chapters()]
    if form.validate_on_submit():
        try:
            assigned = corporate.assign_seat(
                target, actor=current_user, member_number=form.member_number.data, email=form.email.data,
                first_name=form.first_name.data, last_name=form.last_name.data,
                home_chapter_id=form.home_chapter_id.data or None,
                override_reason=form.override_reason.data if current_user.is_staff else None)
        except NotAllowed:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            member = assigned.member
            flash(f"{member.full_name} holds a seat: member number {member.member_number}.", "success")
            for later in assigned.not_carried:
                flash(f"The renewed term from {later.starts_on:%d %b %Y} has no free seat for {member.full_name}: "
                      "add a seat to it once it starts.", "warning")
            _tell_employee(organization, assigned)
            return redirect(url_for("members.organization_dashboard", organization_id=organization.id))
    return render_template("members/corporate_assign.html", organization=organization, form=form,
                           corporate_membership=target, used=corporate.seats_used(target)), (400 if form.is_submitted() else 200)


def _tell_employee(organization: Organization, assigned: corporate.SeatAssignment) -> None:
    """E-mail the employee their member number (and, for a new log-in, a link to choose a password)."""
    member = assigned.member
    if not member.email:
        return
    link = None
    if assigned.login_created and member.user is not None:
        from chapter.auth.services import make_password_reset_token

        token = make_password_reset_token(member.user, current_app.config["SECRET_KEY"])
        link = url_for("auth.reset_password", token=token, _external=True)
    try:
        send_mail(member.email, f"Your membership through {organization.name}", "corporate_seat",
                  member=member, organization=organization, link=link,
                  minutes=current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] // 60,
                  login_url=url_for("auth.login", _external=True),
                  forgot_url=url_for("auth.forgot_password", _external=True))
        db.session.commit()  # the mail is an outbox row, delivered by the worker
    except Exception:  # the seat is given; a mail failure must not undo it or show an error page
        log.exception("could not e-mail member %s about their corporate seat", member.member_number)
        flash(f"We could not e-mail {member.full_name}; tell them their member number.", "warning")


@bp.post("/organizations/<int:organization_id>/seats/<int:seat_id>/release")
@login_required
def release_seat(organization_id: int, seat_id: int):
    """Free a seat: the employee keeps their member record and history, but not the corporate term from today."""
    organization = get_organization_or_404(organization_id)
    seat = db.session.scalar(sa.select(CorporateSeat).join(CorporateMembership).where(
        CorporateSeat.id == seat_id, CorporateMembership.organization_id == organization.id))
    if seat is None:
        abort(404)
    try:
        corporate.release_seat(seat, actor=current_user)
    except NotAllowed:
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(f"The seat of {seat.member.full_name} is free; you can name someone else to it.", "success")
    return redirect(url_for("members.organization_dashboard", organization_id=organization.id))
