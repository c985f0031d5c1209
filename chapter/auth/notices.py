"""The mail that carries claim, reset and "you already have an account" links; every link on PUBLIC_BASE_URL.

Used by the auth pages and by other features' pages (officers, transfers, corporate seats). The mail
itself goes through chapter.core.mail.send_mail.
"""
from __future__ import annotations

import logging

from flask import current_app

from chapter.auth import claims
from chapter.auth.models import User
from chapter.auth.services import make_password_reset_token
from chapter.core.links import public_url
from chapter.core.mail import send_mail
from chapter.members.models import Member

log = logging.getLogger(__name__)

# Why a claim link is sent, as the first line of the mail says it.
CLAIM_REASONS = {
    "registration": "Someone (we hope you) tried to register with this address, which is already on a member record.",
    "reset": "You asked to reset your password. Your member record has no password yet, so choose one now.",
    "officer_invitation": "Your chapter invites you to use your member account online.",
    "officer_appointment": "You have been appointed an officer of your chapter.",
    "transfer_request": "A chapter asks you to transfer to it; log in to confirm or decline.",
    "corporate_seat": "Your employer offers you a seat in its corporate membership; log in to accept or decline it.",
}


def claim_link(member: Member) -> str:
    """The absolute claim link for the member (PUBLIC_BASE_URL, never the request's Host)."""
    token = claims.make_claim_token(member, current_app.config["SECRET_KEY"])
    return public_url("auth.claim_account", token=token)


def send_claim_link(member: Member, *, reason: str, detail: str | None = None) -> None:
    """E-mail a member without a log-in the link that sets their password.

    An officer's invitation is mail the member did not ask for (chapter news): it carries the one-click
    unsubscribe headers and link; the other reasons answer something the member or staff did.
    """
    from chapter.communications import preferences
    from chapter.communications.models import MailCategory

    unsolicited = reason == "officer_invitation"
    send_mail(
        member.email, "Set the password of your member account", "account_claim",
        headers=preferences.list_unsubscribe_headers(member.email, MailCategory.CHAPTER_NEWS) if unsolicited else None,
        member=member, link=claim_link(member), reason=CLAIM_REASONS.get(reason, ""), detail=detail,
        days=current_app.config["CLAIM_LINK_MAX_AGE_SECONDS"] // 86400,
        login_url=public_url("auth.login"),
        unsubscribe_link=preferences.unsubscribe_url(member.email, MailCategory.CHAPTER_NEWS) if unsolicited else None,
    )


def send_reset_link(user: User) -> None:
    """E-mail a user with a password the link that replaces it."""
    token = make_password_reset_token(user, current_app.config["SECRET_KEY"])
    send_mail(
        user.email, "Reset your password", "password_reset",
        user=user, link=public_url("auth.reset_password", token=token),
        minutes=current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] // 60,
    )


def send_account_exists(user: User) -> None:
    """Someone registered with the address of an existing account: tell its owner, say nothing on the page."""
    send_mail(
        user.email, "You already have an account", "account_exists",
        user=user, login_url=public_url("auth.login"), forgot_url=public_url("auth.forgot_password"),
    )


def try_send_claim_link(member: Member, *, reason: str, detail: str | None = None) -> bool:
    """send_claim_link, but a mail failure is logged and reported as False instead of failing the page."""
    try:
        send_claim_link(member, reason=reason, detail=detail)
    except Exception:  # SMTP down: what the page did stands; the officer is told to try again later
        log.exception("could not e-mail a claim link to member %s", member.member_number)
        return False
    return True
