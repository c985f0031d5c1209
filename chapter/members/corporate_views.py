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
from chapter.auth import notices
from chapter.auth.claims import has_login
from chapter.core.links import public_url
from chapter.members import bp, corporate, corporate_offers
from flask_wtf import FlaskForm
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
        offers=corporate_offers.offers_of(shown) if shown is not None else [], cancel_form=FlaskForm(),
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
        if form.member_number.data:
            return _offer_seat(organization, target, form)
        try:
            assigned = corporate.assign_seat(
                target, actor=current_user, email=form.email.data,
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


def _offer_seat(organization: Organization, target: CorporateMembership, form: AssignSeatForm):
    """An existing member is asked first; the contact learns nothing about them until they accept."""
    try:
        offer = corporate_offers.offer_seat(
            target, member_number=form.member_number.data, actor=current_user,
            override_reason=form.override_reason.data if current_user.is_staff else None)
    except NotAllowed:
        abort(403)
    except DomainError as error:
        db.session.rollback()
        attach_domain_error(form, error)
        return render_template("members/corporate_assign.html", organization=organization, form=form,
                               corporate_membership=target, used=corporate.seats_used(target)), 400
    _tell_offered_member(organization, offer)  # before the commit: the mail may be an outbox row
    db.session.commit()
    flash(f"The holder of member number {offer.member_number} is asked to accept the seat. "
          "They hold it, and you see their name, once they accept.", "success")
    return redirect(url_for("members.organization_dashboard", organization_id=organization.id))


def _tell_offered_member(organization: Organization, offer) -> None:
    """E-mail the member the offer (and, without a log-in, the link that sets their password)."""
    member = offer.member
    if not member.email:
        return
    try:
        if not has_login(member):
            from chapter.auth.claims import record_invitation

            record_invitation(member, reason="corporate_seat", actor=current_user)
        if has_login(member):
            send_mail(member.email, f"{organization.name} offers you a corporate membership seat", "corporate_seat_offer",
                      member=member, organization=organization, link=public_url("members.seat_offer", token=offer.token))
        else:
            notices.send_claim_link(member, reason="corporate_seat",
                                    detail=f"{organization.name} offers you a seat in its corporate membership. "
                                           f"Once your password is set, answer here: "
                                           f"{public_url('members.seat_offer', token=offer.token)}")
    except Exception:  # the offer stands; the member also sees it on their dashboard
        log.exception("could not e-mail member %s about a seat offer", member.member_number)


@bp.route("/seat-offers/<token>", methods=["GET", "POST"])
@login_required
def seat_offer(token: str):
    """The member offered a seat accepts or declines it."""
    offer = corporate_offers.get_offer_by_token(token)
    if offer is None or offer.member.user_id != current_user.id:
        abort(404)
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash("Your form expired. Please answer again.", "danger")
            return redirect(url_for("members.seat_offer", token=token))
        accept = request.form.get("answer") == "accept"
        try:
            if accept:
                assigned = corporate_offers.accept_seat_offer(offer, actor=current_user)
            else:
                corporate_offers.decline_seat_offer(offer, actor=current_user)
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("members.dashboard"))
        db.session.commit()
        name = offer.corporate_membership.organization.name
        if accept:
            flash(f"You hold a corporate seat of {name} until {assigned.seat.corporate_membership.ends_on:%d %b %Y}.",
                  "success")
        else:
            flash(f"You declined the seat of {name}; nothing changed.", "info")
        return redirect(url_for("members.dashboard"))
    return render_template("members/seat_offer.html", offer=offer, form=form)


@bp.post("/organizations/<int:organization_id>/offers/<int:offer_id>/cancel")
@login_required
def cancel_seat_offer(organization_id: int, offer_id: int):
    """The contact withdraws a seat offer not yet answered."""
    organization = get_organization_or_404(organization_id)
    offer = db.session.get(corporate_offers.SeatOffer, offer_id)
    if offer is None or offer.corporate_membership.organization_id != organization.id:
        abort(404)
    if FlaskForm().validate_on_submit():
        try:
            corporate_offers.cancel_seat_offer(offer, actor=current_user)
        except NotAllowed:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "warning")
        else:
            db.session.commit()
            flash(f"The offer to member number {offer.member_number} is withdrawn.", "info")
    return redirect(url_for("members.organization_dashboard", organization_id=organization.id))


def _tell_employee(organization: Organization, assigned: corporate.SeatAssignment) -> None:
    """E-mail a new employee their member number and the link that sets their password."""
    member = assigned.member
    if not member.email:
        return
    link = None
    if assigned.login_created and member.user is not None:
        from chapter.auth.services import make_password_reset_token

        token = make_password_reset_token(member.user, current_app.config["SECRET_KEY"])
        link = public_url("auth.reset_password", token=token)
    try:
        send_mail(member.email, f"Your membership through {organization.name}", "corporate_seat",
                  member=member, organization=organization, link=link,
                  minutes=current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] // 60,
                  login_url=public_url("auth.login"),
                  forgot_url=public_url("auth.forgot_password"))
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
