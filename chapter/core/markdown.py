"""Markdown that officers write (event descriptions, messages to members), rendered to safe HTML.

markdown-it-py (CommonMark) turns the text into HTML with raw HTML disabled; nh3 (the Rust ammonia
sanitiser) then keeps only the tags and attributes below, so whatever is typed, nothing runs in a reader's
browser or mail client. Links get rel="noopener noreferrer nofollow".
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str | None) -> Markup:
    """Sanitised HTML for Markdown `text` (empty Markup for None or blank)."""
    if not text or not text.strip():
        return Markup("")
    html = _parser.render(text)
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                      link_rel="noopener noreferrer nofollow")
    return Markup(clean)


def markdown_to_text(text: str | None) -> str:
    """The plain-text version for the text part of a mail: the Markdown itself, minus nothing (it reads well)."""
    return (text or "").strip()
