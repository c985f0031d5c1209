"""The mixed load: the pages members, officers, staff and visitors open most, each as its demo role.

Used by `bench.pages` (server time of each page, in process, with an optional profile) and by
`bench.load` (the same pages driven over HTTP against gunicorn by wrk).
"""
from __future__ import annotations

from typing import NamedTuple

MEMBER = "member@example.org"
PRESIDENT = "president@example.org"
TREASURER = "treasurer@example.org"
DISTRICT = "district@example.org"
STAFF = "staff@example.org"
ROLES = (MEMBER, PRESIDENT, TREASURER, DISTRICT, STAFF)
SEARCH = "smith"  # a common seeded last name (also a prefix of none other, so ranking is exercised)
CHAPTER = 1  # the demo chapter: the demo officers' own, and the largest seeded chapter


class Page(NamedTuple):
    name: str
    role: str | None  # None: a visitor who is not logged in
    path: str


MIX = (
    Page("dashboard", MEMBER, "/dashboard"),
    Page("my_payments", MEMBER, "/my/payments"),
    Page("transcript", MEMBER, "/transcript"),
    Page("exams", MEMBER, "/exams"),
    Page("roster", PRESIDENT, f"/chapters/{CHAPTER}/roster"),
    Page("roster_search", TREASURER, f"/chapters/{CHAPTER}/roster?q={SEARCH}"),
    Page("roster_view", DISTRICT, f"/chapters/{CHAPTER}/roster?view=expiring-90"),
    Page("directory", None, "/chapters"),
    Page("chapter_page", None, f"/chapters/{CHAPTER}"),
    Page("login_page", None, "/login"),
    Page("staff_search", STAFF, f"/admin/members?q={SEARCH}"),
)
PAGE_TARGET_MS = 15
DIRECTORY_TARGET_MS = 10
