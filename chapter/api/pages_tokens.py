"""Token pages: a user makes, lists and revokes their tokens; staff list and revoke everyone's."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from chapter.api import pages, tokens
from chapter.api.forms import TokenForm
from chapter.api.models import ApiToken
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.models import today, utcnow
from chapter.core.pagination import requested_page
from chapter.core.permissions import current_roles, staff_required
from chapter.extensions import db


@pages.route("/account/api-tokens", methods=["GET", "POST"])
@login_required
def my_tokens():
    """Make a token (shown once) and list the user's tokens with their last use."""
    roles = current_roles()
    form = TokenForm(chapters=tokens.grantable_chapters(roles))
    made = None
    if form.validate_on_submit():
        try:
            token, made = tokens.create_token(
                current_user, roles=roles, name=form.name.data, scopes=form.scopes.data,
                chapter_ids=form.chapters.data or [], all_chapters=form.all_chapters.data,
                expires_on=form.expires_on.data, today=today())
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"Token \u201c{token.name}\u201d made. Copy it now: it is not shown again.", "success")
            form = TokenForm(chapters=tokens.grantable_chapters(roles), formdata=None)
    status = 400 if form.is_submitted() and made is None else 200
    return render_template("api/tokens.html", form=form, made=made, tokens=tokens.tokens_of(current_user),
                           now=utcnow(), revoke_form=FlaskForm()), status


@pages.post("/account/api-tokens/<int:token_id>/revoke")
@login_required
def revoke_my_token(token_id: int):
    """Revoke one of the user's own tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    return _revoke(token, url_for("api_tokens.my_tokens"))


@pages.get("/admin/api-tokens")
@staff_required
def all_tokens():
    """Staff: every user's tokens, newest first, with owner, scopes, chapters and last use."""
    active_only = request.args.get("active") == "1"
    page = tokens.all_tokens(requested_page(request.args), 50, active_only=active_only, now=utcnow())
    return render_template("api/staff_tokens.html", page=page, active_only=active_only, now=utcnow(),
                           revoke_form=FlaskForm())


@pages.post("/admin/api-tokens/<int:token_id>/revoke")
@staff_required
def staff_revoke_token(token_id: int):
    """Staff revoke anyone's token."""
    token = db.session.get(ApiToken, token_id) or abort(404)
    return _revoke(token, url_for("api_tokens.all_tokens"))


def _revoke(token: ApiToken, back: str):
    if not FlaskForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(back)
    tokens.revoke_token(token, actor=current_user)
    db.session.commit()
    flash(f"Token \u201c{token.name}\u201d revoked: it no longer works.", "success")
    return redirect(back)

