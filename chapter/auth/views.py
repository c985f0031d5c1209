"""Registration, log-in/out and password reset pages."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from chapter.auth import bp, services
from chapter.auth.forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from chapter.chapters.services import active_chapters
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.mail import send_mail
from chapter.extensions import db, limiter


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a path on this site (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("members.dashboard")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    """Sign up: an account and a member record with a pending membership."""
    if current_user.is_authenticated:
        return redirect(url_for("members.dashboard"))
    form = RegisterForm()
    form.home_chapter_id.choices = [(0, "Choose later")] + [(c.id, c.display_name) for c in active_chapters()]
    if form.validate_on_submit():
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
            login_user(member.user)
            flash(f"Welcome! Your member number is {member.member_number}. "
                  "Your membership is pending until your first payment.", "success")
            return redirect(url_for("members.dashboard"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Log in with e-mail and password; repeated failures lock the account for a while."""
    if current_user.is_authenticated:
        return redirect(url_for("members.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data, form.password.data,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lockout_minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
            )
        except DomainError as error:
            db.session.commit()  # keep the failure count
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            login_user(user)
            flash(f"Welcome back, {user.name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the address is known."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if user is not None and not user.is_disabled:
            token = services.make_password_reset_token(user, current_app.config["SECRET_KEY"])
            send_mail(
                user.email, "Reset your password", "password_reset",
                user=user, link=url_for("auth.reset_password", token=token, _external=True),
                minutes=current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] // 60,
            )
            db.session.commit()  # the mail is an outbox row: delivered by the worker once committed
        flash("If an account uses that address, we have sent it a link to choose a new password. "
              "The link works once, for one hour.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an e-mailed, expiring, single-use link."""
    try:
        user = services.user_for_password_reset_token(
            token, current_app.config["SECRET_KEY"], current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
        )
    except DomainError as error:
        flash(error.message, "danger")
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
            flash("Your password is changed. Log in with the new one.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), (400 if form.is_submitted() else 200)
