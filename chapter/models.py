"""One import point for every feature's models (Alembic, the shell, the tests)."""
from chapter.auth.models import AccountInvitation, LoginThrottle, User
from chapter.chapters.models import (
    Chapter,
    ChapterTransfer,
    District,
    DistrictManagerTerm,
    MemberNote,
    OfficerPosition,
    OfficerTerm,
    RosterImport,
    RosterImportStatus,
    TransferRequest,
    TransferRequestStatus,
)
from chapter.core.audit import AuditAction, AuditEntry
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
    Dispute,
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
    "AuditAction",
    "AuditEntry",
    "MemberNote",
    "RosterImport",
    "RosterImportStatus",
    "TransferRequest",
    "TransferRequestStatus",
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
    "Dispute",
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
    "AccountInvitation",
    "LoginThrottle",
]

from chapter.treasury.models import (  # noqa: E402
    ClosedPeriod,
    LedgerEntry,
    LedgerKind,
    MatchStatus,
    StripeBalanceTransaction,
    StripePayout,
    SyncCursor,
)

__all__ += ["ClosedPeriod", "LedgerEntry", "LedgerKind", "MatchStatus", "StripeBalanceTransaction", "StripePayout",
            "SyncCursor"]

from chapter.certifications.models import (  # noqa: E402
    Benefit,
    CertificationApplication,
    CertificationType,
    Exam,
    ExamEligibility,
    ExamProgram,
    ExamRegistration,
    ExamResult,
    MemberCertification,
    PointCategory,
    PointEntry,
    application_points,
)
from chapter.members.eligibility import EligibilityRecord  # noqa: E402
from chapter.members.corporate_renewals import CorporateNotice  # noqa: E402

__all__ += ["Benefit", "CertificationApplication", "CertificationType", "Exam", "ExamEligibility", "ExamProgram",
            "ExamRegistration", "ExamResult", "MemberCertification", "PointCategory", "PointEntry",
            "application_points", "EligibilityRecord", "CorporateNotice"]

from chapter.jobs.models import JobFailure, JobLock, OutboxMail, PeriodicRun, WorkerHeartbeat  # noqa: E402

__all__ += ["JobFailure", "JobLock", "OutboxMail", "PeriodicRun", "WorkerHeartbeat"]

from chapter.members.corporate_offers import SeatOffer, SeatOfferStatus  # noqa: E402

__all__ += ["SeatOffer", "SeatOfferStatus"]

from chapter.api.models import ApiToken, api_token_chapters  # noqa: E402

__all__ += ["ApiToken", "api_token_chapters"]

from chapter.health import indexes as _health_indexes  # noqa: E402,F401  (covering indexes of health)
from chapter.standards.models import RecognitionLevel, RosterReview, Standard, StandardsReport  # noqa: E402

__all__ += ["RecognitionLevel", "RosterReview", "Standard", "StandardsReport"]
from chapter.events.models import (  # noqa: E402
    Event,
    EventKind,
    EventPrice,
    EventSession,
    EventStatus,
    PriceCategory,
    RefundTier,
    Registration,
    RegistrationStatus,
)

__all__ += ["Event", "EventKind", "EventPrice", "EventSession", "EventStatus", "PriceCategory", "RefundTier",
            "Registration", "RegistrationStatus"]
from chapter.outgoing.models import AnnouncedLapse, WebhookDelivery, WebhookEndpoint  # noqa: E402

__all__ += ["AnnouncedLapse", "WebhookDelivery", "WebhookEndpoint"]
from chapter.communications.models import (  # noqa: E402
    ChapterMessageCap,
    MailCategory,
    MailOptOut,
    Message,
    MessageRecipient,
)

__all__ += ["ChapterMessageCap", "MailCategory", "MailOptOut", "Message", "MessageRecipient"]

from chapter.events.door_models import EventReminder, ReminderKind  # noqa: E402  (events part B: reminders sent)

__all__ += ["EventReminder", "ReminderKind"]
from chapter.chapters import roster_counts as _roster_counts  # noqa: E402,F401  (the rosters' triggers, made with their tables)
