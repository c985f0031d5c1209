"""The door and after (part B of events): officers' registrations list and CSV, the phone check-in list,
a ticket's check-in page (its QR code's target), walk-ins, attendance made final, tickets, certificates."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.permissions import current_roles
from chapter.events import attendance, bp, door_services, registrations_list
from chapter.events.door_access import can_manage_event, can_run_door, get_event_or_404
from chapter.events.door_forms import WalkInForm
from chapter.events.models import EventStatus, Registration
from chapter.extensions import db


REGISTRATIONS_PAGE_SIZE = 50


def _compose_url(event) -> str | None:
    """The communications page's compose form for this event's registrants, when that feature is installed."""
    if "communications.compose" not in current_app.view_functions:
        return None
    return url_for("communications.compose", number=event.chapter.number, audience="event", event_id=event.id)


@bp.get("/events/<int:event_id>/registrations")
@login_required
def registrations(event_id: int):
    """The event's registrations for its officers: search, filter, sort, pages, counts."""
    event = get_event_or_404(event_id, manage=True)
    query = registrations_list.RegistrationQuery.from_args(request.args)
    page = registrations_list.registrations_page(event, query, REGISTRATIONS_PAGE_SIZE)
    return render_template("events/door_registrations.html", event=event, query=query, page=page,
                           counts=registrations_list.registration_counts(event), filters=registrations_list.FILTERS,
                           sorts=registrations_list.SORTS, compose_url=_compose_url(event),
                           points=attendance.points_worth(event), form=FlaskForm())


@bp.post("/events/<int:event_id>/registrations.csv")
@login_required
def export_registrations(event_id: int):
    """The list on screen as CSV (a POST with its CSRF token); the export is written to the audit log first."""
    event = get_event_or_404(event_id, manage=True)
    query = registrations_list.RegistrationQuery.from_args(request.args)
    rows = registrations_list.export_count(event, query)
    registrations_list.record_export(event, query, rows=rows, actor=current_user)
    db.session.commit()
    response = Response(stream_with_context(registrations_list.export_csv(event, query)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{registrations_list.export_filename(event)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events/<int:event_id>/door")
@login_required
def door(event_id: int):
    """The check-in list for a phone at the door: search by name, one tap per attendee."""
    event = get_event_or_404(event_id, door=True)
    query = registrations_list.RegistrationQuery.from_args(request.args)
    page = door_services.door_page(event, query.search, query.page)
    return render_template("events/door_list.html", event=event, query=query, page=page,
                           counts=registrations_list.registration_counts(event), form=FlaskForm(),
                           can_manage=can_manage_event(current_roles(), event))


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/check-in")
@login_required
def door_check_in(event_id: int, registration_id: int):
    """One tap on the door list: check this registrant in (twice is harmless)."""
    event = get_event_or_404(event_id, door=True)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        abort(404)
    back = url_for("events.door", event_id=event.id, q=request.form.get("q") or None)
    if not FlaskForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(back)
    _check_in_and_tell(registration)
    return redirect(back)


def _check_in_and_tell(registration: Registration) -> None:
    try:
        done = attendance.check_in(registration, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return
    db.session.commit()
    flash(f"{registration.name} checked in." if done else f"{registration.name} was already checked in.",
          "success" if done else "info")


@bp.get("/t/<code>")
def ticket_check_in(code: str):
    """A ticket's QR code opens this: an officer at the door gets one "Check in" button; others see nothing private."""
    registration = door_services.registration_by_code(code)
    if registration is None or registration.event.status is EventStatus.DRAFT:
        abort(404)
    allowed = current_user.is_authenticated and can_run_door(current_roles(), registration.event)
    return render_template("events/door_ticket_check_in.html", registration=registration, event=registration.event,
                           allowed=allowed, form=FlaskForm())


@bp.post("/t/<code>")
@login_required
def ticket_check_in_post(code: str):
    """The one tap on a ticket's check-in page."""
    registration = door_services.registration_by_code(code)
    if registration is None:
        abort(404)
    get_event_or_404(registration.event_id, door=True)
    if FlaskForm().validate_on_submit():
        _check_in_and_tell(registration)
    else:
        flash("Your form expired. Please try again.", "danger")
    return redirect(url_for("events.ticket_check_in", code=code))


@bp.route("/events/<int:event_id>/walk-in", methods=["GET", "POST"])
@login_required
def walk_in(event_id: int):
    """Register someone at the door: paid in cash (recorded) or by card (the same card flow)."""
    event = get_event_or_404(event_id, door=True)
    form = WalkInForm()
    form.category.choices = [(p.category.value, f"{p.category.label}") for p in event.prices] or [("non_member", "Non-member")]
    if form.validate_on_submit():
        try:
            result = door_services.register_walk_in(event, name=form.name.data, email=form.email.data,
                                                     category=form.category.data, paid_by=form.paid_by.data,
                                                     actor=current_user)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            if result.order_id is not None:
                return redirect(url_for("payments.pay", order_id=result.order_id))
            flash(f"{result.registration.name} registered, paid in cash and checked in.", "success")
            return redirect(url_for("events.door", event_id=event.id))
    return render_template("events/door_walk_in.html", event=event, form=form), 400 if form.errors else 200


@bp.post("/events/<int:event_id>/attendance")
@login_required
def make_attendance_final(event_id: int):
    """Close attendance: each attendee is credited the event's points, once."""
    event = get_event_or_404(event_id, manage=True)
    back = url_for("events.registrations", event_id=event.id)
    if not FlaskForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(back)
    try:
        outcome = attendance.make_attendance_final(event, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    db.session.commit()
    flash(f"Attendance is final: {outcome.attendees} attendee(s); {outcome.credited} credited with points now.",
          "success")
    return redirect(back)
