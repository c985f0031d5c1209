"""What each role must not see of the money: district managers have no finance rights at all; a chapter
treasurer sees their own chapter's money and no row of another chapter, on pages or in CSVs.

Real payments: Ada (chapter #40) and Bob (chapter #31, same district) each paid $210 dues by card through
localstripe; staff refunded $50 of Ada's and remitted $7 to #31. The figures below are what each chapter's
page must show.
"""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from chapter.core.permissions import roles_of
from chapter.payments import services as payments
from chapter.payments.models import TermAction
from chapter.treasury import services as ledger
from tests import factories
from tests.payments.helpers import join_and_pay

LEDGER_CSV = f"/treasury/ledger.csv?month={today():%Y-%m}"
GET_ROUTES = ["/treasury/", "/treasury/payouts", "/treasury/payouts/po_none", "/treasury/reports/revenue",
              "/treasury/reports/chapters", "/treasury/reports/refunds", "/treasury/reports/members",
              "/treasury/reports/revenue?format=csv", "/treasury/reports/chapters?format=csv",
              LEDGER_CSV, "/treasury/chapters/40", "/treasury/chapters/31", "/treasury/chapters/7"]
POST_ROUTES = ["/treasury/sync", "/treasury/transactions/txn_x/recover", "/treasury/chapters/40/remittances",
               "/treasury/chapters/31/remittances", "/treasury/offline-payments", "/treasury/periods/close",
               "/treasury/periods/reopen"]
ROLES = ["staff", "treasurer_of_40", "secretary_of_40", "district_manager", "manager_of_other_district", "member"]


def expected_get(role: str) -> dict[str, int]:
    """The status of every treasury page for `role`: only staff and a chapter's treasurer see any money."""
    if role == "staff":
        return dict.fromkeys(GET_ROUTES, 200) | {"/treasury/payouts/po_none": 404}
    if role == "treasurer_of_40":  # (the president has finance rights too, by the position data)
        return dict.fromkeys(GET_ROUTES, 403) | {"/treasury/": 200, "/treasury/chapters/40": 200}
    return dict.fromkeys(GET_ROUTES, 403)


def _join_and_pay(client, peer, email, home, type_code):
    return join_and_pay(client, peer, email, home, type_code, first_name=email.split("@")[0].title())


@pytest.fixture
def money(app, client, stripe_peer):
    ours = factories.chapter(40, name="Schuylkill Valley", district_code="MA")
    theirs = factories.chapter(31, name="Pittsburgh", district_code="MA")
    factories.chapter(7, name="Atlanta", district_code="SE")
    staff = factories.staff()
    people = {
        "staff": staff,
        "treasurer_of_40": factories.officer(ours, "treasurer"),
        "treasurer_of_31": factories.officer(theirs, "treasurer"),
        "secretary_of_40": factories.officer(ours, "secretary"),
        "district_manager": factories.district_manager(factories.district("MA")),
        "manager_of_other_district": factories.district_manager(factories.district("SE")),
    }
    db.session.commit()
    ada = _join_and_pay(client, stripe_peer, "ada@example.org", ours, "professional")  # $210, chapter share $35
    bob = _join_and_pay(client, stripe_peer, "bob@example.org", theirs, "professional")  # $210, chapter share $35
    people["member"] = ada.order.member.user
    # $50 of Ada's refunded (the chapter's part of it: $8.33); $7 remitted to Bob's chapter.
    payments.refund_payment(ada, amount_cents=5000, reason="Paid twice for the dinner", term_action=TermAction.KEEP,
                            new_term_end=None, actor=staff, roles=roles_of(staff))
    ledger.record_remittance(theirs, amount_cents=700, booked_on=today(), reference="CHK-3131", actor=staff)
    db.session.commit()
    return {"people": people, "ada": ada, "bob": bob}


def _period() -> str:
    return f"?from={(today() - timedelta(days=31)).isoformat()}&to={(today() + timedelta(days=1)).isoformat()}"


def _figures(page: str) -> dict[str, str]:
    """The chapter page's money figures, by what they are."""
    import re

    def cell(pattern: str) -> str:
        found = re.search(pattern + r"[^>]*>([^<]+)</td>", page)
        assert found, pattern
        return found.group(1)

    return {"collected": cell(r"Dues and fees collected</th><td"), "refunded": cell(r">Refunds</th><td"),
            "share owed": cell(r'id="share-owed"'), "remitted": cell(r'id="remitted"'),
            "balance": cell(r'id="remittance-balance"')}


@pytest.mark.parametrize("role", ROLES)
def test_every_treasury_page_for(role, money, client):
    client.login(money["people"][role].email)
    seen = {route: client.get(route).status_code for route in GET_ROUTES}
    assert seen == expected_get(role)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "staff"])
def test_no_one_but_staff_may_post_to_the_treasury(role, money, client):
    from chapter.treasury.models import LedgerEntry

    entries = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    client.login(money["people"][role].email)
    token = client.csrf_token("/chapters")
    form = {"csrf_token": token, "amount_cents": "10.00", "booked_on": today().isoformat(), "reference": "X",
            "month": today().strftime("%Y-%m")}
    seen = {route: client.client.post(route, data=form).status_code for route in POST_ROUTES}
    assert seen == dict.fromkeys(POST_ROUTES, 403)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == entries


@pytest.mark.parametrize("role", ["district_manager", "secretary_of_40", "manager_of_other_district"])
def test_district_managers_and_other_officers_cannot_see_or_refund_a_payment(role, money, client):
    client.login(money["people"][role].email)
    for payment in (money["ada"], money["bob"]):
        for url in (f"/payments/{payment.id}/receipt", f"/payments/{payment.id}/refund"):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "$210.00" not in response.get_data(as_text=True)
    assert 'href="/treasury/"' not in client.get("/chapters").get_data(as_text=True)


def test_the_chapter_page_shows_only_that_chapters_money(money, client):
    client.login(money["people"]["treasurer_of_40"].email)
    page = client.get("/treasury/chapters/40" + _period()).get_data(as_text=True)
    assert _figures(page) == {"collected": "$210.00", "refunded": "$50.00", "share owed": "$26.67", "remitted": "$0.00",
                              "balance": "$26.67"}
    assert money["ada"].order.reference in page
    assert money["bob"].order.reference not in page and "CHK-3131" not in page and "#31" not in page
    client.logout()

    client.login(money["people"]["treasurer_of_31"].email)
    page = client.get("/treasury/chapters/31" + _period()).get_data(as_text=True)
    assert _figures(page) == {"collected": "$210.00", "refunded": "$0.00", "share owed": "$35.00", "remitted": "$7.00",
                              "balance": "$28.00"}
    assert money["ada"].order.reference not in page and "$50.00" not in page and "CHK-3131" in page


def test_a_treasurer_sees_their_chapters_receipts_and_no_other_chapters(money, client):
    client.login(money["people"]["treasurer_of_40"].email)
    assert client.get(f"/payments/{money['ada'].id}/receipt").status_code == 200
    assert client.get(f"/payments/{money['ada'].id}/refund").status_code == 200
    for url in (f"/payments/{money['bob'].id}/receipt", f"/payments/{money['bob'].id}/refund"):
        response = client.get(url)
        assert response.status_code == 403 and money["bob"].order.reference not in response.get_data(as_text=True)
    mine = client.get("/treasury/").get_data(as_text=True)
    assert "Schuylkill Valley" in mine and "Pittsburgh" not in mine


def test_no_csv_gives_a_chapter_treasurer_another_chapters_rows(money, client):
    client.login(money["people"]["treasurer_of_40"].email)
    for url in (LEDGER_CSV, "/treasury/reports/chapters?format=csv", "/treasury/reports/revenue?format=csv",
                "/treasury/reports/refunds?format=csv", "/treasury/chapters/31?format=csv",
                "/treasury/chapters/31/reports/revenue?format=csv", "/treasury/chapters/31/reports/refunds?format=csv"):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 403, url
        assert "Pittsburgh" not in body and money["bob"].order.reference not in body and "bob@example.org" not in body


def test_a_treasurers_own_csvs_hold_their_chapters_money_only(money, client):
    client.login(money["people"]["treasurer_of_40"].email)
    lines = client.get("/treasury/chapters/40" + _period() + "&format=csv")
    assert lines.status_code == 200 and lines.mimetype == "text/csv"
    body = lines.get_data(as_text=True)
    assert money["ada"].order.reference in body
    assert money["bob"].order.reference not in body and "CHK-3131" not in body and "Pittsburgh" not in body
    revenue = client.get("/treasury/chapters/40/reports/revenue?format=csv")
    refunds = client.get("/treasury/chapters/40/reports/refunds?format=csv")
    assert revenue.status_code == refunds.status_code == 200
    dues = [row["Dues"] for row in _csv_rows(revenue)]
    assert sum(float(v) for v in dues) == 210.00  # Ada's $210 only: Bob's $210 is #31's
    assert sum(int(row["Refunds"]) for row in _csv_rows(refunds)) == 1 and \
        sum(float(row["Amount"]) for row in _csv_rows(refunds)) == 50.00


def _csv_rows(response) -> list[dict]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
