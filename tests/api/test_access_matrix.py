"""What a token reaches: its scopes and chapters, intersected with its creator's roles today."""
from datetime import timedelta

import pytest
import time_machine

from chapter.chapters.models import OfficerTerm
from chapter.core.models import today, utcnow
from chapter.extensions import db
from tests import factories
from tests.api.conftest import make_token


@pytest.fixture
def two_chapters(app):
    a, b = factories.chapter(40), factories.chapter(31)
    members = {"a": factories.member(home=a, last_name="Lovelace"), "b": factories.member(home=b, last_name="Hopper")}
    president = factories.officer(a, "president")
    factories.officer(b, "president", holder=president)  # president of both: the token decides
    db.session.commit()
    return a, b, president, members


def test_a_token_of_chapter_a_reads_nothing_of_chapter_b(two_chapters, api):
    a, b, president, members = two_chapters
    token = make_token(president, ["roster:read", "members:read", "payments:read"], [a])
    assert api.get("/chapters/40/roster", token).status_code == 200
    for path in ("/chapters/31/roster", f"/chapters/31/members/{members['b'].member_number}",
                 "/chapters/31/payments", "/chapters/31/refunds"):
        response = api.get(path, token)
        assert response.status_code == 403, path
        assert response.mimetype == "application/problem+json"
        assert "chapter 31" in response.get_json()["detail"]
    # A member of chapter B is not found through chapter A either.
    assert api.get(f"/chapters/40/members/{members['b'].member_number}", token).status_code == 404


def test_a_token_without_the_scope_is_refused_with_the_scope_named(two_chapters, api):
    a, _, president, members = two_chapters
    token = make_token(president, ["roster:read"], [a])
    response = api.get(f"/chapters/40/members/{members['a'].member_number}", token)
    assert response.status_code == 403
    assert "members:read" in response.get_json()["detail"]
    assert api.get("/me", token).status_code == 403


@pytest.mark.parametrize("state", ["expired", "revoked", "garbled", "unknown", "not bearer"])
def test_an_expired_revoked_or_wrong_token_gets_401(two_chapters, api, state):
    from chapter.api import tokens
    from chapter.api.models import ApiToken

    a, _, president, _ = two_chapters
    token = make_token(president, ["roster:read"], [a], days=1)
    header = {"Authorization": f"Bearer {token}"}
    if state == "expired":
        with time_machine.travel(utcnow() + timedelta(days=2)):
            response = api.client.get("/api/v1/chapters/40/roster", headers=header)
    else:
        if state == "revoked":
            row = db.session.query(ApiToken).one()
            tokens.revoke_token(row, actor=president)
            db.session.commit()
        elif state == "garbled":
            header = {"Authorization": f"Bearer {token[:-2]}xx"}
        elif state == "unknown":
            header = {"Authorization": "Bearer chp_000000000000_" + "a" * 43}
        else:
            header = {"Authorization": f"Token {token}"}
        response = api.client.get("/api/v1/chapters/40/roster", headers=header)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token_gets_401_on_private_resources_and_public_ones_answer(two_chapters, api):
    assert api.get("/chapters/40/roster").status_code == 401
    assert api.get("/me").status_code == 401
    assert [c["number"] for c in api.get("/chapters").get_json()] == [31, 40]
    assert api.get("/districts").status_code == 200


def test_a_token_outliving_its_creators_office_loses_the_chapter(two_chapters, api):
    a, _, president, _ = two_chapters
    token = make_token(president, ["roster:read", "payments:read"], [a], days=200)
    assert api.get("/chapters/40/roster", token).status_code == 200
    term = db.session.query(OfficerTerm).filter_by(user_id=president.id, chapter_id=a.id).one()
    term.ends_on = today() + timedelta(days=10)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=11)):
        response = api.get("/chapters/40/roster", token)
        assert response.status_code == 403
        assert "no longer" in response.get_json()["detail"]
        assert api.get("/chapters/40/payments", token).status_code == 403


def test_a_position_without_the_right_reaches_nothing_even_with_the_scope(app, api):
    chapter = factories.chapter(40)
    webmaster = factories.officer(chapter, "webmaster")  # no roster right
    secretary = factories.officer(chapter, "secretary")  # roster, no finances
    db.session.commit()
    assert api.get("/chapters/40/roster", make_token(webmaster, ["roster:read"], [chapter])).status_code == 403
    token = make_token(secretary, ["roster:read", "payments:read"], [chapter])
    assert api.get("/chapters/40/roster", token).status_code == 200
    assert api.get("/chapters/40/payments", token).status_code == 403


def test_every_chapter_i_may_see_follows_the_creators_positions(app, api):
    a, b = factories.chapter(40), factories.chapter(31)
    treasurer = factories.officer(a, "treasurer")
    db.session.commit()
    token = make_token(treasurer, ["payments:read"], all_chapters=True)
    assert api.get("/chapters/40/payments", token).status_code == 200
    assert api.get("/chapters/31/payments", token).status_code == 403
    factories.officer(b, "treasurer", holder=treasurer)
    db.session.commit()
    assert api.get("/chapters/31/payments", token).status_code == 200


def test_a_token_cannot_name_a_chapter_its_creator_has_no_position_in(app):
    from chapter.api import tokens
    from chapter.core.errors import NotAllowed
    from chapter.core.permissions import roles_of

    a, b = factories.chapter(40), factories.chapter(31)
    president = factories.officer(a, "president")
    with pytest.raises(NotAllowed):
        tokens.create_token(president, roles=roles_of(president), name="x", scopes=["roster:read"],
                            chapter_ids=[b.id], all_chapters=False, expires_on=today() + timedelta(days=5),
                            today=today())


def test_the_api_reads_no_session_cookie_and_sets_none(two_chapters, client, api):
    _, _, president, _ = two_chapters
    client.login(president.email)
    response = client.client.get("/api/v1/chapters/40/roster")
    assert response.status_code == 401  # a logged-in browser is no token
    assert "Set-Cookie" not in response.headers


def test_a_treasurer_reads_the_chapters_payments_and_refunds_newest_first(app, api):
    from chapter.payments.models import Order, OrderPurpose, Payment, PaymentStatus, Refund

    a, b = factories.chapter(40), factories.chapter(31)
    payer = factories.member(home=a, last_name="Payer")
    treasurer = factories.officer(a, "treasurer")
    for chapter, cents, purpose in ((a, 9500, OrderPurpose.JOIN), (a, 12000, OrderPurpose.RENEWAL),
                                    (b, 7000, OrderPurpose.TYPE_CHANGE)):
        order = Order(purpose=purpose, currency="USD", total_cents=cents, association_share_cents=cents, description="Dues",
                      member_id=payer.id, chapter_id=chapter.id)
        db.session.add(order)
        db.session.flush()
        db.session.add(Payment(order_id=order.id, amount_cents=cents, currency="USD", chapter_id=chapter.id,
                               association_share_cents=cents, status=PaymentStatus.SUCCEEDED))
    db.session.flush()
    refunded = db.session.query(Payment).filter_by(amount_cents=9500).one()
    db.session.add(Refund(payment_id=refunded.id, amount_cents=1000, reason="Duplicate"))
    db.session.commit()
    token = make_token(treasurer, ["payments:read"], [a])
    body = api.get("/chapters/40/payments", token).get_json()
    assert [p["amount_cents"] for p in body["items"]] == [12000, 9500]
    assert body["items"][0]["member_number"] == payer.member_number and body["next_cursor"] is None
    page = api.get("/chapters/40/payments?limit=1", token).get_json()
    assert [p["amount_cents"] for p in page["items"]] == [12000]
    rest = api.get(f"/chapters/40/payments?limit=1&cursor={page['next_cursor']}", token).get_json()
    assert [p["amount_cents"] for p in rest["items"]] == [9500]
    refunds = api.get("/chapters/40/refunds", token).get_json()["items"]
    assert [(r["amount_cents"], r["reason"]) for r in refunds] == [(1000, "Duplicate")]


def test_me_answers_the_token_owners_own_record(app, api):
    member = factories.member(first_name="Ada", last_name="Lovelace", with_user=True)
    db.session.commit()
    body = api.get("/me", make_token(member.user, ["me:read"])).get_json()
    assert body["member"]["member_number"] == member.member_number
    assert body["member"]["status"] == "active" and body["email"] == member.user.email
