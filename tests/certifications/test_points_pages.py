"""The pages for claiming points with evidence, reviewing claims, and verifying with folded names."""
from datetime import date

import sqlalchemy as sa

from chapter.certifications import services
from chapter.certifications.models import CertificationType, PointEntry, PointStatus
from chapter.core.models import today
from chapter.extensions import db
from tests import factories


def _cpim(member, earned_on):
    cpim = db.session.scalar(sa.select(CertificationType).where(CertificationType.code == "CPIM"))
    return services.grant_certification(member, cpim, earned_on, actor=None)


def test_a_member_claims_a_chapter_event_and_its_vp_education_approves_it(app, client):
    factories.reference_data()
    home = factories.chapter(40, name="Schuylkill Valley")
    member = factories.member(home=home, email="ada@example.org", with_user=True, first_name="Ada", last_name="Lovelace")
    _cpim(member, today())
    vp = factories.officer(home, "vp_education")
    db.session.commit()
    client.login("ada@example.org")
    form = client.get("/transcript").get_data(as_text=True)
    membership = [c for c in services.point_categories() if c.code == "membership"][0]
    assert f'<option value="{membership.id}"' not in form  # membership and exam points cannot be typed in
    education = [c for c in services.point_categories() if c.code == "education"][0]
    typed_membership = client.submit("/transcript/points", {"category_id": membership.id, "units": "5",
                                                            "earned_on": today().isoformat(), "description": "Years"},
                                     form_url="/transcript")
    assert typed_membership.status_code == 400
    claimed = client.submit("/transcript/points", {"category_id": education.id, "units": "3", "earned_on": today().isoformat(),
                                                   "description": "Plant tour", "evidence_url": "https://example.org/tour",
                                                   "chapter_number": "40"}, form_url="/transcript")
    assert claimed.status_code == 302
    page = client.get("/transcript").get_data(as_text=True)
    assert "Plant tour" in page and "Claimed, awaiting approval" in page
    assert client.get("/points/review").status_code == 403
    client.logout()
    client.login(vp.email)
    review = client.get("/points/review").get_data(as_text=True)
    assert "Plant tour" in review and "Ada Lovelace" in review and 'href="https://example.org/tour"' in review
    entry = db.session.scalar(sa.select(PointEntry).where(PointEntry.description == "Plant tour"))
    approved = client.submit(f"/points/{entry.id}/review", {"decision": "approve"}, form_url="/points/review")
    assert approved.status_code == 302
    db.session.expire_all()
    assert db.session.get(PointEntry, entry.id).status is PointStatus.APPROVED


def test_a_member_cannot_review_claims(app, client):
    factories.reference_data()
    member = factories.member(email="ada@example.org", with_user=True)
    entry = services.log_points(member, [c for c in services.point_categories() if c.code == "education"][0], 2,
                                today(), "Webinar", day=today())
    db.session.commit()
    client.login("ada@example.org")
    assert client.submit(f"/points/{entry.id}/review", {"decision": "approve"}, form_url="/transcript").status_code == 403


def test_verify_page_matches_a_name_typed_on_a_mac_and_says_why_a_cfpim_is_not_current(app, client):
    factories.reference_data()
    member = factories.member(last_name="Müller", first_name="Jörg")
    _cpim(member, date(2015, 6, 10))
    cfpim_type = db.session.scalar(sa.select(CertificationType).where(CertificationType.code == "CFPIM"))
    cfpim = services.grant_certification(member, cfpim_type, today(), actor=None)
    db.session.commit()
    hit = client.submit("/verify", {"certificate_number": cfpim.certificate_number, "last_name": "MU\u0308LLER"})
    page = hit.get_data(as_text=True)
    assert hit.status_code == 200 and "Jörg Müller" in page
    assert "Terminated" in page and "It requires a current CPIM, which is terminated." in page
