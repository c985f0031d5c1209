"""Reference data every installation starts with: districts, officer positions, membership types.

All of it is data that staff can edit afterwards; `ensure_reference_data` only adds what is missing.
"""
import sqlalchemy as sa

from chapter.chapters.models import District, OfficerPosition
from chapter.extensions import db
from chapter.members.models import MembershipKind, MembershipType

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

# Prices and shares are unconfirmed in DOMAIN.md: starting figures, editable by staff.
MEMBERSHIP_TYPES = [
    dict(code="professional", name="Professional", kind=MembershipKind.INDIVIDUAL, join_price_cents=21000,
         renewal_price_cents=21000, chapter_share_cents=3500, term_months=12, sort_order=10,
         description="Full association and chapter membership."),
    dict(code="student", name="Student", kind=MembershipKind.STUDENT, join_price_cents=4500,
         renewal_price_cents=4500, chapter_share_cents=1000, term_months=12, sort_order=20,
         description="For full-time students."),
    dict(code="retired", name="Retired", kind=MembershipKind.RETIRED, join_price_cents=9500,
         renewal_price_cents=9500, chapter_share_cents=2000, term_months=12, sort_order=30,
         description="For members aged 62 or more who have retired."),
    dict(code="honorary_chapter", name="Honorary Chapter", kind=MembershipKind.HONORARY, join_price_cents=17500,
         renewal_price_cents=17500, chapter_share_cents=0, term_months=12, sort_order=40, is_public=False,
         description="Named by a chapter; billed only the association's portion."),
    dict(code="honorary", name="Honorary", kind=MembershipKind.HONORARY, join_price_cents=0,
         renewal_price_cents=0, chapter_share_cents=0, term_months=12, sort_order=50, is_public=False,
         is_invoiced=False, description="Granted by staff; never invoiced."),
    dict(code="lifetime", name="Lifetime", kind=MembershipKind.LIFETIME, join_price_cents=0,
         renewal_price_cents=0, chapter_share_cents=0, term_months=None, sort_order=60, is_public=False,
         is_invoiced=False, description="Granted by staff; never ends, never invoiced."),
    dict(code="corporate_seat", name="Corporate seat", kind=MembershipKind.CORPORATE_SEAT, join_price_cents=18500,
         renewal_price_cents=18500, chapter_share_cents=3500, term_months=12, sort_order=70, is_public=False,
         min_seats=5, description="A named employee's seat in an organization's corporate membership."),
]


def ensure_reference_data() -> None:
    """Add the standard districts, officer positions and membership types that are missing."""
    existing = set(db.session.scalars(sa.select(District.code)))
    for code, name in DISTRICTS:
        if code not in existing:
            db.session.add(District(code=code, name=name))
    existing = set(db.session.scalars(sa.select(OfficerPosition.code)))
    for code, title, sort, roster, export, manage, finances, members, audit in OFFICER_POSITIONS:
        if code not in existing:
            db.session.add(OfficerPosition(
                code=code, title=title, sort_order=sort, can_view_roster=roster, can_export_roster=export,
                can_manage_officers=manage, can_view_finances=finances, can_manage_members=members,
                can_read_audit_log=audit,
            ))
    existing = set(db.session.scalars(sa.select(MembershipType.code)))
    for fields in MEMBERSHIP_TYPES:
        if fields["code"] not in existing:
            db.session.add(MembershipType(**fields))
    db.session.flush()
    from chapter.certifications.catalogue import ensure_catalogue

    ensure_catalogue()
