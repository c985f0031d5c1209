"""What members choose to receive, and the one-click unsubscribe every non-transactional mail carries.

Receipts, reminders and security mail have no category: they are always sent. Opt-outs are kept by
address, so that a link in a mail works without a log-in; the link carries a signed token (itsdangerous)
naming the address and the kind of mail, and nothing else.
"""
from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa
from email.utils import parseaddr
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from chapter.communications.models import MailCategory, MailOptOut
from chapter.core.links import public_url
from chapter.core.models import utcnow
from chapter.extensions import db

UNSUBSCRIBE_SALT = "communications.unsubscribe"


class BadUnsubscribeToken(Exception):
    """A token that was not made by this site (or was altered)."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(email: str, category: MailCategory) -> str:
    """A token for the unsubscribe link: the address and the kind of mail, signed (no expiry: old mail keeps working)."""
    return _serializer().dumps({"e": email.strip().lower(), "c": category.value})


def read_unsubscribe_token(token: str) -> tuple[str, MailCategory]:
    """The address and kind of mail a token names; BadUnsubscribeToken when forged or altered."""
    try:
        data = _serializer().loads(token)
        return str(data["e"]), MailCategory(data["c"])
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadUnsubscribeToken(str(error)) from error


def unsubscribe_url(email: str, category: MailCategory) -> str:
    return public_url("communications.unsubscribe", token=unsubscribe_token(email, category))


def list_unsubscribe_headers(email: str, category: MailCategory, token: str | None = None) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe (https and mailto) and RFC 8058 one-click, for a mail of `category` to `email`."""
    token = token or unsubscribe_token(email, category)
    address = current_app.config.get("MAIL_UNSUBSCRIBE_ADDRESS") or parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    mailto = f"mailto:{address}?subject={quote('unsubscribe ' + token)}"
    return {
        "List-Unsubscribe": f"<{public_url('communications.unsubscribe', token=token)}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def opted_out_categories(email: str | None) -> set[MailCategory]:
    """The kinds of mail `email` does not want."""
    if not email:
        return set()
    return set(db.session.scalars(sa.select(MailOptOut.category).where(MailOptOut.email == email.strip().lower())))


def opted_out_addresses(category: MailCategory) -> sa.Select:
    """SQL: the addresses that opted out of `category` (for `Member.email.in_(...)`)."""
    return sa.select(MailOptOut.email).where(MailOptOut.category == category)


def is_opted_out(email: str, category: MailCategory) -> bool:
    return category in opted_out_categories(email)


def opt_out(email: str, category: MailCategory, *, source: str) -> bool:
    """Stop `category` mail to `email` (from the next send on); True when it was not already off."""
    email = email.strip().lower()
    if is_opted_out(email, category):
        return False
    db.session.add(MailOptOut(email=email, category=category, source=source, created_at=utcnow()))
    db.session.flush()
    return True


def set_preferences(email: str, wanted: set[MailCategory], *, source: str = "preferences") -> None:
    """Receive exactly the categories in `wanted` (the others are opted out)."""
    email = email.strip().lower()
    current = opted_out_categories(email)
    for category in MailCategory:
        if category in wanted and category in current:
            db.session.execute(sa.delete(MailOptOut).where(MailOptOut.email == email, MailOptOut.category == category))
        elif category not in wanted and category not in current:
            db.session.add(MailOptOut(email=email, category=category, source=source, created_at=utcnow()))
    db.session.flush()
