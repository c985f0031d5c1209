"""The only module that imports `stripe`: everything else speaks in the project's own terms.

Works the same against real Stripe and the localstripe test peer (STRIPE_API_BASE).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import stripe
from flask import current_app


class GatewayError(Exception):
    """Stripe could not be reached or answered with an error that is not the card's fault."""


class InvalidWebhook(Exception):
    """A webhook whose signature or payload does not check out."""


@dataclass(frozen=True)
class IntentResult:
    """What we keep of a SetupIntent or PaymentIntent."""

    id: str | None
    status: str  # succeeded, requires_action, processing, requires_payment_method, failed
    client_secret: str | None = None
    payment_method_id: str | None = None
    charge_id: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    raw: str | None = None


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    raw: str


def _client() -> stripe.StripeClient:
    config = current_app.config
    key = config.get("STRIPE_SECRET_KEY")
    if not key:
        raise GatewayError("Payments are not configured (STRIPE_SECRET_KEY is not set).")
    base = config.get("STRIPE_API_BASE")
    options = {"base_addresses": {"api": base}} if base else {}
    return stripe.StripeClient(key, max_network_retries=2, **options)


def _raw(obj) -> str:
    try:
        return json.dumps(obj.to_dict(), default=str)
    except Exception:  # a partial object from an error: keep what we can
        return json.dumps(str(obj))


def _card_of(client: stripe.StripeClient, payment_method_id: str | None) -> tuple[str | None, str | None]:
    if not payment_method_id or not payment_method_id.startswith("pm_"):
        return None, None
    try:
        method = client.v1.payment_methods.retrieve(payment_method_id)
        card = getattr(method, "card", None)
        return (getattr(card, "brand", None), getattr(card, "last4", None)) if card else (None, None)
    except stripe.StripeError:
        return None, None


def _id_of(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("id")
    return getattr(value, "id", None)


def ensure_customer(customer_id: str | None, *, email: str | None, name: str, metadata: dict[str, str]) -> str:
    """The Stripe customer for a member or organization, created on first use."""
    if customer_id:
        return customer_id
    try:
        customer = _client().v1.customers.create(params={"email": email or "", "name": name, "metadata": metadata})
    except stripe.StripeError as error:
        raise GatewayError(f"Could not reach the payment service: {error.user_message or error}") from error
    return customer.id


def create_setup_intent(customer_id: str, metadata: dict[str, str]) -> IntentResult:
    """A SetupIntent the browser confirms with the card field; the card can then be charged off-session."""
    try:
        intent = _client().v1.setup_intents.create(params={
            "customer": customer_id, "payment_method_types": ["card"], "usage": "off_session", "metadata": metadata,
        })
    except stripe.StripeError as error:
        raise GatewayError(f"Could not reach the payment service: {error.user_message or error}") from error
    return IntentResult(id=intent.id, status=intent.status, client_secret=intent.client_secret)


def retrieve_setup_intent(setup_intent_id: str) -> IntentResult:
    """Re-read a SetupIntent after the browser confirmed it: its status and saved card."""
    client = _client()
    try:
        intent = client.v1.setup_intents.retrieve(setup_intent_id)
    except stripe.StripeError as error:
        raise GatewayError(f"Could not reach the payment service: {error.user_message or error}") from error
    method_id = _id_of(getattr(intent, "payment_method", None))
    brand, last4 = _card_of(client, method_id)
    return IntentResult(id=intent.id, status=intent.status, payment_method_id=method_id, card_brand=brand, card_last4=last4)


def charge(
    *, customer_id: str, payment_method_id: str, amount_cents: int, currency: str, metadata: dict[str, str],
    idempotency_key: str, off_session: bool = False,
) -> IntentResult:
    """Create and confirm a PaymentIntent with a saved card; a decline comes back as status 'failed'."""
    client = _client()
    params = {
        "amount": amount_cents, "currency": currency.lower(), "customer": customer_id,
        "payment_method": payment_method_id, "confirm": True, "payment_method_types": ["card"],
        "metadata": metadata, "expand": ["latest_charge"],
    }
    if off_session:
        params["off_session"] = True
    try:
        intent = client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.CardError as error:
        intent_data = getattr(error.error, "payment_intent", None) if error.error else None
        return IntentResult(
            id=_id_of(intent_data) if intent_data else None, status="failed", payment_method_id=payment_method_id,
            failure_code=error.code or "card_declined",
            failure_message=error.user_message or "Your card was declined.", raw=json.dumps(error.json_body or {}),
        )
    except stripe.StripeError as error:
        raise GatewayError(f"Could not reach the payment service: {error.user_message or error}") from error
    return _payment_result(client, intent)


def retrieve_payment_intent(payment_intent_id: str) -> IntentResult:
    """Re-read a PaymentIntent (after 3-D Secure in the browser, or from a webhook)."""
    client = _client()
    try:
        intent = client.v1.payment_intents.retrieve(payment_intent_id, params={"expand": ["latest_charge"]})
    except stripe.StripeError as error:
        raise GatewayError(f"Could not reach the payment service: {error.user_message or error}") from error
    return _payment_result(client, intent)


def payment_result_from_event(data: dict) -> IntentResult:
    """Our view of the PaymentIntent inside a webhook event (no extra API call)."""
    error = data.get("last_payment_error") or {}
    return IntentResult(
        id=data.get("id"), status=data.get("status", ""), client_secret=None,
        payment_method_id=_id_of(data.get("payment_method")), charge_id=_id_of(data.get("latest_charge")),
        failure_code=error.get("code"), failure_message=error.get("message"), raw=json.dumps(data, default=str),
    )


def _payment_result(client: stripe.StripeClient, intent) -> IntentResult:
    method_id = _id_of(getattr(intent, "payment_method", None))
    brand, last4 = _card_of(client, method_id)
    error = getattr(intent, "last_payment_error", None)
    status = intent.status
    if status == "requires_payment_method" and error:
        status = "failed"
    return IntentResult(
        id=intent.id, status=status, client_secret=getattr(intent, "client_secret", None), payment_method_id=method_id,
        charge_id=_id_of(getattr(intent, "latest_charge", None)), card_brand=brand, card_last4=last4,
        failure_code=getattr(error, "code", None) if error else None,
        failure_message=getattr(error, "message", None) if error else None,
        raw=_raw(intent),
    )


def refund(*, payment_intent_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str) -> RefundResult:
    """Refund part or all of a PaymentIntent (the reason goes in metadata: the peer rejects `reason`)."""
    try:
        result = _client().v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise GatewayError(f"The refund failed at the payment service: {error.user_message or error}") from error
    return RefundResult(id=result.id, status=result.status, raw=_raw(result))


def verify_webhook(payload: bytes, signature: str | None, secret: str | None) -> dict:
    """Check the Stripe-Signature header and return the event as a dict; InvalidWebhook otherwise."""
    if not secret:
        raise InvalidWebhook("STRIPE_WEBHOOK_SECRET is not set")
    if not signature:
        raise InvalidWebhook("missing Stripe-Signature header")
    try:
        # The signature alone: building a StripeObject from a body that is not an event object would raise.
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret,
                                              stripe.Webhook.DEFAULT_TOLERANCE)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise InvalidWebhook(str(error)) from error
    try:
        event = json.loads(payload)
    except ValueError as error:
        raise InvalidWebhook("payload is not JSON") from error
    # Signed but malformed (a JSON list, a string data.object): refused, never a 500 further down.
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict) \
            or not isinstance(event["data"].get("object"), dict) or not isinstance(event.get("type"), str) or len(event["type"]) > 100 \
            or not isinstance(event.get("id"), str) or len(event["id"]) > 255:
        raise InvalidWebhook("payload is not a Stripe event object")
    return event


# --- Treasury: what the Stripe sync reads -------------------------------------------------

@dataclass(frozen=True)
class ChargeInfo:
    """A charge and the PaymentIntent it belongs to, with that intent's metadata (order_id, payment_id)."""

    id: str
    payment_intent_id: str | None
    amount_cents: int
    currency: str
    metadata: dict


@dataclass(frozen=True)
class RefundInfo:
    id: str
    charge_id: str | None
    payment_intent_id: str | None
    amount_cents: int
    currency: str
    metadata: dict


def _list_newest_first(path: str, stop_at_id: str | None, params: dict | None = None, page_size: int = 100):
    """Yield objects (as dicts) from a Stripe list, newest first, until `stop_at_id` (exclusive)."""
    client = _client()
    starting_after = None
    while True:
        query = {"limit": page_size, **(params or {})}
        if starting_after:
            query["starting_after"] = starting_after
        try:
            page = client.raw_request("get", path, **query)
            data = json.loads(page.body)
        except stripe.StripeError as error:
            raise GatewayError(f"Could not read {path} from the payment service: {error.user_message or error}") from error
        items = data.get("data") or []
        for item in items:
            if item.get("id") == stop_at_id:
                return
            yield item
        if not data.get("has_more") or not items:
            return
        starting_after = items[-1]["id"]


def list_balance_transactions(stop_at_id: str | None = None):
    """Balance transactions newest first, stopping at the one the last sync saw first."""
    return _list_newest_first("/v1/balance_transactions", stop_at_id)


def list_payouts(stop_at_id: str | None = None):
    return _list_newest_first("/v1/payouts", stop_at_id)


def list_events(stop_at_id: str | None = None):
    return _list_newest_first("/v1/events", stop_at_id)


def list_payout_balance_transaction_ids(payout_id: str) -> list[str]:
    """The balance transactions a payout paid out (real Stripe; the test peer cannot say, so none)."""
    try:
        return [item["id"] for item in _list_newest_first("/v1/balance_transactions", None, {"payout": payout_id})]
    except GatewayError:
        return []


def _plain(metadata) -> dict:
    if not metadata:
        return {}
    return metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)


def retrieve_charge(charge_id: str) -> ChargeInfo:
    """A charge, with the metadata of its PaymentIntent (where the order and payment ids are)."""
    client = _client()
    try:
        charge_obj = client.v1.charges.retrieve(charge_id)
        intent_id = _id_of(getattr(charge_obj, "payment_intent", None))
        metadata = _plain(getattr(charge_obj, "metadata", None))
        if intent_id:
            intent = client.v1.payment_intents.retrieve(intent_id)
            metadata = {**metadata, **_plain(getattr(intent, "metadata", None))}
    except stripe.StripeError as error:
        raise GatewayError(f"Could not read the charge: {error.user_message or error}") from error
    return ChargeInfo(id=charge_obj.id, payment_intent_id=intent_id, amount_cents=charge_obj.amount,
                      currency=charge_obj.currency.upper(), metadata=metadata)


def retrieve_refund(refund_id: str) -> RefundInfo:
    try:
        refund_obj = _client().v1.refunds.retrieve(refund_id)
    except stripe.StripeError as error:
        raise GatewayError(f"Could not read the refund: {error.user_message or error}") from error
    return RefundInfo(id=refund_obj.id, charge_id=_id_of(getattr(refund_obj, "charge", None)),
                      payment_intent_id=_id_of(getattr(refund_obj, "payment_intent", None)),
                      amount_cents=refund_obj.amount, currency=refund_obj.currency.upper(),
                      metadata=_plain(getattr(refund_obj, "metadata", None)))
