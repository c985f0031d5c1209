"""Member search, everywhere it is offered: staff members, rosters, staff payments, exam results.

First names, full names (either order), e-mails and member numbers match; case and accents are
ignored; % and _ are literal; results are ranked (exact number or e-mail, last-name prefix, the rest);
the index that answers (FTS5 on SQLite, pg_trgm on PostgreSQL) stays in step with every write.
"""
import re

import pytest
import sqlalchemy as sa

from chapter.core.pagination import Page
from chapter.extensions import db
from chapter.members import search as member_search
from chapter.members.models import Member
from chapter.payments.models import Order, OrderPurpose, Payment, PaymentStatus
from tests import factories


@pytest.fixture
def people(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    made = {
        "dana": factories.member(home=home, first_name="Dana", last_name="Okafor", email="dana.okafor@example.org"),
        "morgan": factories.member(home=home, first_name="Morgan", last_name="Smith", email="m.smith@example.org"),
        "smithers": factories.member(home=home, first_name="Waylon", last_name="Smithers", email="waylon@example.org"),
        "goldsmith": factories.member(home=home, first_name="Ann", last_name="Goldsmith", email="ann@example.org"),
        "muller": factories.member(home=home, first_name="Zoë", last_name="Müller", email="zoe@example.org"),
        "percent": factories.member(home=home, first_name="Cent", last_name="Percent", email="under_score@example.org"),
        "plain": factories.member(home=home, first_name="Under", last_name="Scorex", email="underxscore@example.org"),
    }
    db.session.commit()
    return made


def staff_names(client, query: str) -> list[str]:
    response = client.get("/admin/members", query_string={"q": query})
    assert response.status_code == 200
    return re.findall(r'/admin/members/\d+">([^<]+)</a>', response.get_data(as_text=True))


def test_staff_search_finds_first_names_and_full_names_in_either_order(people, staff_client):
    assert staff_names(staff_client, "Dana") == ["Okafor, Dana"]
    assert staff_names(staff_client, "Dana Okafor") == ["Okafor, Dana"]
    assert staff_names(staff_client, "okafor, dana") == ["Okafor, Dana"]
    assert staff_names(staff_client, "Morgan") == ["Smith, Morgan"]


def test_staff_search_finds_e_mails_and_member_numbers(people, staff_client):
    assert staff_names(staff_client, "DANA.OKAFOR@example.org") == ["Okafor, Dana"]
    assert staff_names(staff_client, people["morgan"].member_number) == ["Smith, Morgan"]


def test_staff_search_ignores_accents_and_case(people, staff_client):
    assert staff_names(staff_client, "muller") == ["Müller, Zoë"]
    assert staff_names(staff_client, "MÜLLER") == ["Müller, Zoë"]
    assert staff_names(staff_client, "zoe") == ["Müller, Zoë"]


def test_percent_and_underscore_are_matched_literally(people, staff_client):
    assert staff_names(staff_client, "under_score") == ["Percent, Cent"]
    assert staff_names(staff_client, "%") == []
    assert staff_names(staff_client, "_") == []
    assert staff_names(staff_client, "t_s") == []


def test_results_are_ranked_exact_then_last_name_prefix_then_the_rest(people, staff_client):
    # "smith": Smith and Smithers start with it (by name), Goldsmith only contains it.
    assert staff_names(staff_client, "smith") == ["Smith, Morgan", "Smithers, Waylon", "Goldsmith, Ann"]
    # An exact e-mail comes before every name that merely contains the text.
    assert staff_names(staff_client, "m.smith@example.org")[0] == "Smith, Morgan"


def test_one_or_two_letters_find_last_names_starting_with_them(people, staff_client):
    assert staff_names(staff_client, "Mü") == ["Müller, Zoë"]
    assert staff_names(staff_client, "o") == ["Okafor, Dana"]
    assert staff_names(staff_client, "sm") == ["Smith, Morgan", "Smithers, Waylon"]


def test_the_roster_search_uses_the_same_rules(people, client):
    president = factories.officer(people["dana"].home_chapter, "president")
    db.session.commit()
    client.login(president.email)
    body = client.get("/chapters/40/roster", query_string={"q": "Dana Okafor"}).get_data(as_text=True)
    assert re.findall(r'/members/\d+">([^<]+)</a>', body) == ["Okafor, Dana"]
    body = client.get("/chapters/40/roster", query_string={"q": "smith"}).get_data(as_text=True)
    assert re.findall(r'/members/\d+">([^<]+)</a>', body) == ["Smith, Morgan", "Smithers, Waylon", "Goldsmith, Ann"]


def _paid(member: Member, amount: int = 21000) -> Payment:
    order = Order(purpose=OrderPurpose.RENEWAL,
                  member_id=member.id, currency="USD", total_cents=amount, association_share_cents=amount,
                  description="Dues")
    db.session.add(order)
    db.session.flush()
    payment = Payment(order_id=order.id, amount_cents=amount, currency="USD", status=PaymentStatus.SUCCEEDED,
                      association_share_cents=amount)
    db.session.add(payment)
    db.session.flush()
    return payment


def test_staff_payment_search_finds_first_names_and_full_names(people, staff_client):
    for key in ("dana", "morgan", "smithers", "goldsmith"):
        _paid(people[key])
    db.session.commit()

    def payers(query):
        response = staff_client.get("/admin/payments", query_string={"q": query})
        assert response.status_code == 200
        return re.findall(r"<td>([^<]+) <span class=\"small text-muted\">", response.get_data(as_text=True))

    assert payers("Morgan") == ["Morgan Smith"]
    assert payers("Dana Okafor") == ["Dana Okafor"]
    # Last names starting with the search first (newest payment first among them), then the rest.
    assert payers("smith") == ["Waylon Smithers", "Morgan Smith", "Ann Goldsmith"]
    assert payers("%") == []


def test_the_index_follows_renames_and_deletions(people, app):
    dana = people["dana"]
    dana.last_name = "Achebe"
    db.session.commit()
    condition = member_search.member_search_condition
    assert db.session.scalars(sa.select(Member.id).where(condition("okafor dana"))).all() == []
    assert db.session.scalars(sa.select(Member.id).where(condition("dana achebe"))).all() == [dana.id]
    loner = Member(member_number="9000009", first_name="Ida", last_name="Quimby")  # no history refers to her
    db.session.add(loner)
    db.session.commit()
    assert db.session.scalars(sa.select(Member.id).where(condition("quimby"))).all() == [loner.id]
    db.session.execute(sa.delete(Member).where(Member.id == loner.id))
    db.session.commit()
    assert db.session.scalars(sa.select(Member.id).where(condition("quimby"))).all() == []


def test_bulk_inserts_are_searchable_too(app):
    home = factories.chapter(41)
    db.session.execute(sa.insert(Member), [
        dict(member_number="9000001", first_name="Chloé", last_name="Tremblay", email="ct@example.org",
             home_chapter_id=home.id),
    ])
    db.session.commit()
    found = db.session.scalars(sa.select(Member.last_name).where(member_search.member_search_condition("chloe trem"))).all()
    assert found == ["Tremblay"]


def test_large_counts_stop_at_the_limit_and_say_more_than(people, staff_client, monkeypatch):
    monkeypatch.setattr(member_search, "COUNT_LIMIT", 3)
    page = member_search.find_members("", 1, 2)
    assert page.more_than == 3 and page.count_label == "more than 3" and page.has_next
    page = member_search.find_members("", 4, 2)
    assert [m.last_name for m in page.items] == ["Smithers"] and not page.has_next
    small = member_search.find_members("smith", 1, 50)
    assert small.more_than is None and small.total == 3 and small.count_label == "3"
    body = staff_client.get("/admin/members").get_data(as_text=True)
    assert "more than 3 members" in body


def test_a_capped_pager_shows_a_gap_instead_of_an_unknown_last_page():
    page = Page(items=[1] * 50, total=10_000, page=100, per_page=50, more_than=10_000, next_exists=True)
    assert page.window()[:2] == [1, None] and page.window()[-1] is None
    assert 100 in page.window() and page.has_next


def test_organization_search_takes_percent_and_underscore_literally(app):
    from chapter.members import corporate
    from chapter.members.models import Organization

    db.session.add_all([Organization(name="Fifty% Logistics"), Organization(name="Acme_Parts"),
                        Organization(name="Acme Parts")])
    db.session.commit()
    assert [o.name for o in corporate.all_organizations("%", 1).items] == ["Fifty% Logistics"]
    assert [o.name for o in corporate.all_organizations("acme_", 1).items] == ["Acme_Parts"]
    assert len(corporate.all_organizations("acme", 1).items) == 2


def test_postgresql_connections_do_not_jit_compile_short_queries(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    assert db.session.execute(sa.text("SHOW jit")).scalar() == "off"
