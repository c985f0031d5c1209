"""`flask --app wsgi users ...`: the first staff account and the staff role, from the command line."""
from __future__ import annotations

import getpass

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from chapter.auth import services, staff
from chapter.core.errors import DomainError
from chapter.core.mail import send_mail
from chapter.extensions import db
from chapter.core.links import public_url

users_cli = AppGroup("users", help="Accounts and the national-staff role (every change is audited).")


def register_user_commands(app: Flask) -> None:
    """Attach the `users` commands to the app's CLI."""
    app.cli.add_command(users_cli)


def _via() -> str:
    """Who ran the command, for the audit log: there is no logged-in user on the command line."""
    try:
        return f"command line, system user {getpass.getuser()}"
    except Exception:  # no user name in this environment (e.g. a container without /etc/passwd entry)
        return "command line"


def _actor(email: str | None):
    if not email:
        return None
    user = services.find_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no account has the e-mail address {email}", param_hint="--as")
    return user


def _fail(error: DomainError) -> None:
    db.session.rollback()
    raise click.ClickException(error.message)


def send_set_password_link(user) -> str:
    """Mail the account a single-use link (on PUBLIC_BASE_URL) to choose its password; returns the link."""
    token = services.make_password_reset_token(user, current_app.config["SECRET_KEY"])
    link = public_url("auth.reset_password", token=token)
    send_mail(user.email, "Your staff account: choose a password", "staff_account", user=user, link=link,
              forgot_url=public_url("auth.forgot_password"),
              minutes=current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] // 60)
    return link


@users_cli.command("create-staff")
@click.argument("email")
@click.option("--name", help="The person's name (default: the e-mail address).")
@click.option("--send-link", is_flag=True,
              help="Mail a link to choose the password instead of asking for it here.")
@click.option("--as", "actor_email", metavar="EMAIL", help="Record the change in the audit log as done by this account.")
def create_staff_command(email: str, name: str | None, send_link: bool, actor_email: str | None):
    """Create a national-staff account: asks for its password, or mails a set-password link."""
    actor = _actor(actor_email)
    password = None
    if not send_link:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    try:
        user = staff.create_staff_account(email, name or "", password, actor=actor, via=_via())
        if send_link:
            send_set_password_link(user)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created the staff account {user.email}.")
    if send_link:
        click.echo(f"A link to choose the password is queued for {user.email}; the worker delivers it "
                   f"(it works once, for {current_app.config['PASSWORD_RESET_MAX_AGE_SECONDS'] // 60} minutes).")


@users_cli.command("list")
@click.option("--staff", "staff_only", is_flag=True, help="Only national-staff accounts.")
@click.option("--search", default="", help="Only accounts whose e-mail address or name contains this.")
def list_command(staff_only: bool, search: str):
    """List accounts: e-mail, name, staff, disabled, last log-in."""
    users = staff.list_users(staff_only=staff_only, search=search)
    click.echo(f"{'e-mail':<36} {'name':<28} {'staff':<5} {'disabled':<8} last log-in")
    for user in users:
        last = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never"
        click.echo(f"{user.email:<36} {user.name[:28]:<28} {'yes' if user.is_staff else 'no':<5} "
                   f"{'yes' if user.is_disabled else 'no':<8} {last}")
    click.echo(f"{len(users)} account{'s' if len(users) != 1 else ''}")


@users_cli.command("grant-staff")
@click.argument("email")
@click.option("--as", "actor_email", metavar="EMAIL", help="Record the change in the audit log as done by this account.")
def grant_staff_command(email: str, actor_email: str | None):
    """Give an existing account the national-staff role."""
    actor = _actor(actor_email)
    try:
        user = staff.grant_staff(email, actor=actor, via=_via())
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{user.email} is national staff.")


@users_cli.command("revoke-staff")
@click.argument("email")
@click.option("--as", "actor_email", metavar="EMAIL", help="Record the change in the audit log as done by this account.")
def revoke_staff_command(email: str, actor_email: str | None):
    """Take the national-staff role from an account (never from the last active one)."""
    actor = _actor(actor_email)
    try:
        user = staff.revoke_staff(email, actor=actor, via=_via())
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{user.email} is no longer national staff.")
