"""Every link a person is shown leads to a page that works: following all of them, as each role, finds no
error, no refusal and no missing page, and every page has a plain title.

Links that differ only by an id or a query value (one member record and the next, page 2 and page 3)
are one kind of page: each kind is opened once, so the crawl ends by itself, having opened them all.
"""
import re
from collections import deque
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest

from chapter.seed import demo
from chapter.extensions import db

HREF = re.compile(r'href="([^"]+)"')
TITLE = re.compile(r"<title>([^<]*)</title>")
NUMBER = re.compile(r"(?<=/)[^/]*\d[^/]*(?=/|$)")  # a path segment holding an id, a number or a token
# Far above what the demo has (a hundred or so kinds of page): reaching it means the crawl is not ending.
MAX_PAGES = 1500


def kind_of(href: str) -> str:
    """/chapters/3/members/100042?page=2 and /chapters/5/members/100007?page=3 are one kind of page."""
    parts = urlsplit(href)
    return NUMBER.sub("<id>", parts.path) + "?" + "&".join(sorted({k for k, _ in parse_qsl(parts.query)}))


def links_on(page: str) -> list[str]:
    found = []
    for href in HREF.findall(page):
        href = urldefrag(href.replace("&amp;", "&"))[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/") or href.startswith("/static/"):
            continue
        found.append(href)
    return found


# Pages each role must reach by following links from the dashboard (so the crawl cannot pass by seeing little).
MUST_REACH = {
    "staff@example.org": {"/admin/members/<id>?", "/treasury/?", "/chapters/<id>/members/<id>?", "/admin/payments?"},
    "president@example.org": {"/chapters/<id>/audit?", "/chapters/<id>/members/<id>?", "/chapters/<id>/officers?"},
    "treasurer@example.org": {"/treasury/chapters/<id>?", "/payments/<id>/refund?", "/payments/<id>/receipt?"},
    "district@example.org": {"/chapters/<id>/members/<id>?", "/chapters/<id>/transfers?"},
    "member@example.org": {"/my/payments?", "/payments/<id>/receipt?", "/transcript?", "/membership/renew?"},
}


@pytest.mark.parametrize("email", list(MUST_REACH))
def test_every_link_shown_leads_to_a_working_page(app, client, email):
    demo.seed_demo(members=60, chapters=9)
    db.session.commit()
    client.login(email, demo.DEMO_PASSWORD)
    kinds, queue, opened, broken = {kind_of("/dashboard")}, deque([("/dashboard", "the log-in")]), 0, []
    while queue:
        url, linked_from = queue.popleft()
        response = client.get(url)
        opened += 1
        assert opened <= MAX_PAGES, f"more than {MAX_PAGES} kinds of page: the crawl does not end"
        if response.status_code in (301, 302, 303):
            target = response.headers["Location"]
            assert "/login" not in target, f"{url} (linked from {linked_from}) sends a logged-in user to log in"
            targets = [target] if target.startswith("/") else []
        elif response.status_code != 200:
            broken.append(f"{url} (linked from {linked_from}) answered {response.status_code}")
            continue
        elif response.mimetype != "text/html":
            response.get_data()  # read a streamed CSV to its end, inside this request
            continue
        else:
            page = response.get_data(as_text=True)
            assert TITLE.search(page), f"{url} has no plain <title>"
            targets = links_on(page)
        for href in targets:
            if kind_of(href) not in kinds:
                kinds.add(kind_of(href))
                queue.append((href, url))
    assert not broken, "links that lead nowhere:\n" + "\n".join(broken)
    assert MUST_REACH[email] <= kinds, f"never reached: {sorted(MUST_REACH[email] - kinds)}"
