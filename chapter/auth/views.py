"""Registration, log-in/out, password reset, claiming an existing member's account, session security."""
import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from chapter.auth import bp, claims, notices, services
from chapter.auth.forms import (
    ChangePasswordForm,
    ClaimAccountForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from chapter.chapters.services import active_chapters
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.extensions import db, limiter
from flask_wtf import FlaskForm


def linked(message: str) -> Markup:
    """A message whose "Log in" and "reset your password" are links to those pages (the rest escaped)."""
    text = str(escape(message))
    login = f'<a href="{url_for("auth.login")}">'
    reset = f'<a href="{url_for("auth.forgot_password")}">'
    text = re.sub(r"\b(Log in|log in)\b", lambda m: f"{login}{m.group(1)}</a>", text, count=1)
    text = re.sub(r"\b(reset your password|Reset your password)\b", lambda m: f"{reset}{m.group(1)}</a>", text, count=1)
    return Markup(text)


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a path on this site (no open redirects, no header injection)."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 32 or ord(c) == 127 for c in target) and not urlsplit(target).netloc):
        return target
    return url_for("members.dashboard")


def start_session(user) -> None:
    """Log the user in on a fresh session: nothing of the anonymous session (its CSRF token included) is kept."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the request's token in g: a new one is made from the new session
    login_user(user)


def end_session() -> None:
    """Log out and forget everything the session held (its CSRF token included)."""
    logout_user()
    session.clear()
    g.pop("csrf_token", None)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    """Sign up: an account and a member record with a pending membership.

    A known address gets a mail (a claim link for a member without a log-in, "you already have an
    account" otherwise) and the same "check your mailbox" page, whoever owns it.
    """
    if current_user.is_authenticated:
        return redirect(url_for("members.dashboard"))
    form = RegisterForm()
    chapters = active_chapters()
    form.home_chapter_id.choices = [(0, "Choose later")] + [(c.id, c.display_name) for c in chapters]
    if not form.is_submitted():  # "Join this chapter" on a chapter's page links here with ?chapter=<number>
        form.home_chapter_id.data = next((c.id for c in chapters if str(c.number) == request.args.get("chapter")), 0)
    if form.validate_on_submit():
        if services.email_is_taken(form.email.data):
            _mail_known_address(form.email.data, reason="registration")
            return render_template("auth/check_mailbox.html", email=form.email.data)
        try:
            member = services.register_member(
                email=form.email.data, password=form.password.data,
                first_name=form.first_name.data, last_name=form.last_name.data,
                home_chapter_id=form.home_chapter_id.data or None,
            )
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            start_session(member.user)
            flash(f"Welcome! Your member number is {member.member_number}. "
                  "Your membership is pending until your first payment.", "success")
            return redirect(url_for("members.dashboard"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


def _mail_known_address(email: str, *, reason: str) -> None:
    """Send whichever link fits the address: claim (member without a log-in), reset, or nothing."""
    member = claims.claimable_member(email)
    if member is not None:
        claims.record_invitation(member, reason=reason, actor=None)
        notices.send_claim_link(member, reason=reason)  # before the commit: the mail may be an outbox row
        db.session.commit()
        return
    user = services.find_user_by_email(email)
    if user is None or user.is_disabled:
        return
    if reason == "registration":
        notices.send_account_exists(user)
    elif user.has_usable_password:
        notices.send_reset_link(user)
    db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Log in with e-mail and password; repeated failures from one place lock that address there for a while."""
    if current_user.is_authenticated:
        return redirect(url_for("members.dashboard"))
    form = LoginForm()
    locked = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data, form.password.data,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lockout_minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
                client_address=request.remote_addr or "unknown",
            )
        except services.AccountLocked as error:
            db.session.commit()
            locked = error.minutes
        except DomainError as error:
            db.session.commit()  # keep the failure count
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            start_session(user)
            flash(f"Welcome back, {user.name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form, locked=locked), status


@bp.post("/logout")
@login_required
def logout():
    """End the session, and with it every other session of the user."""
    services.end_all_sessions(current_user)
    db.session.commit()
    end_session()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def forgot_password():
    """Ask for a reset (or claim) link; the answer is the same whether or not the address is known."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        _mail_known_address(form.email.data, reason="reset")
        flash("If an account or a member record uses that address, we have sent it a link to choose a "
              "new password. Check your mailbox.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an e-mailed, expiring, single-use link; every session ends."""
    try:
        user = services.user_for_password_reset_token(
            token, current_app.config["SECRET_KEY"], current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
        )
    except DomainError as error:
        flash(linked(error.message), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_new_password(user, form.password.data)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            logout_user()
            flash(linked("Your password is changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/claim/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def claim_account(token: str):
    """A member without a log-in sets the password of their existing record from the e-mailed link."""
    try:
        member = claims.member_for_claim_token(
            token, current_app.config["SECRET_KEY"], current_app.config["CLAIM_LINK_MAX_AGE_SECONDS"])
    except DomainError as error:
        flash(linked(error.message), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = ClaimAccountForm()
    if form.validate_on_submit():
        try:
            user = claims.claim_account(member, form.password.data)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            start_session(user)
            flash(f"Your password is set. Welcome, {member.first_name}: this is your member record.", "success")
            return redirect(url_for("members.dashboard"))
    return render_template("auth/claim.html", form=form, member=member), (400 if form.is_submitted() else 200)


@bp.route("/account/security", methods=["GET", "POST"])
@login_required
def security():
    """Change the password (other sessions end) and log out everywhere."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, current_password=form.current_password.data,
                                     new_password=form.password.data)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            start_session(current_user._get_current_object())
            flash("Your password is changed. Every other session is logged out.", "success")
            return redirect(url_for("auth.security"))
    return render_template("auth/security.html", form=form, everywhere_form=FlaskForm()), (
        400 if form.is_submitted() else 200)


@bp.post("/account/sessions/end")
@login_required
def log_out_everywhere():
    """End every session of the user on every device, this one included."""
    if not FlaskForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("auth.security"))
    services.end_all_sessions(current_user)
    db.session.commit()
    end_session()
    flash(linked("You are logged out everywhere. Log in again on the devices you use."), "info")
    return redirect(url_for("auth.login"))
