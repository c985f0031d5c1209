"""Outgoing mail. `send_mail` renders a mail and writes it to the outbox in the caller's transaction;
the worker delivers it after the commit (`chapter.jobs.outbox`), by SMTP when MAIL_SERVER is set,
otherwise to the console and instance/outbox/ (development only).

Every mail is multipart: the plain text of templates/email/<template>.txt, and an HTML part from
templates/email/<template>.html when there is one, else the text set in the site's mail layout.
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
from datetime import datetime, timezone
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from markupsafe import Markup, escape

from chapter.core.models import utcnow

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, template: str, *, headers: dict[str, str] | None = None, **context) -> Message:
    """Render templates/email/<template>.txt (+ HTML) and put it in the outbox of the current transaction.

    `headers`: extra headers kept with the mail (List-Unsubscribe on mail a member can opt out of).
    """
    from chapter.jobs import outbox

    text = render_template(f"email/{template}.txt", **context)
    html = render_html(template, text, subject, context)
    mail = outbox.queue_mail(to=to, subject=subject, template=template, body_text=text, body_html=html,
                             sender=current_app.config["MAIL_DEFAULT_SENDER"], message_id=new_message_id(),
                             headers=headers)
    return build_message(mail.sender, mail.to_address, mail.subject, mail.message_id, mail.created_at,
                         mail.body_text, mail.body_html, headers)


def new_message_id() -> str:
    """A Message-ID for a new mail, on the public site's domain."""
    host = urlsplit(current_app.config.get("PUBLIC_BASE_URL") or "").hostname or "chapter.local"
    return make_msgid(domain=host)


_URL = re.compile(r"https?://[^\s<>\"']+")


def text_to_html(text: str) -> Markup:
    """Plain text as HTML paragraphs, with its links clickable."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in block.splitlines():
            pieces, last = [], 0
            for match in _URL.finditer(line):
                url = match.group(0).rstrip(".,;)")
                pieces.append(escape(line[last:match.start()]))
                pieces.append(Markup('<a href="{0}">{0}</a>').format(url))
                last = match.start() + len(url)
            pieces.append(escape(line[last:]))
            lines.append(Markup("").join(pieces))
        paragraphs.append(Markup("<p>{}</p>").format(Markup("<br>\n").join(lines)))
    return Markup("\n").join(paragraphs)


def render_html(template: str, text: str, subject: str, context: dict) -> str:
    """The HTML part: email/<template>.html if written, else the text in the mail layout."""
    try:
        return render_template(f"email/{template}.html", subject=subject, **context)
    except TemplateNotFound:
        return render_template("email/_layout.html", subject=subject, body=text_to_html(text))


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def build_message(sender: str, to: str, subject: str, message_id: str, created_at: datetime,
                  text: str, html: str | None, headers: dict[str, str] | None = None) -> Message:
    """The MIME message: the same Message-ID and Date on every delivery attempt.

    Built with the compat32 classes (MIMEText): the worker builds one per delivery, and these are
    several times cheaper than EmailMessage's header parsing.
    """
    message: Message
    if html:
        message = MIMEMultipart("alternative")
        message.attach(MIMEText(text, "plain", "utf-8"))
        message.attach(MIMEText(html, "html", "utf-8"))
    else:
        message = MIMEText(text, "plain", "utf-8")
    message["From"] = _header(sender)
    message["To"] = to
    message["Subject"] = _header(subject)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(created_at.replace(tzinfo=timezone.utc))
    for name, value in (headers or {}).items():
        message[name] = value
    return message


# --- Transport: what the worker calls ---------------------------------------------------------

_connections = threading.local()  # one open SMTP connection per worker thread, reused from mail to mail
_tls_contexts: dict[str | None, ssl.SSLContext] = {}


def _tls_context(cafile: str | None) -> ssl.SSLContext:
    """A verifying TLS context (the system's CAs, or MAIL_TLS_CA_FILE), made once: loading CAs is slow."""
    if cafile not in _tls_contexts:
        _tls_contexts[cafile] = ssl.create_default_context(cafile=cafile)
    return _tls_contexts[cafile]


def _connect(config) -> smtplib.SMTP:
    server, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config.get("MAIL_TIMEOUT", 10)
    use_ssl, use_tls = config.get("MAIL_USE_SSL"), config.get("MAIL_USE_TLS")
    context = _tls_context(config.get("MAIL_TLS_CA_FILE") or None) if (use_ssl or use_tls) else None
    if use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(server, port, timeout=timeout)
    try:
        if use_tls and not use_ssl:
            smtp.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def close_connection() -> None:
    """Close this thread's SMTP connection, if any."""
    smtp = getattr(_connections, "smtp", None)
    _connections.smtp = _connections.key = None
    if smtp is not None:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def transmit(message: Message) -> None:
    """Hand one message to the mail server (STARTTLS or TLS, with log-in when configured).

    The thread keeps its connection open for the next message (a server that closed it meanwhile
    is reconnected once). Raises smtplib.SMTPException or OSError when the server refuses or cannot
    be reached. Without MAIL_SERVER (development only: production refuses to start), writes the
    message to instance/outbox/.
    """
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        _write_to_outbox(message)
        return
    key = tuple(config.get(name) for name in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_SSL", "MAIL_USE_TLS",
                                              "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_TLS_CA_FILE", "MAIL_TIMEOUT"))
    smtp = getattr(_connections, "smtp", None)
    if smtp is not None and _connections.key != key:
        close_connection()
        smtp = None
    if smtp is not None:
        try:
            smtp.send_message(message)
            return
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            close_connection()  # closed by the server while idle: one new connection below
        except MESSAGE_REFUSALS:
            raise  # smtplib sent RSET: the connection is fine for the next message
        except BaseException:
            close_connection()  # the conversation's state is unknown: never reuse it
            raise
    smtp = _connect(config)
    _connections.smtp, _connections.key = smtp, key
    try:
        smtp.send_message(message)
    except MESSAGE_REFUSALS:
        raise
    except BaseException:
        close_connection()
        raise


# Refusals of one message, after which smtplib has reset the conversation (the connection stays usable).
MESSAGE_REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def is_permanent(error: BaseException) -> bool:
    """A 5xx answer (bad address, refused sender) will not change on retry."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return False  # a password fixed by the operator makes the retry work
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _write_to_outbox(message: Message) -> None:
    """Development delivery: print the mail and keep a copy as an .eml file."""
    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{message['To'].replace('@', '_at_')}.eml"
    (outbox / name).write_bytes(bytes(message))
    text = next((part.get_payload(decode=True).decode("utf-8") for part in message.walk()
                 if part.get_content_type() == "text/plain"), "")
    log.warning("Mail to %s: %s\n%s", message["To"], message["Subject"], text)
