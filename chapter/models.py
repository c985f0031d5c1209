"""One import point for every feature's models (Alembic, the shell, the tests)."""
from chapter.auth.models import User
from chapter.chapters.models import (
    Chapter,
    ChapterTransfer,
    District,
    DistrictManagerTerm,
    OfficerPosition,
    OfficerTerm,
)
from chapter.core.sequences import Counter
from chapter.members.models import (
    Member,
    MembershipKind,
    MembershipStatus,
    MembershipTerm,
    MembershipType,
    Organization,
    TermSource,
)

__all__ = [
    "Chapter",
    "ChapterTransfer",
    "Counter",
    "District",
    "DistrictManagerTerm",
    "Member",
    "MembershipKind",
    "MembershipStatus",
    "MembershipTerm",
    "MembershipType",
    "OfficerPosition",
    "OfficerTerm",
    "Organization",
    "TermSource",
    "User",
]
