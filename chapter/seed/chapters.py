"""The chapters feature's seed: districts and officer positions (reference), numbered chapters and officers (demo)."""
from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.models import Chapter, District, OfficerPosition, OfficerTerm
from chapter.extensions import db
from chapter.members.services import add_months, next_member_numbers
from chapter.seed.members import DEMO_DOMAIN, FIRST_NAMES, LAST_NAMES, seed_demo_member

DISTRICTS = [
    ("CAN", "Canadian"), ("GL", "Great Lakes"), ("HL", "Heartland"), ("MA", "Mid-Atlantic"),
    ("NE", "Northeast"), ("PW", "Pacific Western"), ("SE", "Southeast"), ("SW", "Southwest"),
    ("TG", "Terra Grande"),
]

# code, title, sort, roster, export, manage officers, finances, manage members (import, transfers), audit log
OFFICER_POSITIONS = [
    ("president", "President", 10, True, True, True, True, True, True),
    ("past_president", "Past President", 20, True, False, False, False, False, False),
    ("president_elect", "President-Elect", 30, True, False, False, False, False, False),
    ("executive_vp", "Executive VP", 40, True, False, False, False, False, False),
    ("vp_administration", "VP Administration", 50, True, False, False, False, False, False),
    ("treasurer", "Treasurer / VP Finance", 60, True, False, False, True, False, False),
    ("secretary", "Secretary", 70, True, True, False, False, True, False),
    ("vp_membership", "VP Membership", 80, True, True, False, False, True, False),
    ("vp_education", "VP Education", 90, True, False, False, False, False, False),
    ("vp_programs", "VP Programs", 100, True, False, False, False, False, False),
    ("vp_marketing", "VP Marketing", 110, True, False, False, False, False, False),
    ("vp_newsletter", "VP Newsletter", 120, True, False, False, False, False, False),
    ("webmaster", "Webmaster", 130, False, False, False, False, False, False),
]


def reference_positions() -> list[OfficerPosition]:
    """The standard officer positions as unsaved objects, in display order (for the role table); rights
    added by later features are set by those features' seed (events: chapter/seed/events.py, outgoing
    webhooks: chapter/seed/integrations.py, messages: chapter/seed/communications.py)."""
    from chapter.seed.communications import with_messaging_rights
    from chapter.seed.events import with_event_rights
    from chapter.seed.integrations import grant_integration_rights

    return with_messaging_rights(grant_integration_rights(with_event_rights([
        OfficerPosition(code=code, title=title, sort_order=sort, can_view_roster=roster, can_export_roster=export,
                        can_manage_officers=manage, can_view_finances=finances, can_manage_members=members,
                        can_read_audit_log=audit)
        for code, title, sort, roster, export, manage, finances, members, audit in sorted(OFFICER_POSITIONS, key=lambda p: p[2])
    ])))


def ensure_districts_and_positions() -> None:
    """Add the standard districts and officer positions that are missing."""
    existing = set(db.session.scalars(sa.select(District.code)))
    for code, name in DISTRICTS:
        if code not in existing:
            db.session.add(District(code=code, name=name))
    existing = set(db.session.scalars(sa.select(OfficerPosition.code)))
    for position in reference_positions():
        if position.code not in existing:
            db.session.add(position)


CITIES = [
    ("Schuylkill Valley", "PA"), ("Pittsburgh", "PA"), ("Central Penn", "PA"), ("Philadelphia", "PA"),
    ("Boston", "MA"), ("Hartford", "CT"), ("New York City", "NY"), ("Rochester", "NY"), ("Buffalo", "NY"),
    ("Cleveland", "OH"), ("Columbus", "OH"), ("Cincinnati", "OH"), ("Detroit", "MI"), ("Grand Rapids", "MI"),
    ("Chicago", "IL"), ("Milwaukee", "WI"), ("Indianapolis", "IN"), ("Louisville", "KY"), ("Nashville", "TN"),
    ("Atlanta", "GA"), ("Charlotte", "NC"), ("Raleigh-Durham", "NC"), ("Tampa Bay", "FL"), ("Orlando", "FL"),
    ("Miami", "FL"), ("Birmingham", "AL"), ("Dallas", "TX"), ("Houston", "TX"), ("Austin", "TX"),
    ("San Antonio", "TX"), ("Oklahoma City", "OK"), ("Kansas City", "MO"), ("St. Louis", "MO"), ("Omaha", "NE"),
    ("Des Moines", "IA"), ("Minneapolis", "MN"), ("Denver", "CO"), ("Phoenix", "AZ"), ("Tucson", "AZ"),
    ("Albuquerque", "NM"), ("Salt Lake City", "UT"), ("Las Vegas", "NV"), ("Los Angeles", "CA"),
    ("Orange County", "CA"), ("San Diego", "CA"), ("San Francisco", "CA"), ("Sacramento", "CA"),
    ("Portland", "OR"), ("Seattle", "WA"), ("Spokane", "WA"), ("Toronto", "ON"), ("Ottawa", "ON"),
    ("Montreal", "QC"), ("Calgary", "AB"), ("Edmonton", "AB"), ("Vancouver", "BC"), ("Winnipeg", "MB"),
    ("Halifax", "NS"), ("Baltimore", "MD"), ("Richmond", "VA"),
]
DISTRICT_BY_REGION = {
    "PA": "MA", "MD": "MA", "VA": "MA", "MA": "NE", "CT": "NE", "NY": "NE", "OH": "GL", "MI": "GL",
    "IL": "GL", "WI": "GL", "IN": "GL", "KY": "SE", "TN": "SE", "GA": "SE", "NC": "SE", "FL": "SE", "AL": "SE",
    "TX": "SW", "OK": "SW", "MO": "HL", "NE": "HL", "IA": "HL", "MN": "HL", "CO": "TG", "AZ": "TG", "NM": "TG",
    "UT": "TG", "NV": "PW", "CA": "PW", "OR": "PW", "WA": "PW", "ON": "CAN", "QC": "CAN", "AB": "CAN",
    "BC": "CAN", "MB": "CAN", "NS": "CAN",
}
def seed_demo_chapters(rng: random.Random, count: int) -> list[Chapter]:
    """Create `count` numbered chapters spread over the districts; chapter #1 comes first."""
    districts = {d.code: d for d in db.session.scalars(sa.select(District))}
    rows = []
    numbers = [1] + rng.sample(range(2, max(400, count * 2)), count - 1)
    for index in range(count):
        city, region = CITIES[index % len(CITIES)]
        suffix = ["", " North", " South", " East", " West", " Metro", " Valley"][index // len(CITIES) % 7]
        if index >= len(CITIES) * 7:
            suffix = f" Area {index}"
        chapter = Chapter(
            number=numbers[index], name=f"{city}{suffix}", city=city, region=region,
            country="CA" if DISTRICT_BY_REGION[region] == "CAN" else "US",
            currency="CAD" if DISTRICT_BY_REGION[region] == "CAN" else "USD",
            district_id=districts[DISTRICT_BY_REGION[region]].id, dues_share_cents=3500,
        )
        rows.append(chapter)
    db.session.add_all(rows)
    db.session.flush()
    return rows


def seed_demo_officers(rng, chapters, positions, types, password_hash, day) -> None:
    """Every chapter gets a president, treasurer, secretary and VP Membership; chapter #1 gets the demo log-ins.

    Built as objects first and written in two flushes (multi-row INSERTs, not one round trip each)."""
    professional = types["professional"]
    people = []  # (user, first, last, chapter, start) of the officers who are members too
    for chapter in chapters:
        for code in ("president", "treasurer", "secretary", "vp_membership"):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            is_demo = chapter is chapters[0] and code in ("president", "treasurer")
            email = f"{code}@{DEMO_DOMAIN}" if is_demo else f"{code}.{chapter.number}@{DEMO_DOMAIN}"
            user = User(email=email, name=f"{first} {last}", password_hash=password_hash)
            db.session.add(user)
            if code in ("president", "treasurer"):
                people.append((user, first, last, chapter, day - timedelta(days=rng.randint(10, 300))))
            db.session.add(OfficerTerm(chapter=chapter, user=user, position=positions[code],
                                       starts_on=day - timedelta(days=rng.randint(30, 300)),
                                       ends_on=add_months(day, 12)))
    member_user = User(email=f"member@{DEMO_DOMAIN}", name="Morgan Member", password_hash=password_hash)
    db.session.add(member_user)
    # The demo member's term ends in three weeks, so renewing can be tried at once.
    people.append((member_user, "Morgan", "Member", chapters[0],
                   add_months(day + timedelta(days=21), -12) + timedelta(days=1)))
    db.session.flush()  # the users first (their ids, not the relationship: no backref to load)
    first_number = next_member_numbers(len(people))
    for offset, (user, first, last, chapter, start) in enumerate(people):
        seed_demo_member(user, first, last, chapter, professional, day, rng, start=start,
                         member_number=str(first_number + offset), flush=False)
    db.session.flush()
