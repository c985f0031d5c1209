"""Pages for webhook endpoints: a chapter's list, staff's list, one endpoint with its delivery log."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.chapters import services as chapter_services
from chapter.chapters.models import Chapter
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.pagination import requested_page
from chapter.core.permissions import current_roles, staff_required
from chapter.extensions import db
from chapter.outgoing import bp, deliveries, endpoints
from chapter.outgoing.forms import EndpointForm, StaffEndpointForm
from chapter.outgoing.models import WebhookDelivery, WebhookEndpoint


@bp.app_context_processor
def _integrations_link():
    """Lets the roster show its Webhooks button to those who may use it."""
    def can_manage_integrations(chapter) -> bool:
        return current_user.is_authenticated and current_roles().can_manage_integrations(chapter)
    return {"can_manage_integrations": can_manage_integrations}


def get_endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    """Load an endpoint and check that the current user may manage it."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    if not endpoints.can_manage(current_roles(), endpoint):
        abort(403)
    return endpoint


def _chapter_with_right_or_404(number: int) -> Chapter:
    chapter = chapter_services.get_chapter_by_number(number)
    if chapter is None:
        abort(404)
    if not current_roles().can_manage_integrations(chapter):
        abort(403)
    return chapter


def _secret_page(endpoint: WebhookEndpoint, secret: str, *, created: bool):
    response = make_response(render_template("outgoing/secret.html", endpoint=endpoint, secret=secret, created=created))
    response.headers["Cache-Control"] = "no-store"  # the secret is shown once, kept by no cache
    return response


def _register(form: EndpointForm, chapter: Chapter | None):
    """Create the endpoint the form describes and show its secret; None (errors on the form) if refused."""
    try:
        made = endpoints.create_endpoint(chapter=chapter, url=form.url.data, events=form.events.data,
                                         description=form.description.data, actor=current_user)
    except DomainError as error:
        attach_domain_error(form, error)
        return None
    db.session.commit()
    return _secret_page(made.endpoint, made.secret, created=True)


def _list_page(form: EndpointForm, chapter: Chapter | None):
    status = 400 if form.errors or form.form_errors else 200
    return render_template("outgoing/list.html", chapter=chapter, form=form,
                           endpoints=endpoints.endpoints_of(chapter)), status


@bp.route("/chapters/<int:number>/webhooks", methods=["GET", "POST"])
@login_required
def chapter_endpoints(number: int):
    """A chapter's webhook endpoints, and the form to register one."""
    chapter = _chapter_with_right_or_404(number)
    form = EndpointForm()
    if form.validate_on_submit() and (shown := _register(form, chapter)) is not None:
        return shown
    return _list_page(form, chapter)


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@staff_required
def all_endpoints():
    """Every webhook endpoint; staff register one for every chapter or for one."""
    form = StaffEndpointForm()
    chapters = db.session.execute(sa.select(Chapter.id, Chapter.number, Chapter.name).order_by(Chapter.number)).all()
    form.chapter_id.choices = [("", "Every chapter")] + [(str(c.id), f"#{c.number} {c.name}") for c in chapters]
    if form.validate_on_submit():
        chapter = db.session.get(Chapter, int(form.chapter_id.data)) if form.chapter_id.data else None
        if (shown := _register(form, chapter)) is not None:
            return shown
    return _list_page(form, None)


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@login_required
def endpoint(endpoint_id: int):
    """One endpoint: its settings (to change) and its delivery log with Redeliver."""
    hook = get_endpoint_or_404(endpoint_id)
    form = EndpointForm(data={"url": hook.url, "events": hook.event_names, "description": hook.description})
    if form.validate_on_submit():
        try:
            endpoints.update_endpoint(hook, url=form.url.data, events=form.events.data,
                                      description=form.description.data, actor=current_user)
        except DomainError as error:
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash("Endpoint saved.", "success")
            return redirect(url_for("outgoing.endpoint", endpoint_id=hook.id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("outgoing/endpoint.html", endpoint=hook, form=form,
                           log=endpoints.delivery_log(hook, requested_page(request.args))), status


@bp.post("/webhooks/<int:endpoint_id>/secret")
@login_required
def roll_secret(endpoint_id: int):
    """Replace the signing secret and show the new one, once."""
    hook = get_endpoint_or_404(endpoint_id)
    secret = endpoints.roll_secret(hook, actor=current_user)
    db.session.commit()
    return _secret_page(hook, secret, created=False)


@bp.post("/webhooks/<int:endpoint_id>/enabled")
@login_required
def set_enabled(endpoint_id: int):
    """Enable or disable an endpoint."""
    hook = get_endpoint_or_404(endpoint_id)
    enabled = request.form.get("enabled") == "1"
    endpoints.set_enabled(hook, enabled, actor=current_user)
    db.session.commit()
    flash("Endpoint enabled." if enabled else "Endpoint disabled: it receives nothing until enabled.", "success")
    return redirect(url_for("outgoing.endpoint", endpoint_id=hook.id))


@bp.post("/webhooks/<int:endpoint_id>/delete")
@login_required
def delete(endpoint_id: int):
    """Delete an endpoint and its log."""
    hook = get_endpoint_or_404(endpoint_id)
    chapter = hook.chapter
    endpoints.delete_endpoint(hook, actor=current_user)
    db.session.commit()
    flash("Endpoint deleted.", "success")
    if chapter is None or current_user.is_staff:
        return redirect(url_for("outgoing.all_endpoints"))
    return redirect(url_for("outgoing.chapter_endpoints", number=chapter.number))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
@login_required
def redeliver(endpoint_id: int, delivery_id: int):
    """Send one delivery again, with the same body and Webhook-Id."""
    hook = get_endpoint_or_404(endpoint_id)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != hook.id:
        abort(404)
    try:
        deliveries.redeliver(delivery, actor=current_user)
    except DomainError as error:
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(f"Delivery {delivery.webhook_id} will be sent again in a moment.", "success")
    return redirect(url_for("outgoing.endpoint", endpoint_id=hook.id))
