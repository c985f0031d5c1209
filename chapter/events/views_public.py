"""Public event pages: the calendar (district and national), an event's page, Register."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.core.errors import DomainError
from chapter.core.markdown import render_markdown
from chapter.core.models import utcnow
from chapter.core.pagination import requested_page
from chapter.core.params import db_int
from chapter.core.permissions import current_roles
from chapter.events import bp, listing, policy, registration as registrations, seats
from chapter.events.forms import ActionForm, RegisterForm
from chapter.events.models import EventKind, EventStatus, PriceCategory, RegistrationStatus
from chapter.events.times import format_local
from chapter.extensions import db


@bp.get("/events")
def calendar():
    """Every chapter's published events, upcoming first; filters: district, chapter, kind; past events."""
    now = utcnow()
    districts = listing.districts()
    district_code = request.args.get("district", "")
    district = next((d for d in districts if d.code == district_code), None)
    chapter = listing.chapter_by_number(db_int(request.args.get("chapter")))
    kind = next((k for k in EventKind if k.value == request.args.get("kind")), None)
    past = request.args.get("when") == "past"
    page = listing.calendar(now=now, district=district, chapter=chapter, kind=kind, past=past,
                            page=requested_page(request.args))
    taken = seats.seats_taken_by_event([e.id for e in page.items if e.capacity is not None], now)
    return render_template("events/calendar.html", page=page, districts=districts, district=district, chapter=chapter,
                           kind=kind, kinds=list(EventKind), past=past, taken=taken, format_local=format_local)


@bp.get("/events/<int:event_id>")
def event_page(event_id: int):
    """An event: when, what, prices (the visitor's; a member's own once logged in), seats left, Register."""
    from chapter.events.access import get_event_or_404

    event = get_event_or_404(event_id)
    now = utcnow()
    mine = registrations.live_registration(event, current_user) if current_user.is_authenticated else None
    member = current_user.member if current_user.is_authenticated else None
    try:
        yours = policy.price_for(event, member, now.date()) if member is not None else None
    except DomainError:
        yours = None
    visitor_price = event.price_for(PriceCategory.NON_MEMBER)
    manager = current_user.is_authenticated and current_roles().can_manage_events(event.chapter)
    return render_template(
        "events/event.html", event=event, description=render_markdown(event.description_md), mine=mine,
        yours=yours, visitor_price=visitor_price, seats_left=seats.seats_left(event, now), manager=manager,
        open=registrations.registration_open(event, now), form=RegisterForm(), action=ActionForm(),
        show_place=manager or (mine is not None and mine.status is RegistrationStatus.PAID),
        format_local=format_local, EventStatus=EventStatus)


@bp.post("/events/<int:event_id>/register")
@login_required
def register(event_id: int):
    """Register (with guests): a seat held for payment, confirmed at once when free, or the waitlist."""
    from chapter.events.access import get_event_or_404

    event = get_event_or_404(event_id)
    form = RegisterForm()
    if not form.validate_on_submit():
        flash("Your form expired or a guest's name is too long. Please try again.", "danger")
        return redirect(url_for("events.event_page", event_id=event.id))
    try:
        registration = registrations.register(event, user=current_user, guest_names=form.guests)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("events.event_page", event_id=event.id))
    if registration.status is RegistrationStatus.PENDING:
        return redirect(url_for("payments.pay", order_id=registration.order_id))
    if registration.status is RegistrationStatus.WAITLISTED:
        flash(f"The event is full: you are number {registration.waitlist_position} on the waitlist. "
              "We mail you if a seat frees.", "info")
    else:
        flash(f"You are registered for “{event.title}”.", "success")
    return redirect(url_for("events.my_events"))
