"""Outgoing mail: SMTP when MAIL_SERVER is set, otherwise the console and instance/outbox/."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template

from chapter.core.models import utcnow

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, template: str, **context) -> EmailMessage:
    """Render templates/email/<template>.txt (and .html when present) and send it."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="chapter.local")
    message.set_content(render_template(f"email/{template}.txt", **context))
    server = current_app.config.get("MAIL_SERVER")
    if server:
        with smtplib.SMTP(server, current_app.config["MAIL_PORT"], timeout=10) as smtp:
            smtp.send_message(message)
    else:
        _write_to_outbox(message)
    return message


def _write_to_outbox(message: EmailMessage) -> None:
    """Development delivery: print the mail and keep a copy as an .eml file."""
    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{message['To'].replace('@', '_at_')}.eml"
    (outbox / name).write_bytes(bytes(message))
    log.warning("Mail to %s: %s\n%s", message["To"], message["Subject"], message.get_content())
