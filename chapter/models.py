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
    CorporateMembership,
    CorporateSeat,
    Member,
    MembershipKind,
    MembershipStatus,
    MembershipTerm,
    MembershipType,
    Organization,
    TermSource,
)

from chapter.payments.models import (
    Order,
    OrderLine,
    OrderPurpose,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RenewalAttempt,
    RenewalReminder,
    StripeEvent,
    TermAction,
)

__all__ = [
    "Chapter",
    "ChapterTransfer",
    "CorporateMembership",
    "CorporateSeat",
    "Counter",
    "District",
    "DistrictManagerTerm",
    "Member",
    "MembershipKind",
    "MembershipStatus",
    "MembershipTerm",
    "MembershipType",
    "OfficerPosition",
    "Order",
    "OrderLine",
    "OrderPurpose",
    "OrderStatus",
    "Payment",
    "PaymentStatus",
    "Refund",
    "RenewalAttempt",
    "RenewalReminder",
    "StripeEvent",
    "TermAction",
    "OfficerTerm",
    "Organization",
    "TermSource",
    "User",
]
