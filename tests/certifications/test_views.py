"""Exam purchase through Stripe, staff result pages, the transcript, verification and benefits."""
import io
from datetime import date

import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.models import ExamRegistration, MemberCertification
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.services import add_months
from chapter.payments.models import Order, OrderPurpose
from tests import factories
from tests.payments.helpers import CARD_OK, pay_order


def _member(status="active", **kwargs):
    factories.reference_data()
    member = factories.member(status=status, email="ada@example.org", with_user=True, first_name="Ada",
                              last_name="Lovelace", **kwargs)
    db.session.commit()
    return member


def _staff_client(client):
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    return staff


def test_member_buys_an_exam_at_the_member_price_and_gets_an_att(app, client, stripe_peer):
    member = _member()
    client.login("ada@example.org")
    page = client.get("/exams").get_data(as_text=True)
    assert "CPIM Part 1" in page and "Master Planning of Resources" not in page  # retired modules are not on sale
    response = client.submit("/exams/CPIM-P1/buy", form_url="/exams")
    assert response.status_code == 302
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    order = db.session.get(Order, order_id)
    assert order.purpose is OrderPurpose.EXAM and order.total_cents == 12000 and order.chapter_share_cents == 0
    answer = pay_order(client, stripe_peer, order_id, CARD_OK)
    assert answer.status_code == 200 and answer.get_json()["status"] == "succeeded", answer.get_json()
    db.session.expire_all()
    registration = db.session.scalar(sa.select(ExamRegistration).where(ExamRegistration.member_id == member.id))
    assert registration.att_code and registration.expires_on == add_months(today(), 6)
    transcript = client.get("/transcript").get_data(as_text=True)
    assert registration.att_code in transcript and "(member price)" in transcript


def test_a_non_member_sees_both_prices_and_the_saving(app, client):
    _member(status="pending")
    client.login("ada@example.org")
    page = client.get("/exams").get_data(as_text=True)
    assert "$155.00" in page and "$120.00" in page and "save you $35.00" in page


def test_staff_pages_are_refused_to_members(app, client):
    _member()
    client.login("ada@example.org")
    for url in ["/staff/exams", "/staff/magazine.csv", "/staff/exams/BSCM/edit"]:
        assert client.get(url).status_code == 403


def test_staff_record_a_result_and_a_bad_score_keeps_the_input(app, client):
    member = _member()
    _staff_client(client)
    bad = client.submit("/staff/results", {"member_number": member.member_number, "exam_code": "CPIM-P1",
                                            "taken_on": "2026-01-05", "score": "400"}, form_url="/staff/exams")
    assert bad.status_code == 400 and "between 200 and 350" in bad.get_data(as_text=True)
    assert member.member_number in bad.get_data(as_text=True)
    for code, day in [("CPIM-P1", "2026-01-05"), ("CPIM-P2", "2026-03-05")]:
        ok = client.submit("/staff/results", {"member_number": member.member_number, "exam_code": code,
                                               "taken_on": day, "score": "320"}, form_url="/staff/exams")
        assert ok.status_code == 302
    held = db.session.scalar(sa.select(MemberCertification).where(MemberCertification.member_id == member.id))
    assert held.earned_on == date(2026, 3, 5)


def test_csv_upload_previews_then_imports_and_bad_files_import_nothing(app, client):
    member = _member()
    _staff_client(client)
    good = f"member_number,exam_code,date,score\n{member.member_number},CLTD,2026-02-02,305\n"
    preview = client.submit("/staff/results/import", {"file": (io.BytesIO(good.encode()), "r.csv")},
                            form_url="/staff/exams", content_type="multipart/form-data")
    assert preview.status_code == 200 and "Import 1 results" in preview.get_data(as_text=True)
    assert services.results_of(member) == []
    done = client.submit("/staff/results/import", {"csv_text": good, "confirm": "1"}, form_url="/staff/exams")
    assert done.status_code == 302 and len(services.results_of(member)) == 1
    bad = good.replace("CLTD,2026-02-02", "CSCP,2026-02-03") + "123,XX,2026-02-30,9\n"
    rejected = client.submit("/staff/results/import", {"csv_text": bad, "confirm": "1"}, form_url="/staff/exams")
    assert rejected.status_code == 400 and "nothing was imported" in rejected.get_data(as_text=True)
    assert len(services.results_of(member)) == 1


def test_verification_shows_only_what_it_should_and_a_miss_reveals_nothing(app, client):
    member = _member()
    services.record_exam_result(member, services.exam_by_code("CLTD"), today(), 310, actor=None)
    db.session.commit()
    number = db.session.scalar(sa.select(MemberCertification.certificate_number))
    hit = client.submit("/verify", {"certificate_number": number, "last_name": "lovelace"})
    page = hit.get_data(as_text=True)
    assert hit.status_code == 200 and "Ada Lovelace" in page and "Current" in page
    assert member.email not in page and member.member_number not in page
    miss = client.submit("/verify", {"certificate_number": number, "last_name": "Byron"})
    assert miss.status_code == 404 and "Ada" not in miss.get_data(as_text=True)
    unknown = client.submit("/verify", {"certificate_number": "CLTD-999", "last_name": "Byron"})
    assert unknown.get_data(as_text=True).count("No certification matches") == 1


def test_verification_is_rate_limited(app, client):
    statuses = [client.submit("/verify", {"certificate_number": "X", "last_name": "Y"}).status_code for _ in range(21)]
    assert statuses[-1] == 429


def test_dashboard_shows_benefits_and_staff_export_magazine_list(app, client):
    _member(address_line1="1 Main St", city="Reading", postal_code="19601")
    factories.member(status="lapsed", address_line1="2 Main St", postal_code="19601", last_name="Gone")
    factories.member(status="active", last_name="Nowhere")
    db.session.commit()
    client.login("ada@example.org")
    assert "APICS magazine subscription" in client.get("/dashboard").get_data(as_text=True)
    client.logout()
    _staff_client(client)
    export = client.get("/staff/magazine.csv").get_data(as_text=True)
    assert "Lovelace" in export and "Gone" not in export and "Nowhere" not in export


def test_member_logs_points_and_sees_the_plot(app, client):
    member = _member()
    services.record_exam_result(member, services.exam_by_code("CLTD"), today(), 310, actor=None)
    db.session.commit()
    client.login("ada@example.org")
    category = [c for c in services.point_categories() if c.code == "education"][0]
    response = client.submit("/transcript/points", {"category_id": category.id, "units": "5",
                                                     "earned_on": today().isoformat(), "description": "Webinar"},
                             form_url="/transcript")
    assert response.status_code == 302
    page = client.get("/transcript").get_data(as_text=True)
    assert "Webinar" in page and "<svg" in page and "points counted against 75 required" in page


def test_officers_filter_the_roster_by_certification_and_see_it_on_the_member_page(app, client):
    home = factories.chapter(40)
    holder = factories.member(home=home, last_name="Holder")
    factories.member(home=home, last_name="Other")
    services.record_exam_result(holder, services.exam_by_code("CLTD"), today(), 310, actor=None)
    president = factories.officer(home)
    db.session.commit()
    client.login(president.email)
    roster = client.get("/chapters/40/roster?certification=CLTD").get_data(as_text=True)
    assert "Holder" in roster and "Other" not in roster
    assert '<option value="CLTD" selected>' in roster
    page = client.get(f"/chapters/40/members/{holder.member_number}").get_data(as_text=True)
    assert "CLTD-100001" in page and "Current" in page


def test_cscp_needs_an_approved_eligibility_application_before_buying(app, client):
    member = _member()
    client.login("ada@example.org")
    refused = client.submit("/exams/CSCP/buy", form_url="/exams", follow_redirects=True)
    assert "needs an approved eligibility application" in refused.get_data(as_text=True)
    applied = client.submit("/exams/CSCP/eligibility", {"basis": "experience"}, form_url="/exams")
    assert applied.status_code == 302
    client.logout()
    _staff_client(client)
    application = services.pending_applications()[0]
    assert application.kind == "eligibility"
    assert client.submit(f"/staff/applications/{application.id}", {"decision": "approve"},
                         form_url="/staff/exams").status_code == 302
    client.logout()
    client.login("ada@example.org")
    bought = client.submit("/exams/CSCP/buy", form_url="/exams")
    assert bought.status_code == 302 and "/pay/" in bought.headers["Location"]


def test_staff_search_and_sort_results(app, client):
    ada = _member()
    other = factories.member(last_name="Babbage")
    services.record_exam_result(ada, services.exam_by_code("CLTD"), date(2026, 1, 2), 280, actor=None)
    services.record_exam_result(other, services.exam_by_code("CLTD"), date(2026, 1, 3), 330, actor=None)
    db.session.commit()
    _staff_client(client)
    page = client.get("/staff/results?q=lovelace").get_data(as_text=True)
    assert "Lovelace" in page and "Babbage" not in page
    page = client.get("/staff/results?sort=score&dir=asc").get_data(as_text=True)
    assert page.index("280") < page.index("330")
    assert client.get("/staff/results?sort=nonsense&page=x").status_code == 200


def test_staff_edit_rules_fees_and_points_as_data(app, client):
    _member()
    _staff_client(client)
    assert client.submit("/staff/certifications/CPIM/edit", {
        "points_required": "80", "cycle_years": "5", "teaching_cap_percent": "60", "reinstatement_points_per_year": "15",
        "terminated_after_years": "5", "application_points_required": ""}).status_code == 302
    assert client.submit("/staff/points/article/edit", {"points_per_unit": "3"}).status_code == 302
    assert client.submit("/staff/exams/CPIM-P1/edit", {"member_fee": "12500", "non_member_fee": "16000",
                                                        "pass_score": "300", "available_until": ""}).status_code == 302
    bad = client.submit("/staff/exams/CPIM-P1/edit", {"member_fee": "12500", "non_member_fee": "16000",
                                                       "pass_score": "400", "available_until": ""})
    assert bad.status_code == 400 and "Between 200 and 350" in bad.get_data(as_text=True)
    page = client.get("/staff/exams").get_data(as_text=True)
    assert "$125.00" in page and "3 per article" in page and ">80<" in page


def test_member_applies_for_maintenance_and_staff_approve_it(app, client):
    member = _member()
    cpim = db.session.scalar(sa.select(services.CertificationType).where(services.CertificationType.code == "CPIM"))
    held = services.grant_certification(member, cpim, add_months(today(), -58), actor=None)
    education = [c for c in services.point_categories() if c.code == "education"][0]
    entry = services.log_points(member, education, 80, today(), "Courses", day=today())
    services.review_points(entry, approve=True, actor=factories.staff(), day=today())
    db.session.commit()
    deadline = held.cycle_ends_on
    client.login("ada@example.org")
    assert client.submit(f"/certifications/{held.id}/maintenance", form_url="/transcript").status_code == 302
    client.logout()
    staff = _staff_client(client)
    application = services.pending_applications()[0]
    client.submit(f"/staff/applications/{application.id}", {"decision": "approve"}, form_url="/staff/exams")
    db.session.expire_all()
    assert held.cycle_ends_on == services.end_of_month(add_months(deadline, 60))
    assert staff.id == application.reviewed_by_id


def test_a_member_cannot_apply_for_someone_elses_certification(app, client):
    _member()
    other = factories.member()
    cpim = db.session.scalar(sa.select(services.CertificationType).where(services.CertificationType.code == "CPIM"))
    held = services.grant_certification(other, cpim, today(), actor=None)
    db.session.commit()
    client.login("ada@example.org")
    assert client.submit(f"/certifications/{held.id}/maintenance", form_url="/transcript").status_code == 404
