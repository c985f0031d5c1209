"""The certification services, one module per sub-domain; this module re-exports their public names.

Import from here (`from chapter.certifications import services`) or from the sub-module itself:
exams (catalogue, buying, ATTs), results, awards (certifications and their status), points
(maintenance points: claims, reviews, what counts), applications (maintenance, reinstatement, CFPIM,
eligibility), verification, benefits.
"""
from __future__ import annotations

# The names the single module used to import, so `services.CertificationType` and the like keep working.
from chapter.certifications.models import (  # noqa: F401
    ApplicationStatus, Benefit, CertificationApplication, CertificationStatus, CertificationType, Exam,
    ExamEligibility, ExamProgram, ExamRegistration, ExamResult, MemberCertification, PointCategory, PointEntry,
    membership_type_benefits,
)
from chapter.certifications.dates import end_of_month  # noqa: F401
from chapter.certifications.exams import (  # noqa: F401
    PurchaseRefused, AttExpired, exams_on_sale, exams_on_sale_for, all_exams, exam_by_code, Quote, quote, retake_allowed_from,
    check_can_buy, start_exam_purchase, issue_att, fulfil_exam_order, att_for_scheduling, registrations_of,
)
from chapter.certifications.awards import (  # noqa: F401
    CERTIFICATE_NUMBER_START, program_completed_on, cycle_end_for, grant_certification, latest_awards,
    award_due_certifications, suspension_year_ends, terminated_from, own_status, required_award, status_of,
    status_reason, years_suspended, points_required, member_holds_certification, certifications_of,
)
from chapter.certifications.results import (  # noqa: F401
    record_exam_result, ResultLine, RESULT_COLUMNS, parse_results_csv, ImportRejected, import_results,
    RESULT_SORTS, results_query, results_of,
)
from chapter.certifications.points import (  # noqa: F401
    counted_points, cycle_starts_on, membership_days, DAYS_PER_MEMBERSHIP_YEAR, membership_points,
    standing_applications, used_entry_ids, membership_counted_through, available_entries, PointsSummary,
    points_summary, MemberPoints, member_points, summary_of, point_entries_of_id, FellowshipPoints,
    fellowship_points, certification_types, certification_codes, RULE_FIELDS,
    update_certification_rules, update_point_category, point_categories, log_points, can_review_points,
    VP_EDUCATION, review_points, claims_to_review, point_entries_of,
)
from chapter.certifications.applications import (  # noqa: F401
    submit_maintenance, approve_application, reject_application, submit_fellowship, ELIGIBILITY_BASES,
    eligible_exam_ids, submit_eligibility, pending_applications,
)
from chapter.certifications.verification import Verification, verify  # noqa: F401
from chapter.certifications.benefits import benefits_on, magazine_subscribers  # noqa: F401
