"""Officers' messages: compose (preview, test, send now or later), the message page with its progress,
the sent log of a chapter and of every chapter, the daily cap."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.chapters.models import Chapter
from chapter.chapters.services import RosterQuery, get_chapter_by_number
from chapter.communications import audience, bp, composing, schedule, sending
from chapter.communications.forms import CancelForm, ComposeForm, DailyCapForm
from chapter.communications.models import MailCategory, Message
from chapter.communications.sent_log import LogSort, sent_log
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.markdown import render_markdown
from chapter.core.models import today
from chapter.core.pagination import requested_page
from chapter.core.permissions import current_roles, staff_required
from chapter.extensions import db


def get_chapter_or_404(number: int, *, compose: bool = False) -> Chapter:
    """Load a chapter and check the current user's right: compose (the messaging right) or read its sent log."""
    chapter = get_chapter_by_number(number)
    if chapter is None:
        abort(404)
    roles = current_roles()
    if not (roles.can_message_members(chapter) if compose else roles.can_view_roster(chapter)):
        abort(403)
    return chapter


def get_message_or_404(chapter: Chapter, message_id: int) -> Message:
    message = db.session.get(Message, message_id)
    if message is None or message.chapter_id != chapter.id:
        abort(404)
    return message


def _compose_form(chapter: Chapter) -> ComposeForm:
    form = ComposeForm()
    options = audience.choices(chapter)
    if form.roster_filter.data is None and request.method == "GET":
        listed = audience.roster_params(request.args)
        if RosterQuery.from_args(listed).is_filtered:
            form.roster_filter.data = urlencode(listed)
            form.audience.data = "list"
        elif request.args.get("audience") == "event":
            form.audience.data = "event"
            form.event_id.data = request.args.get("event_id", type=int)
    if form.roster_filter.data:
        described = audience.describe(audience.ROSTER, audience.roster_params(dict(parse_qsl(form.roster_filter.data))))
        options.insert(0, ("list", f"The list you filtered — {described}"))
    form.set_choices(options, staff=current_roles().is_staff)
    form.send_at.label.text = f"Send at ({schedule.chapter_zone(chapter)})"
    return form


def _audience_of(form: ComposeForm) -> tuple[str, dict]:
    if form.audience.data == "list":
        return audience.ROSTER, audience.roster_params(dict(parse_qsl(form.roster_filter.data or "")))
    return audience.from_choice(form.audience.data or "", event_id=form.event_id.data)


def _render_compose(chapter: Chapter, form: ComposeForm, rendered=None, status: int = 200):
    count = None
    try:
        kind, params = _audience_of(form)
        audience.check(chapter, kind, params)
        count = audience.count(chapter, kind, params, today())
    except DomainError:
        pass
    return render_template("communications/compose.html", chapter=chapter, form=form, rendered=rendered,
                           count=count, cap=composing.daily_cap(chapter),
                           sent_today=composing.messages_on(chapter, today()),
                           merge_fields=composing.MERGE_FIELDS), status


@bp.get("/chapters/<int:number>/messages/new")
@login_required
def compose(number: int):
    """Write a message to a roster list (the one on screen), a ready-made view, an event's registrants."""
    chapter = get_chapter_or_404(number, compose=True)
    return _render_compose(chapter, _compose_form(chapter))


@bp.post("/chapters/<int:number>/messages/new")
@login_required
def send(number: int):
    """Preview the message, send a test to oneself, or send it (now or at a set time)."""
    chapter = get_chapter_or_404(number, compose=True)
    form = _compose_form(chapter)
    if not form.validate_on_submit():
        return _render_compose(chapter, form, status=400)
    category = MailCategory(form.category.data)
    try:
        kind, params = _audience_of(form)
        details = dict(kind=kind, params=params, category=category, subject=form.subject.data, body=form.body.data)
        if form.preview.data or form.test.data:
            if form.test.data:
                rendered = composing.send_test(chapter, actor=current_user, day=today(), **details)
                db.session.commit()
                flash(f"A test was sent to {current_user.email}.", "success")
            else:
                rendered = composing.preview(chapter, day=today(), **details)
            return _render_compose(chapter, form, rendered)
        tz = schedule.chapter_zone(chapter)
        send_at = schedule.send_at_utc(form.send_at.data, tz) if form.when.data == "later" else None
        message = composing.create_message(chapter, actor=current_user, send_at=send_at, **details)
    except DomainError as error:
        if error.field is None and isinstance(error, audience.UnknownAudience):
            error.field = "audience"
        attach_domain_error(form, error)
        return _render_compose(chapter, form, status=400)
    db.session.commit()
    flash(f"Your message to {message.audience_description} is "
          + ("on its way." if message.frozen_at else f"scheduled for {schedule.shown(message.send_at, schedule.chapter_zone(chapter))}."), "success")
    return redirect(url_for("communications.message", number=number, message_id=message.id))


@bp.get("/chapters/<int:number>/messages/<int:message_id>")
@login_required
def message(number: int, message_id: int):
    """One message as it was sent: its audience (frozen), its counts, updated while it goes out."""
    chapter = get_chapter_or_404(number)
    sent = get_message_or_404(chapter, message_id)
    return render_template("communications/message.html", chapter=chapter, message=sent,
                           counts=sending.counts([sent.id])[sent.id], body_html=render_markdown(sent.body),
                           sent_at=schedule.shown(sent.send_at, schedule.chapter_zone(chapter)),
                           can_cancel=current_roles().can_message_members(chapter), cancel_form=CancelForm())


@bp.get("/chapters/<int:number>/messages/<int:message_id>/progress.json")
@login_required
def progress(number: int, message_id: int):
    """The message's counts as JSON, for the progress on its page (static/js/message-progress.js)."""
    chapter = get_chapter_or_404(number)
    sent = get_message_or_404(chapter, message_id)
    tally = sending.counts([sent.id])[sent.id]
    response = jsonify(status=sent.status.value, finished=sent.finished_at is not None and tally.done,
                       **tally.as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/chapters/<int:number>/messages/<int:message_id>/cancel")
@login_required
def cancel(number: int, message_id: int):
    """Cancel a scheduled message before its time."""
    chapter = get_chapter_or_404(number, compose=True)
    scheduled = get_message_or_404(chapter, message_id)
    if not CancelForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("communications.message", number=number, message_id=message_id))
    try:
        composing.cancel_message(scheduled, actor=current_user)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("communications.message", number=number, message_id=message_id))
    db.session.commit()
    flash("The message was cancelled; nobody received it.", "success")
    return redirect(url_for("communications.chapter_log", number=number))


def _log_args() -> dict:
    try:
        sort = LogSort(request.args.get("sort", "sent"))
    except ValueError:
        sort = LogSort.SENT
    direction = request.args.get("dir")
    return dict(search=request.args.get("q", "")[:100], sort=sort, page=requested_page(request.args),
                descending=(direction != "asc") if sort is LogSort.SENT else direction == "desc")


@bp.get("/chapters/<int:number>/messages")
@login_required
def chapter_log(number: int):
    """The chapter's sent log, for those who see its roster."""
    chapter = get_chapter_or_404(number)
    args = _log_args()
    roles = current_roles()
    return render_template("communications/log.html", chapter=chapter, page=sent_log(chapter=chapter, **args),
                           args=args, can_compose=roles.can_message_members(chapter),
                           cap=composing.daily_cap(chapter),
                           cap_form=DailyCapForm(daily_cap=composing.daily_cap(chapter)) if roles.is_staff else None)


@bp.get("/admin/messages")
@staff_required
def all_messages():
    """Every chapter's messages, for staff."""
    args = _log_args()
    return render_template("communications/log.html", chapter=None, page=sent_log(chapter=None, **args), args=args,
                           can_compose=False, cap=None, cap_form=None)


@bp.post("/chapters/<int:number>/messages/cap")
@staff_required
def set_cap(number: int):
    """Staff set how many messages a chapter may send a day."""
    chapter = get_chapter_or_404(number)
    form = DailyCapForm()
    if form.validate_on_submit():
        try:
            composing.set_daily_cap(chapter, form.daily_cap.data, actor=current_user)
        except DomainError as error:
            attach_domain_error(form, error)
    if form.errors or form.form_errors:
        args = _log_args()
        return render_template("communications/log.html", chapter=chapter, page=sent_log(chapter=chapter, **args),
                               args=args, can_compose=True, cap=composing.daily_cap(chapter), cap_form=form), 400
    db.session.commit()
    flash(f"{chapter.display_name} may now send {form.daily_cap.data} message(s) a day.", "success")
    return redirect(url_for("communications.chapter_log", number=number))


