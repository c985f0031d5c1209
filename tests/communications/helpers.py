"""Shared set-up for the communications tests: a chapter with members ending at chosen dates."""
from __future__ import annotations

import re
from datetime import timedelta

from chapter.core.models import today
from chapter.members import services as member_services
from chapter.members.models import TermSource
from tests import factories


def member_until(home, first: str, last: str, days_from_today: int, **profile):
    """A member of `home` whose term ends `days_from_today` from today (negative: in the past)."""
    email = profile.pop("email", f"{first.lower()}.{last.lower()}@example.org")
    made = factories.member(home=home, status="pending", first_name=first, last_name=last, email=email, **profile)
    if email is None:
        made.email = None  # on the roster without an address
    ends = today() + timedelta(days=days_from_today)
    member_services.grant_term(made, factories.membership_type(), starts_on=ends - timedelta(days=364), ends_on=ends,
                               source=TermSource.PAYMENT, actor=None)
    return made


def compose_form(client, number: int, **fields) -> dict:
    """The compose form's fields as a person submits them (defaults: the whole roster, chapter news, now)."""
    data = {"audience": "all", "category": "chapter_news", "subject": "Hello", "body": "Hello {{first_name}}",
            "when": "now", "roster_filter": ""}
    data.update(fields)
    return data


def message_id_from(response) -> int:
    return int(re.search(r"/messages/(\d+)$", response.headers["Location"]).group(1))
