"""Demo API tokens: the demo president's chapter web site token, so the token pages show one in use."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from chapter.api import tokens
from chapter.auth.models import User
from chapter.core.permissions import roles_of
from chapter.extensions import db
from chapter.seed.members import DEMO_DOMAIN


def seed_demo_api_tokens(day: date) -> int:
    """One token of the demo president for chapter #1 (its text is random and not kept: make your own to try)."""
    president = db.session.scalar(sa.select(User).where(User.email == f"president@{DEMO_DOMAIN}"))
    if president is None:
        return 0
    roles = roles_of(president, day)
    chapter_ids = list(roles.positions_by_chapter)[:1]
    if not chapter_ids:
        return 0
    token, _ = tokens.create_token(president, roles=roles, name="Chapter web site (demo)",
                                   scopes=["roster:read", "events:read"], chapter_ids=chapter_ids,
                                   all_chapters=False, expires_on=day + timedelta(days=180), today=day)
    token.last_used_at = datetime.combine(day - timedelta(days=1), time(9, 30))
    db.session.flush()
    return 1
