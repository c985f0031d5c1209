"""Members' mail preferences (the account area) and the unsubscribe link every non-transactional mail carries."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.communications import bp, preferences
from chapter.communications.forms import PreferencesForm
from chapter.communications.models import MailCategory
from chapter.extensions import csrf, db


def _address_of(user) -> str:
    """The address the member's mail goes to: the member record's, else the account's."""
    member = getattr(user, "member", None)
    return (member.email if member is not None and member.email else user.email) or ""


@bp.route("/account/mail-preferences", methods=["GET", "POST"], endpoint="preferences")
@login_required
def preferences_page():
    """Choose what mail to receive: chapter news, event announcements, association news."""
    address = _address_of(current_user)
    opted_out = preferences.opted_out_categories(address)
    form = PreferencesForm(data={c.value: c not in opted_out for c in MailCategory} if request.method == "GET" else None)
    if form.validate_on_submit():
        preferences.set_preferences(address, {c for c in MailCategory if getattr(form, c.value).data})
        db.session.commit()
        flash("Your mail preferences are saved; they apply from the next message on.", "success")
        return redirect(url_for("communications.preferences"))
    return render_template("communications/preferences.html", form=form, address=address), \
        400 if request.method == "POST" else 200


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """The link in a mail: a page that asks to confirm (a GET changes nothing: link scanners open links)."""
    try:
        email, category = preferences.read_unsubscribe_token(token)
    except preferences.BadUnsubscribeToken:
        return render_template("communications/unsubscribe.html", invalid=True), 400
    return render_template("communications/unsubscribe.html", invalid=False, email=email, category=category,
                           token=token, done=category in preferences.opted_out_categories(email))


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """Stop one kind of mail to one address: the confirmation button, or a mail client's RFC 8058 one-click POST.

    Exempt from CSRF on purpose, and only this route: a mail client posts `List-Unsubscribe=One-Click` with
    no session and no form token (RFC 8058 §3.1), and the signed token in the URL is the proof. A forged
    cross-site POST could only do what the token allows: unsubscribe its own address from one kind of mail.
    """
    try:
        email, category = preferences.read_unsubscribe_token(token)
    except preferences.BadUnsubscribeToken:
        return render_template("communications/unsubscribe.html", invalid=True), 400
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    preferences.opt_out(email, category, source="one-click" if one_click else "link")
    db.session.commit()
    if one_click:
        return "", 204
    return render_template("communications/unsubscribe.html", invalid=False, email=email, category=category,
                           token=token, done=True)
