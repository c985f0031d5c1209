"""A member's own events: My events (registrations, pay for a held or offered seat), cancel with the refund
shown first."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.core.confirm import confirmation_page, is_confirmed
from chapter.core.errors import DomainError
from chapter.core.formatting import format_money
from chapter.core.models import today, utcnow
from chapter.core.pagination import requested_page
from chapter.events import bp, listing, orders, registration as registrations
from chapter.events.access import get_own_registration_or_404
from chapter.events.forms import ActionForm
from chapter.events.models import RegistrationStatus
from chapter.events.times import format_local
from chapter.extensions import db


@bp.get("/my/events")
@login_required
def my_events():
    page = listing.my_registrations(current_user.id, page=requested_page(request.args))
    guests = listing.guests_by_host([r.id for r in page.items])
    return render_template("events/my_events.html", page=page, guests=guests, action=ActionForm(),
                           format_local=format_local, now=utcnow(), RegistrationStatus=RegistrationStatus)


@bp.post("/my/events/<int:registration_id>/pay")
@login_required
def pay_registration(registration_id: int):
    """Pay for a held or offered seat: the order is priced for today, then the card page."""
    registration = get_own_registration_or_404(registration_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("events.my_events"))
    try:
        if registration.status not in (RegistrationStatus.PENDING, RegistrationStatus.OFFERED):
            raise DomainError("This registration is not awaiting payment.")
        registrations.retake_seat(registration, utcnow())
        order = orders.start_order(registration, actor=current_user, day=today())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("events.my_events"))
    return redirect(url_for("payments.pay", order_id=order.id))


@bp.route("/my/events/<int:registration_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_registration(registration_id: int):
    """The refund the policy gives is shown first; money moves only when Yes is posted."""
    registration = get_own_registration_or_404(registration_id)
    if registration.status in (RegistrationStatus.CANCELLED, RegistrationStatus.EXPIRED):
        flash("This registration is already cancelled.", "info")
        return redirect(url_for("events.my_events"))
    if request.method == "POST" and is_confirmed() and ActionForm().validate_on_submit():
        try:
            refunded = registrations.cancel_registration(registration, actor=current_user)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("events.my_events"))
        flash("Your registration is cancelled." + (f" {format_money(refunded, registration.currency)} is refunded "
                                                    "to your card." if refunded else ""), "success")
        return redirect(url_for("events.my_events"))
    quote = registrations.cancellation_quote(registration, utcnow())
    event = registration.event
    consequences = [f"Your registration for “{event.title}” ({format_local(event.starts_at, event.timezone)}) "
                    "is cancelled" + (f", with your {len(quote.registrations) - 1} guest(s)"
                                      if len(quote.registrations) > 1 else "") + "."]
    if quote.paid_cents:
        consequences.append(f"You paid {format_money(quote.paid_cents, registration.currency)}; the cancellation "
                            f"policy gives back {quote.percent}% today: "
                            f"{format_money(quote.refund_cents, registration.currency)} to your card.")
        if quote.materials_fee_cents:
            consequences.append(f"The materials fee ({format_money(quote.materials_fee_cents, registration.currency)}"
                                " per person) is not refunded.")
    consequences.append("Your seat goes to the next person on the waitlist.")
    return confirmation_page(
        heading="Cancel your registration?", consequences=consequences,
        action=url_for("events.cancel_registration", registration_id=registration.id), fields={},
        confirm_label="Cancel my registration", cancel_url=url_for("events.my_events"))
