"""Jinja filters and globals every template can use."""
from datetime import date
from urllib.parse import urlencode

from flask import Flask, request, url_for
from markupsafe import Markup

from chapter.core.formatting import format_chapter, format_date, format_money, format_month
from chapter.core.permissions import current_roles


# The characters url_for (Werkzeug's URL builder) leaves unquoted in a query string: url_with's links must be
# the ones url_for would build.
_QUERY_SAFE = "!$'()*,/:;?@"


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one); for pagers and sorts.

    A list page asks for 15-25 of these (status tabs, sort headers, pager): the path is built by url_for
    once per request, and each link is that path with its own query string, as url_for would write it.
    """
    view_args = request.view_args or {}
    # Keys url_for keeps for itself (_method, _external, ...) or that name a path part (?number=5) are
    # dropped: they are not filters, and passing them on would fail the page.
    args = {key: value for key, value in request.args.items()
            if not key.startswith("_") and key != "endpoint" and key not in view_args}
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    if any(key.startswith("_") or key in view_args for key in changes):  # a path part or url_for's own: url_for decides
        return url_for(request.endpoint, **{**view_args, **args})
    # Kept on the request itself, not on g: a test's app context outlives (and is shared by) its requests.
    path = getattr(request, "_url_with_path", None)
    if path is None:
        path = request._url_with_path = url_for(request.endpoint, **view_args)
    return f"{path}?{urlencode(list(args.items()), safe=_QUERY_SAFE)}" if args else path


# (script root, endpoint, static filename) -> path. A link to a route without arguments (the menu's pages,
# the static files) is the same on every request of a deployment; url_for costs tens of microseconds and
# the menu asks for 20-35 of them on every page.
_fixed_links: dict[tuple[str, str, str | None], str] = {}


def link(endpoint: str, filename: str | None = None) -> str:
    """url_for(endpoint) for a route without arguments (or a static file), built once per process."""
    key = (request.script_root, endpoint, filename)
    path = _fixed_links.get(key)
    if path is None:
        path = url_for(endpoint, filename=filename) if filename is not None else url_for(endpoint)
        if len(_fixed_links) < 1000:  # only fixed routes come here; the bound is a guard, never reached
            _fixed_links[key] = path
    return path


# status -> its badge's HTML. A list page shows one badge a row: a macro call per row cost about as much as the
# rest of the row, and the badge of a status never changes.
_status_badges: dict[object, Markup] = {}


def status_badge(status) -> Markup:
    """The coloured badge of a membership status (`status.value` picks the colour, `status.label` is shown)."""
    badge = _status_badges.get(status)
    if badge is None:
        badge = Markup('<span class="badge badge-status-{}">{}</span>').format(status.value, status.label)
        if len(_status_badges) < 100:  # the statuses of an enum: a handful
            _status_badges[status] = badge
    return badge


def register_template_helpers(app: Flask) -> None:
    """Register filters (money, date, chapter) and globals (roles, url_with)."""
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["chapter"] = format_chapter
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["link"] = link
    app.jinja_env.globals["status_badge"] = status_badge
    app.jinja_env.globals["current_roles"] = current_roles
