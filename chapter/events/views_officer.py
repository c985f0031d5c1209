"""Officers' event pages: the chapter's events list, new/edit, publish, cancel (confirmed first)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.core.confirm import confirmation_page, is_confirmed
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.pagination import requested_page
from chapter.core.permissions import current_roles
from chapter.events import bp, listing, services
from chapter.events.access import get_chapter_for_events_or_404, get_event_or_404
from chapter.events.forms import ActionForm, EventForm, event_input, fill_form
from chapter.events.models import EventStatus
from chapter.events.times import DEFAULT_TIMEZONE
from chapter.extensions import db


@bp.get("/chapters/<int:number>/events")
def chapter_events(number: int):
    """The chapter's events for its officers: search by title, sort, pages."""
    chapter = get_chapter_for_events_or_404(number)
    search = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "starts")
    sort = sort if sort in listing.OFFICER_SORTS else "starts"
    descending = request.args.get("dir", "desc" if sort == "starts" else "asc") == "desc"
    page = listing.chapter_events(chapter, search=search, sort=sort, descending=descending,
                                  page=requested_page(request.args))
    return render_template("events/chapter_events.html", chapter=chapter, page=page, search=search, sort=sort,
                           descending=descending)


def _save(form: EventForm, save):
    """Validate and save; the form again (with every typed value and messages by the field) otherwise."""
    if form.add_session.data:
        if len(form.sessions.entries) < form.sessions.max_entries:
            form.sessions.append_entry()
        return None
    if not form.validate():
        return None
    try:
        event = save(event_input(form))
    except DomainError as error:
        db.session.rollback()
        attach_domain_error(form, error)
        return None
    db.session.commit()
    return event


@bp.route("/chapters/<int:number>/events/new", methods=["GET", "POST"])
@login_required
def new_event(number: int):
    chapter = get_chapter_for_events_or_404(number)
    form = EventForm()
    if request.method == "GET":
        form.timezone.data = chapter.timezone or DEFAULT_TIMEZONE
        form.venue.data = chapter.meeting_place
        for entry, (days, percent) in zip(form.tiers.entries, [(14, 100), (7, 50), (0, 0)]):
            entry.form.days_before.data, entry.form.percent.data = days, percent
    else:
        event = _save(form, lambda data: services.create_event(chapter, data, actor=current_user,
                                                                roles=current_roles()))
        if event is not None:
            flash(f"“{event.title}” is saved as a draft. Publish it when it is ready.", "success")
            return redirect(url_for("events.event_page", event_id=event.id))
    return render_template("events/event_form.html", form=form, chapter=chapter, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int):
    event = get_event_or_404(event_id, manage=True)
    form = EventForm()
    if request.method == "GET":
        fill_form(form, event)
    else:
        holder = {}

        def save(data):
            holder["changes"] = services.update_event(event, data, actor=current_user, roles=current_roles())
            return event

        if _save(form, save) is not None:
            told = " Registrants are told of the change by mail." if holder.get("changes") and \
                event.status is EventStatus.PUBLISHED else ""
            flash(f"“{event.title}” is saved.{told}", "success")
            return redirect(url_for("events.event_page", event_id=event.id))
    return render_template("events/event_form.html", form=form, chapter=event.chapter, event=event)


@bp.post("/events/<int:event_id>/publish")
@login_required
def publish_event(event_id: int):
    event = get_event_or_404(event_id, manage=True)
    if ActionForm().validate_on_submit():
        try:
            services.publish_event(event, actor=current_user, roles=current_roles())
            db.session.commit()
            flash(f"“{event.title}” is published: members can register.", "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
    return redirect(url_for("events.event_page", event_id=event.id))


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_event(event_id: int):
    """Asks first; on Yes every registrant is refunded in full and told (by a background job)."""
    event = get_event_or_404(event_id, manage=True)
    if request.method == "POST" and is_confirmed() and ActionForm().validate_on_submit():
        try:
            services.cancel_event(event, actor=current_user, roles=current_roles())
            db.session.commit()
            flash(f"“{event.title}” is cancelled. Every registrant is refunded in full and told by mail.", "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        return redirect(url_for("events.event_page", event_id=event.id))
    return confirmation_page(
        heading=f"Cancel “{event.title}”?",
        consequences=["The event is cancelled and taken off the calendar's upcoming list.",
                      "Every registrant who paid is refunded in full, the materials fee included.",
                      "Every registrant and everyone on the waitlist is told by mail.", "This cannot be undone."],
        action=url_for("events.cancel_event", event_id=event.id), fields={}, confirm_label="Cancel the event",
        cancel_url=url_for("events.event_page", event_id=event.id))
