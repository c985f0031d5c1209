"""The member's dashboard issues a constant number of queries whatever the member's history (terms, chapter
moves), and a list that has rows (a transfer request waiting, organizations the member is the contact of)
costs one query more, not one per row; what the member sees is the same as before."""
from datetime import date

from chapter.chapters import services as chapter_services
from chapter.extensions import db
from chapter.members import corporate, services as member_services
from chapter.members.models import TermSource
from tests import factories
from tests.querycount import queries_of_page


def _dashboard_queries(client, email: str) -> tuple[int, str]:
    client.login(email)
    counted = queries_of_page(client, "/dashboard")
    client.logout()
    return counted


def test_a_long_history_costs_no_more_queries_than_a_short_one(app, client):
    first = factories.chapter(40, name="Schuylkill Valley")
    second = factories.chapter(168, name="Central Penn")
    third = factories.chapter(12, name="Lehigh Valley")
    factories.member(home=first, email="short@example.org", with_user=True)
    long = factories.member(home=first, email="long@example.org", with_user=True)
    for year in range(2010, 2020):
        member_services.grant_term(long, factories.membership_type(), starts_on=date(year, 1, 1),
                                   ends_on=date(year, 12, 31), source=TermSource.PAYMENT, actor=None)
    for chapter in (second, third, first, second):
        member_services.change_home_chapter(long, chapter, actor=None, reason=f"Moved to {chapter.number}")
    db.session.commit()

    few, _ = _dashboard_queries(client, "short@example.org")
    many, page = _dashboard_queries(client, "long@example.org")
    assert many == few
    assert page.count("(Moved to 168)") == 2 and page.count("(Moved to 12)") == page.count("(Moved to 40)") == 1
    assert "Lehigh Valley #12 → Schuylkill Valley #40" in page  # both chapters of a move, however many moves
    assert page.count("<tr><td>Professional</td>") == 11  # every term is listed
    assert 'data-testid="home-chapter"' in page and "Central Penn #168</a>" in page


def test_a_waiting_request_and_an_organization_cost_one_query_each(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    asking = factories.chapter(168, name="Central Penn")
    plain = factories.member(home=home, email="plain@example.org", with_user=True)
    busy = factories.member(home=home, first_name="Ada", last_name="Lovelace", email="busy@example.org", with_user=True)
    vp = factories.officer(asking, "vp_membership", holder=factories.user("vp@example.org", name="Val VP"))
    chapter_services.request_transfer(asking, member_number=busy.member_number, last_name="Lovelace", actor=vp)
    for name in ("Acme Supply", "Zenith Logistics"):
        corporate.create_organization(name=name, actor=busy.user, contact=busy.user)
    db.session.commit()
    plain_chapter, home_id = plain.home_chapter_id, home.id

    base, page = _dashboard_queries(client, "plain@example.org")
    assert 'data-testid="transfer-request"' not in page and "You are the contact person of" not in page
    more, page = _dashboard_queries(client, "busy@example.org")
    assert more == base + 2
    assert "Central Penn #168 asks you to make it your home chapter (Val VP)." in page
    assert "Acme Supply</a>" in page and "Zenith Logistics</a>" in page
    assert plain_chapter == home_id
