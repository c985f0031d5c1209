"""Saving a card for automatic renewal accepts only the SetupIntent the member's own card page was given."""
from chapter.extensions import db
from tests import factories


def test_a_setup_intent_the_page_did_not_issue_is_refused_and_the_card_is_unchanged(app, client):
    member = factories.member(home=factories.chapter(40), status="active", email="ada@example.org", with_user=True)
    member.saved_payment_method_id, member.saved_card_last4 = "pm_old", "1111"
    db.session.commit()
    client.login("ada@example.org")
    token = client.csrf_token("/membership/auto-renew")
    answer = client.client.post("/membership/card", json={"setup_intent_id": "seti_someone_elses"},
                                headers={"X-CSRFToken": token})
    assert answer.status_code == 400 and "expired" in answer.get_json()["message"]
    db.session.refresh(member)
    assert (member.saved_payment_method_id, member.saved_card_last4) == ("pm_old", "1111")
