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


class NoAnswer(GatewayError):
    """No answer from Stripe (a time-out, a dropped connection, a 5xx): it may or may not have acted."""


# Stripe's smallest charge per currency (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
MINIMUM_CHARGE_CENTS = {"USD": 50, "CAD": 50, "EUR": 50, "GBP": 30, "AUD": 50, "MXN": 1000}

# What a person is told when Stripe refuses a request that is not the card's fault.
INVALID_REQUEST_MESSAGES = {
    "amount_too_small": "The amount is below the smallest card payment the payment service accepts.",
    "amount_too_large": "The amount is above the largest card payment the payment service accepts.",
    "payment_method_not_available": "This card cannot be used here. Try another card.",
    "resource_missing": "The saved card is no longer available. Enter your card again.",
}


def _no_answer_or_error(error: "stripe.StripeError", what: str) -> GatewayError:
    """A time-out or connection error is NoAnswer (Stripe may have acted); anything else a GatewayError."""
    said = " ".join(str(error.user_message or error).split())[:300]  # one line: logs, cron mail, flash messages
    if isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError)) or (
            isinstance(error, stripe.APIError) and not isinstance(error, stripe.InvalidRequestError)):
        return NoAnswer(f"No answer from the payment service ({what}): {said}")
    return GatewayError(f"{what.capitalize()} failed at the payment service: {said}")


class InvalidWebhook(Exception):
    """A webhook whose signature or payload does not check out."""


@dataclass(frozen=True)
class IntentResult:
    """What we keep of a SetupIntent or PaymentIntent."""

    id: str | None
    status: str  # succeeded, requires_action, processing, requires_payment_method, canceled, failed
    client_secret: str | None = None
    customer_id: str | None = None
    amount_cents: int | None = None
    currency: str | None = None
    metadata: dict | None = None
    charged_at: int | None = None  # the charge's `created` (Unix time): Stripe's date for the money
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
    created: int | None = None


def timeouts() -> tuple[float, int]:
    """(seconds per Stripe request, retries): explicit, so a call ends inside the web worker's time-out."""
    config = current_app.config
    return float(config.get("STRIPE_TIMEOUT_SECONDS", 10)), int(config.get("STRIPE_MAX_NETWORK_RETRIES", 1))


def _client() -> stripe.StripeClient:
    config = current_app.config
    key = config.get("STRIPE_SECRET_KEY")
    if not key:
        raise GatewayError("Payments are not configured (STRIPE_SECRET_KEY is not set).")
    base = config.get("STRIPE_API_BASE")
    options = {"base_addresses": {"api": base}} if base else {}
    seconds, retries = timeouts()
    return stripe.StripeClient(key, max_network_retries=retries, http_client=stripe.RequestsClient(timeout=seconds),
                               **options)


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


def ensure_customer(customer_id: str | None, *, email: str | None, name: str, metadata: dict[str, str],
                    idempotency_key: str | None = None) -> str:
    """The Stripe customer for a member or organization, created on first use."""
    if customer_id:
        return customer_id
    try:
        customer = _client().v1.customers.create(params={"email": email or "", "name": name, "metadata": metadata},
                                                 options={"idempotency_key": idempotency_key} if idempotency_key else {})
    except stripe.StripeError as error:
        raise _no_answer_or_error(error, "creating the customer") from error
    return customer.id


def create_setup_intent(customer_id: str, metadata: dict[str, str]) -> IntentResult:
    """A SetupIntent the browser confirms with the card field; the card can then be charged off-session."""
    try:
        intent = _client().v1.setup_intents.create(params={
            "customer": customer_id, "payment_method_types": ["card"], "usage": "off_session", "metadata": metadata,
        })
    except stripe.StripeError as error:
        raise _no_answer_or_error(error, "preparing the card field") from error
    return IntentResult(id=intent.id, status=intent.status, client_secret=intent.client_secret, customer_id=customer_id)


def retrieve_setup_intent(setup_intent_id: str) -> IntentResult:
    """Re-read a SetupIntent after the browser confirmed it: its status and saved card."""
    client = _client()
    try:
        intent = client.v1.setup_intents.retrieve(setup_intent_id)
    except stripe.InvalidRequestError as error:
        return IntentResult(id=None, status="missing", failure_message=error.user_message or str(error))
    except stripe.StripeError as error:
        raise _no_answer_or_error(error, "reading the saved card") from error
    method_id = _id_of(getattr(intent, "payment_method", None))
    brand, last4 = _card_of(client, method_id)
    return IntentResult(id=intent.id, status=intent.status, payment_method_id=method_id, card_brand=brand, card_last4=last4,
                        customer_id=_id_of(getattr(intent, "customer", None)))


def charge(
    *, customer_id: str, payment_method_id: str, amount_cents: int, currency: str, metadata: dict[str, str],
    idempotency_key: str, off_session: bool = False,
) -> IntentResult:
    """Create and confirm a PaymentIntent with a saved card.

    A decline, or a request Stripe refuses (amount_too_small), comes back as status 'failed' with a
    reason a person understands; a time-out or connection error raises NoAnswer (Stripe may have charged).
    """
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
    except stripe.InvalidRequestError as error:
        code = error.code or "invalid_request"
        return IntentResult(
            id=None, status="failed", payment_method_id=payment_method_id, failure_code=code,
            failure_message=INVALID_REQUEST_MESSAGES.get(code, "The payment service refused this payment; nothing was charged."),
            raw=json.dumps(error.json_body or {}),
        )
    except stripe.StripeError as error:
        raise _no_answer_or_error(error, "the charge") from error
    return _payment_result(client, intent)


def retrieve_payment_intent(payment_intent_id: str) -> IntentResult:
    """Re-read a PaymentIntent (after 3-D Secure in the browser, or from a webhook)."""
    client = _client()
    try:
        intent = client.v1.payment_intents.retrieve(payment_intent_id, params={"expand": ["latest_charge"]})
    except stripe.StripeError as error:
        raise _no_answer_or_error(error, "reading the payment") from error
    return _payment_result(client, intent)


def find_payment_intent(customer_id: str, payment_id: int, *, pages: int = 5) -> IntentResult | None:
    """The PaymentIntent whose metadata names our payment, among the customer's newest; None if Stripe has none.

    Used to settle an attempt whose answer was lost before we learnt its id. Real Stripe filters the
    list by customer; the test peer refuses that filter, so the unfiltered list is read instead.
    """
    client = _client()
    query: dict = {"limit": 100, "customer": customer_id}
    starting_after = None
    for _ in range(pages):
        if starting_after:
            query["starting_after"] = starting_after
        try:
            page = client.raw_request("get", "/v1/payment_intents", **query)
        except stripe.InvalidRequestError:
            if "customer" not in query:
                raise
            query.pop("customer")
            continue
        except stripe.StripeError as error:
            raise _no_answer_or_error(error, "looking for the payment") from error
        data = json.loads(page.body)
        items = data.get("data") or []
        for item in items:
            customer = _id_of(item.get("customer"))
            if (item.get("metadata") or {}).get("payment_id") == str(payment_id) and customer in (None, customer_id):
                return retrieve_payment_intent(item["id"])
        if not data.get("has_more") or not items:
            return None
        starting_after = items[-1]["id"]
    return None


def cancel_payment_intent(payment_intent_id: str) -> IntentResult:
    """Cancel an intent nobody will complete, so it can never succeed later; if Stripe refuses because it
    has moved on (succeeded, processing), its current state is returned instead."""
    client = _client()
    try:
        client.v1.payment_intents.cancel(payment_intent_id)
    except stripe.InvalidRequestError:
        pass  # already succeeded, processing or cancelled: read what it is now
    except stripe.StripeError as error:
        raise _no_answer_or_error(error, "cancelling the payment") from error
    return retrieve_payment_intent(payment_intent_id)


def payment_result_from_event(data: dict) -> IntentResult:
    """Our view of the PaymentIntent inside a webhook event (no extra API call)."""
    error = data.get("last_payment_error") or {}
    if not isinstance(error, dict):
        error = {}
    charge = data.get("latest_charge")
    return IntentResult(
        id=data.get("id"), status=data.get("status", ""), client_secret=None,
        payment_method_id=_id_of(data.get("payment_method")), charge_id=_id_of(charge),
        customer_id=_id_of(data.get("customer")), amount_cents=data.get("amount"),
        currency=(data.get("currency") or "").upper() or None, metadata=data.get("metadata") or {},
        charged_at=(charge.get("created") if isinstance(charge, dict) else None) or data.get("created"),
        failure_code=error.get("code"), failure_message=error.get("message"), raw=json.dumps(data, default=str),
    )


def _payment_result(client: stripe.StripeClient, intent) -> IntentResult:
    method_id = _id_of(getattr(intent, "payment_method", None))
    brand, last4 = _card_of(client, method_id)
    error = getattr(intent, "last_payment_error", None)
    status = intent.status
    if status == "requires_payment_method" and error:
        status = "failed"
    charge = getattr(intent, "latest_charge", None)
    return IntentResult(
        id=intent.id, status=status, client_secret=getattr(intent, "client_secret", None), payment_method_id=method_id,
        charge_id=_id_of(charge), card_brand=brand, card_last4=last4,
        customer_id=_id_of(getattr(intent, "customer", None)), amount_cents=getattr(intent, "amount", None),
        currency=(getattr(intent, "currency", None) or "").upper() or None,
        metadata=_plain(getattr(intent, "metadata", None)),
        charged_at=getattr(charge, "created", None) if charge is not None and not isinstance(charge, str) else getattr(intent, "created", None),
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
        raise _no_answer_or_error(error, "the refund") from error
    return RefundResult(id=result.id, status=result.status, raw=_raw(result), created=getattr(result, "created", None))


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
    created: int | None = None


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
            raise _no_answer_or_error(error, f"reading {path}") from error
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


def retrieve_payout(payout_id: str) -> dict:
    """A payout as Stripe has it now (to follow it until it is paid or failed)."""
    try:
        page = _client().raw_request("get", f"/v1/payouts/{payout_id}")
    except stripe.StripeError as error:
        raise _no_answer_or_error(error, "reading the payout") from error
    return json.loads(page.body)


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
        raise _no_answer_or_error(error, "reading the charge") from error
    return ChargeInfo(id=charge_obj.id, payment_intent_id=intent_id, amount_cents=charge_obj.amount,
                      currency=charge_obj.currency.upper(), metadata=metadata)


def retrieve_refund(refund_id: str) -> RefundInfo:
    try:
        refund_obj = _client().v1.refunds.retrieve(refund_id)
    except stripe.StripeError as error:
        raise _no_answer_or_error(error, "reading the refund") from error
    return RefundInfo(id=refund_obj.id, charge_id=_id_of(getattr(refund_obj, "charge", None)),
                      payment_intent_id=_id_of(getattr(refund_obj, "payment_intent", None)),
                      amount_cents=refund_obj.amount, currency=refund_obj.currency.upper(),
                      metadata=_plain(getattr(refund_obj, "metadata", None)), created=getattr(refund_obj, "created", None))
