"""Test-side stand-ins for what the browser does with Stripe.js, spoken straight to localstripe."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse
import urllib.request

from tests.conftest import WEBHOOK_SECRET

CARD_OK = "4242424242424242"
CARD_DECLINED_ON_CHARGE = "4000000000000341"
CARD_DECLINED_ON_SETUP = "4000000000000002"
CARD_3DS = "4000002500003155"


def stripe_api(base: str, path: str, data: dict | None = None, method: str = "POST") -> dict:
    """Call localstripe as Stripe.js (or the dashboard) would."""
    body = urllib.parse.urlencode(data or {}).encode() if data is not None else None
    request = urllib.request.Request(f"{base}{path}", data=body, method=method,
                                     headers={"Authorization": "Bearer sk_test_chapter"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return json.loads(error.read() or b"{}")


def confirm_card_setup(base: str, setup_intent_id: str, number: str) -> dict:
    """What stripe.confirmCardSetup does: attach a card to the SetupIntent (3-D Secure accepted)."""
    method = stripe_api(base, "/v1/payment_methods", {"type": "card", "card[number]": number, "card[exp_month]": "12",
                                                      "card[exp_year]": "2034", "card[cvc]": "123"})
    if "error" in method:
        return method
    result = stripe_api(base, f"/v1/setup_intents/{setup_intent_id}/confirm", {"payment_method": method["id"]})
    if result.get("status") == "requires_action":
        result = stripe_api(base, f"/v1/setup_intents/{setup_intent_id}/confirm", {})
    return result


def authenticate_payment(base: str, client_secret: str, success: bool = True) -> dict:
    """What stripe.confirmCardPayment does when the bank asks for 3-D Secure."""
    intent_id = client_secret.split("_secret_")[0]
    return stripe_api(base, f"/v1/payment_intents/{intent_id}/_authenticate",
                      {"client_secret": client_secret, "success": "true" if success else "false"})


def pay_page(client, order_id: int) -> tuple[str, str]:
    """Open the payment page, then press Pay as the script does: the server makes the SetupIntent then.
    Returns the SetupIntent id and the CSRF token the script would use."""
    page = client.get(f"/pay/{order_id}").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    answer = client.client.post(f"/pay/{order_id}/setup", json={}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["setup_intent_id"], token


def page_quote(client, order_id: int) -> str:
    """The quote the payment page shows (what the script sends back with the charge)."""
    page = client.get(f"/pay/{order_id}").get_data(as_text=True)
    return re.search(r'data-quote="([^"]+)"', page).group(1)


def post_json(client, url: str, token: str, body: dict):
    return client.client.post(url, json=body, headers={"X-CSRFToken": token})


def pay_order(client, base: str, order_id: int, number: str = CARD_OK, auto_renew: bool = False):
    """The whole browser side of paying an order with a card; returns the charge endpoint's answer."""
    setup_intent, token = pay_page(client, order_id)
    confirmed = confirm_card_setup(base, setup_intent, number)
    assert confirmed.get("status") == "succeeded", confirmed
    return post_json(client, f"/pay/{order_id}/charge", token, {"setup_intent_id": setup_intent, "auto_renew": auto_renew})


def signed_event(payload: dict, secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, as Stripe signs them."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def intent_event(event_id: str, intent: dict, event_type: str = "payment_intent.succeeded") -> dict:
    return {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
            "data": {"object": intent}}


def told_of_charge(member, on, term_ends_on=None):
    """The charge notice (DOMAIN.md: told before an automatic charge) sent to `member` on `on` for the term
    ending `term_ends_on` (its current one): automatic renewal charges only 7 days after it."""
    from datetime import datetime, time as time_of_day

    from chapter.extensions import db
    from chapter.payments.models import RenewalReminder

    import sqlalchemy as sa

    term_ends_on = term_ends_on or member.paid_through
    if db.session.scalar(sa.select(RenewalReminder.id).where(RenewalReminder.member_id == member.id,
                         RenewalReminder.term_ends_on == term_ends_on, RenewalReminder.kind == "charge_notice")):
        return  # told already (a card replaced for the same term)
    db.session.add(RenewalReminder(member_id=member.id, term_ends_on=term_ends_on,
                                   kind="charge_notice", sent_at=datetime.combine(on, time_of_day(6))))
    db.session.commit()


def told_of_corporate_charge(organization, term_ends_on, on):
    """The charge notice sent to the organization's contact on `on` for the term ending `term_ends_on`:
    automatic renewal charges the organization's card only 7 days after it."""
    from datetime import datetime, time as time_of_day

    from chapter.extensions import db
    from chapter.members.corporate_renewals import CorporateNotice

    db.session.add(CorporateNotice(organization_id=organization.id, term_ends_on=term_ends_on, kind="charge_notice",
                                   sent_at=datetime.combine(on, time_of_day(6))))
    db.session.commit()


def paid_seat_order(client, base: str, *, email: str = "carol@example.org", seats: int = 5):
    """Carol (a registered user) starts Acme Supply and pays for `seats` seats by card through the pages (she stays
    logged in); returns the payment."""
    import sqlalchemy as sa

    from chapter.extensions import db
    from chapter.members import corporate
    from chapter.payments.models import Payment
    from tests import factories

    factories.reference_data()
    contact = factories.member(status="pending", email=email, with_user=True).user
    organization = corporate.create_organization(name="Acme Supply", actor=contact)
    db.session.commit()
    client.login(email)
    response = client.submit(f"/organizations/{organization.id}/buy", {"seats": seats})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, base, order_id).get_json()["status"] == "succeeded"
    return db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))


def join_and_pay(client, base: str, email: str, home, type_code: str = "professional", **member_fields):
    """A pending member with a login joins through the pages and pays by card (logged out afterwards); returns the
    payment."""
    import sqlalchemy as sa

    from chapter.extensions import db
    from chapter.payments.models import Payment
    from tests import factories

    factories.member(home=home, status="pending", email=email, with_user=True, **member_fields)
    db.session.commit()
    client.login(email)
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type(type_code).id})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, base, order_id).get_json()["status"] == "succeeded"
    client.logout()
    return db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))
