"""The exam and certification rules of DOMAIN.md, tested with explicit dates."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.models import (
    CertificationStatus, Exam, ExamRegistration, MemberCertification, PointCategory, PointEntry,
)
from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from chapter.members.services import add_months
from tests import factories


def exam(code: str) -> Exam:
    factories.reference_data()
    return services.exam_by_code(code)


def member_paid_through(last_day: date, **fields):
    """A member whose one-year term ends on `last_day`."""
    made = factories.member(status="pending", **fields)
    member_services.grant_term(made, factories.membership_type(), starts_on=add_months(last_day, -12) + timedelta(days=1),
                               source=TermSource.PAYMENT, actor=None)
    return made


def held(member, code: str) -> MemberCertification | None:
    return db.session.scalar(sa.select(MemberCertification).join(MemberCertification.certification_type)
                             .where(MemberCertification.member_id == member.id,
                                    MemberCertification.certification_type.has(code=code)))


def test_catalogue_is_seeded_as_data_with_2017_fees(app):
    bscm = exam("BSCM")
    assert (bscm.member_fee_cents, bscm.non_member_fee_cents, bscm.score_min, bscm.score_max, bscm.pass_score) == \
        (12000, 15500, 265, 330, 300)
    part1 = exam("CPIM-P1")
    assert (part1.score_min, part1.score_max, part1.pass_score, part1.program.window_months) == (200, 350, 300, 36)
    assert bscm.program.window_months == 120
    assert not bscm.is_available_on(date(2026, 1, 1))
    assert bscm not in services.exams_on_sale(date(2026, 1, 1))


def test_member_whose_membership_lapses_the_day_before_buying_pays_the_non_member_price(app):
    member = member_paid_through(date(2026, 3, 31))
    assert services.quote(member, exam("CPIM-P1"), date(2026, 3, 31)).price_cents == 12000
    lapsed = services.quote(member, exam("CPIM-P1"), date(2026, 4, 1))
    assert (lapsed.price_cents, lapsed.member_price, lapsed.saving_cents) == (15500, False, 3500)
    order = services.start_exam_purchase(member, exam("CPIM-P1"), actor=None, day=date(2026, 4, 1))
    assert order.total_cents == 15500 and order.chapter_share_cents == 0 and order.membership_type_id is None


def test_a_retired_exam_cannot_be_bought(app):
    member = factories.member()
    with pytest.raises(services.PurchaseRefused):
        services.start_exam_purchase(member, exam("MPR"), actor=None, day=date(2026, 1, 1))


def test_reordering_reprices_the_one_open_exam_order(app):
    member = factories.member()
    first = services.start_exam_purchase(member, exam("CPIM-P1"), actor=None, day=date(2026, 1, 1))
    second = services.start_exam_purchase(member, exam("CLTD"), actor=None, day=date(2026, 1, 1))
    assert first.id == second.id
    assert db.session.scalar(sa.select(sa.func.count(ExamRegistration.id))) == 1


def test_fulfilment_issues_an_att_valid_six_months_and_an_expired_att_says_so(app):
    member = factories.member()
    order = services.start_exam_purchase(member, exam("CPIM-P1"), actor=None, day=date(2026, 1, 10))
    registration = services.fulfil_exam_order(order, date(2026, 1, 10))
    assert registration.att_code.startswith("ATT-")
    assert registration.expires_on == date(2026, 7, 10)
    assert services.att_for_scheduling(registration.att_code, date(2026, 7, 10)) is registration
    with pytest.raises(services.AttExpired, match="expired on 10 July 2026"):
        services.att_for_scheduling(registration.att_code, date(2026, 7, 11))
    with pytest.raises(services.AttExpired):
        services.record_exam_result(member, exam("CPIM-P1"), date(2026, 7, 11), 310, actor=None)
    assert registration.state_on(date(2026, 7, 11)) == "expired"


def test_a_retake_is_refused_on_day_13_and_accepted_on_day_14(app):
    member = factories.member()
    part1 = exam("CPIM-P1")
    services.record_exam_result(member, part1, date(2026, 2, 1), 280, actor=None)
    with pytest.raises(services.PurchaseRefused, match="15 February 2026"):
        services.check_can_buy(member, part1, date(2026, 2, 14))
    services.check_can_buy(member, part1, date(2026, 2, 15))


def test_score_outside_the_exams_range_is_refused(app):
    member = factories.member()
    with pytest.raises(DomainError):
        services.record_exam_result(member, exam("BSCM"), date(2015, 1, 1), 340, actor=None)


def _five_modules(member, first: date, fifth: date):
    for code, day in zip(["BSCM", "MPR", "DSP", "ECO"], [first, first + timedelta(days=100),
                                                         first + timedelta(days=200), first + timedelta(days=300)]):
        services.record_exam_result(member, exam(code), day, 305, actor=None)
    services.record_exam_result(member, exam("SMR"), fifth, 305, actor=None)


def test_five_modules_within_ten_years_earn_cpim(app):
    member = factories.member()
    _five_modules(member, date(2013, 5, 1), date(2023, 5, 1))
    cpim = held(member, "CPIM")
    assert cpim is not None and cpim.earned_on == date(2023, 5, 1)
    assert cpim.certificate_number.startswith("CPIM-")
    assert cpim.cycle_ends_on == date(2028, 5, 31)


def test_ten_year_window_that_closed_one_day_before_the_fifth_module_earns_nothing(app):
    member = factories.member()
    _five_modules(member, date(2013, 5, 1), date(2023, 5, 2))
    assert held(member, "CPIM") is None


def test_both_parts_within_three_years_earn_cpim(app):
    member = factories.member()
    services.record_exam_result(member, exam("CPIM-P1"), date(2020, 3, 15), 300, actor=None)
    services.record_exam_result(member, exam("CPIM-P2"), date(2023, 3, 15), 320, actor=None)
    assert held(member, "CPIM").earned_on == date(2023, 3, 15)


def test_parts_three_years_and_one_day_apart_earn_nothing(app):
    member = factories.member()
    services.record_exam_result(member, exam("CPIM-P1"), date(2020, 3, 15), 300, actor=None)
    services.record_exam_result(member, exam("CPIM-P2"), date(2023, 3, 16), 320, actor=None)
    assert held(member, "CPIM") is None


def test_legacy_modules_do_not_count_toward_the_parts(app):
    member = factories.member()
    services.record_exam_result(member, exam("BSCM"), date(2016, 3, 15), 310, actor=None)
    services.record_exam_result(member, exam("CPIM-P2"), date(2018, 3, 16), 320, actor=None)
    assert held(member, "CPIM") is None


def test_a_single_exam_earns_cltd_and_passes_earn_points(app):
    member = factories.member()
    services.record_exam_result(member, exam("CLTD"), date(2024, 6, 3), 301, actor=None)
    services.record_exam_result(member, exam("CPIM-P1"), date(2024, 7, 3), 301, actor=None)
    assert held(member, "CLTD").earned_on == date(2024, 6, 3)
    points = db.session.scalars(sa.select(PointEntry.points).where(PointEntry.member_id == member.id)).all()
    assert points == [10]


def test_teaching_points_are_capped_at_60_percent_and_80_for_cfpim(app):
    assert services.counted_points(30, 45, 60) == 75
    assert services.counted_points(30, 60, 60) == 75
    assert services.counted_points(20, 80, 80) == 100
    assert services.counted_points(29, 60, 60) == 72


def _cpim_earned(member, earned_on: date) -> MemberCertification:
    factories.reference_data()
    cpim = db.session.scalar(sa.select(services.CertificationType).where(services.CertificationType.code == "CPIM"))
    return services.grant_certification(member, cpim, earned_on, actor=None)


def test_suspension_reinstatement_and_termination_from_dates(app):
    member = factories.member()
    cpim = _cpim_earned(member, date(2015, 6, 10))
    assert cpim.cycle_ends_on == date(2020, 6, 30)
    assert services.status_of(cpim, date(2020, 6, 30)) is CertificationStatus.CURRENT
    assert services.status_of(cpim, date(2020, 7, 1)) is CertificationStatus.SUSPENDED
    assert services.points_required(cpim, date(2020, 7, 1)) == 75
    assert services.points_required(cpim, date(2021, 7, 1)) == 90
    assert services.points_required(cpim, date(2022, 6, 30)) == 90
    assert services.points_required(cpim, date(2023, 7, 1)) == 120
    assert services.status_of(cpim, date(2025, 6, 30)) is CertificationStatus.SUSPENDED
    assert services.status_of(cpim, date(2025, 7, 1)) is CertificationStatus.TERMINATED


def _log(member, code: str, units: int, earned_on: date, approve: bool = True):
    """Claim an activity and, by default, have staff approve it (only approved points count)."""
    category = db.session.scalar(sa.select(PointCategory).where(PointCategory.code == code))
    entry = services.log_points(member, category, units, earned_on, code, day=earned_on)
    if approve:
        services.review_points(entry, approve=True, actor=factories.staff(), day=earned_on)
    return entry


def test_maintenance_application_approved_extends_the_cycle_and_reinstates(app):
    member = factories.member(status="pending")
    staff = factories.staff()
    cpim = _cpim_earned(member, date(2015, 6, 10))
    _log(member, "conference", 1, date(2017, 1, 1))  # 24
    _log(member, "teaching", 30, date(2018, 1, 1))  # 60 teaching, of which 36 count (60% of 60)
    with pytest.raises(DomainError, match="more are needed"):
        services.submit_maintenance(cpim, day=date(2020, 5, 1))
    _log(member, "education", 6, date(2019, 1, 1))  # 30 regular: 45 teaching count, 75 in all
    application = services.submit_maintenance(cpim, day=date(2020, 5, 1))
    assert application.points_counted == 75
    services.approve_application(application, actor=staff, day=date(2020, 5, 2))
    assert cpim.cycle_ends_on == date(2025, 6, 30)
    # Suspended 1 year and more: 15 extra points; after approval the next deadline lies ahead.
    _log(member, "conference", 4, date(2026, 1, 1))
    assert services.points_required(cpim, date(2026, 8, 1)) == 90
    application = services.submit_maintenance(cpim, day=date(2026, 8, 1))
    services.approve_application(application, actor=staff, day=date(2026, 8, 1))
    assert cpim.cycle_ends_on == date(2030, 6, 30)


def test_verification_needs_number_and_last_name(app):
    member = factories.member(last_name="Okafor")
    cpim = _cpim_earned(member, date(2020, 1, 5))
    found = services.verify(cpim.certificate_number.lower(), "okafor", date(2026, 1, 1))
    assert found.holder == member.full_name and found.status is CertificationStatus.SUSPENDED
    assert services.verify(cpim.certificate_number, "Smith", date(2026, 1, 1)) is None
    assert services.verify("CPIM-1", "Okafor", date(2026, 1, 1)) is None


CSV_OK = "member_number,exam_code,date,score\n{n},CPIM-P1,2026-01-05,310\n{n},CPIM-P2,2026-02-05,299\n"


def test_results_csv_imports_every_line(app):
    member = factories.member()
    staff = factories.staff()
    assert services.import_results(CSV_OK.format(n=member.member_number), actor=staff) == 2
    assert [r.passed for r in services.results_of(member)] == [False, True]


def test_results_csv_with_bad_lines_is_rejected_whole(app):
    member = factories.member()
    staff = factories.staff()
    text = CSV_OK.format(n=member.member_number) + "999999,CPIM-P1,2026-01-05,310\n" \
        f"{member.member_number},NOPE,2026-13-01,abc\n{member.member_number},CPIM-P1,2026-01-05,310\n"
    with pytest.raises(services.ImportRejected) as rejected:
        services.import_results(text, actor=staff)
    errors = {line.line: line.errors for line in rejected.value.lines if line.errors}
    assert set(errors) == {4, 5, 6}
    assert len(errors[5]) == 3
    assert services.results_of(member) == []


def test_roster_condition_finds_holders(app):
    from chapter.members.models import Member

    member = factories.member()
    other = factories.member()
    _cpim_earned(member, today())
    ids = db.session.scalars(sa.select(Member.id).where(services.member_holds_certification(Member.id, "cpim"))).all()
    assert ids == [member.id] and other.id not in ids


def test_demo_data_has_members_at_every_certification_stage(app):
    from chapter.certifications.models import ExamResult
    from chapter.seed import demo

    demo.seed_demo(members=300, chapters=9)
    statuses = {services.status_of(h, today()) for h in db.session.scalars(sa.select(MemberCertification))}
    assert statuses == set(CertificationStatus)
    assert db.session.scalar(sa.select(sa.func.count(ExamRegistration.id))) > 0
    assert db.session.scalar(sa.select(sa.func.count()).where(ExamResult.passed.is_(False))) > 0
    due = [h for h in db.session.scalars(sa.select(MemberCertification))
           if today() <= h.cycle_ends_on <= today() + timedelta(days=200)]
    assert due


def test_cfpim_application_needs_current_cpim_a_cfpim_recommendation_and_points(app):
    member = factories.member(status="pending")
    staff = factories.staff()
    cpim = _cpim_earned(member, date(2022, 4, 1))
    fellow_type = db.session.scalar(sa.select(services.CertificationType).where(services.CertificationType.code == "CFPIM"))
    recommender = factories.member(status="pending")
    _cpim_earned(recommender, date(2021, 1, 1))  # a CFPIM is current only with a current CPIM
    fellow = services.grant_certification(recommender, fellow_type, date(2020, 1, 1), actor=None)
    with pytest.raises(DomainError, match="current CFPIM holder"):
        services.submit_fellowship(member, "CFPIM-1", day=date(2024, 1, 1))
    with pytest.raises(DomainError, match="points count"):
        services.submit_fellowship(member, fellow.certificate_number, day=date(2024, 1, 1))
    _log(member, "teaching", 30, date(2023, 1, 1))  # 60 presentation points, of which 40 count
    _log(member, "article", 30, date(2023, 1, 1))  # 60 publication points
    application = services.submit_fellowship(member, fellow.certificate_number.lower(), day=date(2024, 1, 1))
    services.approve_application(application, actor=staff, day=date(2024, 2, 1))
    awarded = held(member, "CFPIM")
    assert awarded.earned_on == date(2024, 2, 1) and awarded.certificate_number.startswith("CFPIM-")
    assert awarded.certification_type.points_required == 100 and cpim.cycle_ends_on == date(2027, 4, 30)


def test_a_refunded_exam_fee_cancels_the_att(app, client, stripe_peer):
    """Bought and paid by card, then refunded in full through the refund form: the ATT is cancelled."""
    from chapter.payments.models import OrderStatus, Payment, PaymentStatus
    from tests.payments.helpers import pay_order, stripe_api

    member = factories.member(email="ada@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    client.login("ada@example.org")
    bought = client.submit("/exams/CLTD/buy", form_url="/exams")
    order_id = int(bought.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    client.logout()
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.member_id == member.id))
    payment = db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))
    assert registration.state_on(today()) != "refunded"

    client.login(staff.email)
    form = {"amount_cents": f"{payment.amount_cents / 100:.2f}", "reason": "Cannot take the exam", "term_action": "keep"}
    preview = client.submit(f"/payments/{payment.id}/refund", form)
    assert preview.status_code == 200 and "Confirm the refund" in preview.get_data(as_text=True)
    refunded = client.submit(f"/payments/{payment.id}/refund", {**form, "confirmed": "yes"})
    assert refunded.status_code == 302, refunded.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert payment.status is PaymentStatus.REFUNDED and payment.order.status is OrderStatus.REFUNDED
    assert [r["amount"] for r in stripe_api(stripe_peer, "/v1/refunds", None, method="GET")["data"]] == [payment.amount_cents]
    assert registration.state_on(today()) == "refunded"
    with pytest.raises(DomainError, match="refunded"):
        services.att_for_scheduling(registration.att_code, today())
    services.check_can_buy(member, exam("CLTD"), today())  # a refunded ATT does not stop buying another
