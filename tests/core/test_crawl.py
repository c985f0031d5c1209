"""Every page a person can reach by following links answers without an error and with a plain title."""
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest

from chapter.seed import demo
from chapter.extensions import db

HREF = re.compile(r'href="([^"]+)"')
TITLE = re.compile(r"<title>([^<]*)</title>")


@pytest.mark.parametrize("email", ["staff@example.org", "president@example.org", "treasurer@example.org",
                                   "district@example.org", "member@example.org"])
def test_following_every_link_finds_no_broken_page(app, client, email):
    demo.seed_demo(members=60, chapters=9)
    db.session.commit()
    client.login(email, demo.DEMO_PASSWORD)
    seen, queue, visited = set(), deque(["/dashboard"]), 0
    while queue and visited < 160:
        url = queue.popleft()
        response = client.get(url)
        visited += 1
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        page = response.get_data(as_text=True)
        assert TITLE.search(page), f"{url} has no plain <title>"
        for href in HREF.findall(page):
            href = urldefrag(href.replace("&amp;", "&"))[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not href.startswith("/") or href.startswith("/static/"):
                continue
            if href.endswith(".csv") or ".csv?" in href or "format=csv" in href or href in seen:
                continue
            seen.add(href)
            queue.append(href)
    assert visited > 20
