"""Who may open every health and standards route: officers their chapter, district managers their district,
members nothing, anonymous visitors are sent to log in, staff everything (and only staff edit the standards)."""
from datetime import date

import pytest

from chapter.chapters.fiscal import fiscal_year_of
from chapter.core.models import today
from chapter.extensions import db
from chapter.standards import services
from tests import factories

ROLES = ["officer", "other_officer", "manager", "other_manager", "member", "staff"]
OK = 200

# GET routes: (url, {role: expected status}); {report} is the id of chapter #40's submitted report.
GET = [
    ("/health", {"officer": 302, "other_officer": 302, "manager": 302, "other_manager": 302, "member": 403, "staff": OK}),
    ("/health/chapters/40", {"officer": OK, "other_officer": 403, "manager": OK, "other_manager": 403, "member": 403,
                             "staff": OK}),
    ("/health/chapters/40?format=csv&table=renewals", {"officer": OK, "other_officer": 403, "manager": OK,
                                                       "other_manager": 403, "member": 403, "staff": OK}),
    ("/health/districts/MA", {"officer": 403, "other_officer": 403, "manager": OK, "other_manager": 403, "member": 403,
                              "staff": OK}),
    ("/health/districts/MA?format=csv&table=chapters", {"officer": 403, "other_officer": 403, "manager": OK,
                                                        "other_manager": 403, "member": 403, "staff": OK}),
    ("/chapters/40/standards", {"officer": OK, "other_officer": 403, "manager": OK, "other_manager": 403,
                                "member": 403, "staff": OK}),
    ("/standards/reports", {"officer": 403, "other_officer": 403, "manager": OK, "other_manager": OK, "member": 403,
                            "staff": OK}),
    ("/standards/reports/{report}", {"officer": OK, "other_officer": 403, "manager": OK, "other_manager": 403,
                                     "member": 403, "staff": OK}),
    ("/admin/standards", {"officer": 403, "other_officer": 403, "manager": 403, "other_manager": 403, "member": 403,
                          "staff": OK}),
]
# POST routes: who is let through (a redirect or a form error), everyone else 403.
POST = [
    ("/chapters/40/standards/roster-reviewed", {}, {"officer"}),
    ("/chapters/40/standards/submit", {"fy": "{fy}"}, {"officer"}),
    ("/standards/reports/{report}/review", {"decision": "return", "comment": "More events"}, {"manager", "staff"}),
    ("/admin/standards/{standard}", {}, {"staff"}),
    ("/admin/standards/new", {}, {"staff"}),
    ("/admin/standards/levels/{level}", {}, {"staff"}),
]


@pytest.fixture
def people(app, clock):
    clock("2026-05-20")
    home = factories.chapter(40, district_code="MA")
    other = factories.chapter(31, district_code="GL")
    president = factories.officer(home, "president", starts_on=date(2024, 1, 1))
    found = {
        "officer": president,
        "other_officer": factories.officer(other, "president"),
        "manager": factories.district_manager(factories.district("MA")),
        "other_manager": factories.district_manager(factories.district("GL")),
        "member": factories.member(home=home, with_user=True).user,
        "staff": factories.staff(),
    }
    year = fiscal_year_of(home.fiscal_year_start_month, today()).previous()
    report = services.submit_report(home, year, actor=president)
    from chapter.standards.models import RecognitionLevel, Standard
    db.session.commit()
    ids = {"report": report.id, "fy": str(year.starts_on.year),
           "standard": db.session.query(Standard.id).order_by(Standard.id).first()[0],
           "level": db.session.query(RecognitionLevel.id).order_by(RecognitionLevel.id).first()[0]}
    return found, ids


@pytest.mark.parametrize("role", ROLES)
def test_every_health_and_standards_page_answers_each_role_as_it_should(people, client, role):
    found, ids = people
    client.login(found[role].email)
    for url, expected in GET:
        status = client.get(url.format(**ids)).status_code
        assert status == expected[role], (role, url, status)


@pytest.mark.parametrize("role", ROLES)
def test_every_health_and_standards_action_refuses_who_may_not(people, client, role):
    found, ids = people
    client.login(found[role].email)
    token = client.csrf_token("/chapters")
    for url, data, allowed in POST:
        payload = {key: value.format(**ids) for key, value in data.items()} | {"csrf_token": token}
        status = client.client.post(url.format(**ids), data=payload).status_code
        if role in allowed:
            assert status in (302, 400), (role, url, status)
        else:
            assert status == 403, (role, url, status)


def test_anonymous_visitors_are_sent_to_log_in_everywhere(people, client):
    _found, ids = people
    for url, _expected in GET:
        response = client.get(url.format(**ids))
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    for url, _data, _allowed in POST:
        response = client.client.post(url.format(**ids))
        assert response.status_code in (302, 400) and "/login" in response.headers.get("Location", "/login"), url
