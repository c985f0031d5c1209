"""The transcript reads its points once for all certifications: the number of queries does not grow with
the certifications held, the points logged, the applications made or the membership terms; and each
certification shows the same summary as the points rules compute one by one (services.points_summary)."""
from datetime import date

import sqlalchemy as sa

from chapter.certifications import services
from chapter.chapters.models import Chapter
from chapter.certifications.models import CertificationType, PointCategory
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member, TermSource
from tests import factories
from tests.querycount import queries_of_page


def _type(code: str) -> CertificationType:
    return db.session.scalar(sa.select(CertificationType).where(CertificationType.code == code))


def _claim(member, code: str, earned_on: date, *, approve_by=None):
    category = db.session.scalar(sa.select(PointCategory).where(PointCategory.code == code))
    entry = services.log_points(member, category, 1, earned_on, f"{code} on {earned_on}", day=earned_on,
                                evidence_url="https://example.org/certificate.pdf")
    if approve_by is not None:
        services.review_points(entry, approve=True, actor=approve_by, day=earned_on)
    return entry


def _member(email: str):
    factories.reference_data()
    home = db.session.scalar(sa.select(Chapter).where(Chapter.number == 40)) or factories.chapter(40)
    return factories.member(home=home, status="pending", email=email, with_user=True)


def test_the_transcript_makes_as_many_queries_for_a_long_history_as_for_a_short_one(app, client, clock):
    clock("2025-06-01")
    staff = factories.staff()
    short = _member("short@example.org")
    services.grant_certification(short, _type("CPIM"), date(2020, 6, 10), actor=None)

    long = _member("long@example.org")
    for year in range(2015, 2025):
        member_services.grant_term(long, factories.membership_type(), starts_on=date(year, 6, 1),
                                   ends_on=date(year + 1, 5, 31), source=TermSource.PAYMENT, actor=None)
    cpim = services.grant_certification(long, _type("CPIM"), date(2015, 6, 10), actor=None)  # deadline 2020-06-30
    services.grant_certification(long, _type("CFPIM"), date(2019, 3, 1), actor=None)
    services.grant_certification(long, _type("CSCP"), date(2021, 2, 1), actor=None)
    for month in range(1, 13):
        _claim(long, "conference", date(2021, month, 15), approve_by=staff)
    _claim(long, "conference", date(2025, 5, 1))  # claimed, not approved: listed, not counted
    application = services.submit_maintenance(cpim, day=date(2021, 12, 31))  # uses the 2021 conferences
    services.approve_application(application, actor=staff, day=date(2021, 12, 31))
    for month in (1, 2):
        _claim(long, "conference", date(2023, month, 15), approve_by=staff)  # free again for the next cycle
    db.session.commit()
    long_id = long.id

    client.login("short@example.org")
    few, _ = queries_of_page(client, "/transcript")
    client.logout()
    client.login("long@example.org")
    many, page = queries_of_page(client, "/transcript")
    assert many == few

    day = date(2025, 6, 1)
    for held in services.certifications_of(db.session.get(Member, long_id)):
        summary = services.points_summary(held, day)
        assert f"points counted {summary.counted} of {summary.required}" in page
    assert page.count("Claimed, awaiting approval") == 1 and page.count("conference on 2021-") == 12


def test_a_member_without_certifications_needs_no_more_queries_than_one_with_them(app, client, clock):
    clock("2025-06-01")
    _member("none@example.org")
    holder = _member("holder@example.org")
    services.grant_certification(holder, _type("CPIM"), date(2020, 6, 10), actor=None)
    db.session.commit()
    client.login("none@example.org")
    without, page = queries_of_page(client, "/transcript")
    assert "No certification yet." in page
    client.logout()
    client.login("holder@example.org")
    with_one, _ = queries_of_page(client, "/transcript")
    assert without <= with_one
