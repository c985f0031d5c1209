"""Reference data every installation starts with: districts, officer positions, membership types, exams.

All of it is data that staff can edit afterwards; `ensure_reference_data` only adds what is missing.
Each feature's part lives in a module of its own (`seed/chapters.py`, `seed/members.py`, ...).
"""
from chapter.extensions import db
from chapter.seed.certifications import ensure_certification_catalogue
from chapter.seed.events import ensure_event_rights
from chapter.seed.chapters import DISTRICTS, OFFICER_POSITIONS, ensure_districts_and_positions
from chapter.seed.members import MEMBERSHIP_TYPES, ensure_membership_types

__all__ = ["DISTRICTS", "MEMBERSHIP_TYPES", "OFFICER_POSITIONS", "ensure_reference_data"]


def ensure_reference_data() -> None:
    """Add the standard districts, officer positions, membership types and exam catalogue that are missing."""
    ensure_districts_and_positions()
    ensure_membership_types()
    db.session.flush()
    ensure_event_rights()
    ensure_certification_catalogue()
