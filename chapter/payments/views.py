"""Paying orders with the card field of Stripe.js, receipts, refunds, and the Stripe webhook."""
import logging

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.core.errors import DomainError, NotAllowed
from chapter.core.forms import attach_domain_error
from chapter.core.money import format_money
from chapter.core.pagination import paginate, requested_page
from chapter.core.params import db_int
from chapter.core.permissions import current_roles, staff_required
from chapter.extensions import csrf, db, limiter
from chapter.core.models import today
from chapter.payments import bp, fulfilment, gateway, notifications, services
from chapter.payments.forms import RefundForm
from chapter.payments.models import PAID_STATUSES, Order, OrderStatus, Payment, PaymentStatus, TermAction

log = logging.getLogger(__name__)


def get_order_or_404(order_id: int) -> Order:
    """Load an order the current user may pay."""
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404)
    if not services.can_pay(order, current_user):
        abort(403)
    return order


def get_payment_or_404(payment_id: int, *, refund: bool = False) -> Payment:
    """Load a payment the current user may see (or refund)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        abort(404)
    roles = current_roles()
    allowed = services.can_refund(payment, roles) if refund else services.can_see_payment(payment, current_user, roles)
    if not allowed:
        abort(403)
    return payment


@bp.get("/pay/<int:order_id>")
@login_required
def pay(order_id: int):
    """The payment page: the order, the card field, and the saved card if there is one (no Stripe object is made)."""
    order = get_order_or_404(order_id)
    if order.status is not OrderStatus.OPEN:
        paid = next((p for p in order.payments if p.status in PAID_STATUSES), None)
        if paid is not None:
            return redirect(url_for("payments.receipt", payment_id=paid.id))
        flash("This order is closed.", "info")
        return redirect(url_for("members.dashboard"))
    # The member's next visit settles an attempt whose answer was lost or whose 3-D Secure was left
    # (a commit only then: an ordinary view of the page writes nothing and makes no Stripe object).
    in_flight = services.attempt_in_flight(order)
    if in_flight is not None and services.is_stale(in_flight):
        try:
            services.settle_payment(in_flight)
            db.session.commit()
        except gateway.GatewayError:
            db.session.rollback()
        db.session.refresh(order)
        if order.status is not OrderStatus.OPEN:
            return redirect(url_for("payments.pay", order_id=order.id))
        in_flight = services.attempt_in_flight(order)
    payer = order.member or order.organization
    last_failure = next((p for p in reversed(order.payments) if p.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED)), None)
    return render_template(
        "payments/pay.html", order=order, in_flight=in_flight,
        saved_card=(payer.saved_card_brand, payer.saved_card_last4) if getattr(payer, "saved_payment_method_id", None) else None,
        offer_auto_renew=(order.member is not None and fulfilment.is_membership(order)) or order.organization is not None,
        last_failure=last_failure, details=fulfilment.receipt_details(order),
        stripe_key=current_app.config["STRIPE_PUBLISHABLE_KEY"], stripe_js_url=current_app.config["STRIPE_JS_URL"],
    )


def _json_error(message: str, status: int = 400, **extra):
    return jsonify(status="failed", message=message, **extra), status


@bp.post("/pay/<int:order_id>/setup")
@login_required
@limiter.limit("30 per minute")
def setup(order_id: int):
    """When the member presses Pay: the Stripe customer (once) and a SetupIntent for the card field."""
    order = get_order_or_404(order_id)
    try:
        intent = services.begin_card_setup(order)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _json_error(error.message, 409)
    except gateway.GatewayError as error:
        db.session.rollback()
        return _json_error(f"{error} Nothing was charged; try again in a moment.", 502)
    return jsonify(status="ok", client_secret=intent.client_secret, setup_intent_id=intent.id)


def _refresh_url(payment: Payment) -> str:
    return url_for("payments.refresh", order_id=payment.order_id, payment_id=payment.id)


@bp.post("/pay/<int:order_id>/charge")
@login_required
@limiter.limit("20 per minute")
def charge(order_id: int):
    """Charge the card the browser just saved (or the saved card), at the price the member saw; JSON for the page's script."""
    order = get_order_or_404(order_id)
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    member = order.member
    quote = data.get("quote")
    try:
        if data.get("use_saved_card"):
            payer = member or order.organization
            if not getattr(payer, "saved_payment_method_id", None):
                raise DomainError("There is no saved card. Enter a card.")
            method_id, brand, last4 = payer.saved_payment_method_id, payer.saved_card_brand, payer.saved_card_last4
        else:
            card = services.setup_intent_card(order, str(data.get("setup_intent_id", "")))
            method_id, brand, last4 = card.payment_method_id, card.card_brand, card.card_last4
        payment = services.open_payment(order, payment_method_id=method_id,
                                        expected_quote=str(quote) if quote is not None else None)
        db.session.commit()  # the claim is visible before Stripe is called (see attempts.charge_payment)
    except services.PriceChanged as error:
        db.session.rollback()
        try:
            fulfilment.reprice(db.session.get(Order, order_id), today())
            db.session.commit()
        except DomainError as reprice_error:
            db.session.rollback()
            return _json_error(reprice_error.message, 409, reload=True)
        return _json_error(error.message, 409, reload=True)
    except DomainError as error:
        db.session.rollback()
        return _json_error(error.message, 409 if isinstance(error, services.PaymentInProgress) else 400)
    except gateway.GatewayError as error:
        db.session.rollback()
        return _json_error(f"{error} Nothing was charged.", 502)
    try:
        result = services.charge_payment(payment)
    except gateway.NoAnswer as error:
        # No answer (time-out, dropped connection, 5xx): Stripe may have charged. Never "failed":
        # the attempt is unknown until Stripe's answer settles it (this page asks again by itself).
        log.warning("charge of payment %s did not get an answer: %s", payment.id, error)
        db.session.rollback()
        services.record_no_answer(payment)
        db.session.commit()
        return jsonify(status="unknown", refresh_url=_refresh_url(payment),
                       message="We have no answer from the payment service yet. Do not pay again: this page "
                               "checks by itself and shows the result as soon as it is known."), 202
    except gateway.GatewayError as error:
        # Stripe answered, and refused the request itself (keys, permissions): nothing was charged.
        log.error("charge of payment %s refused by Stripe: %s", payment.id, error)
        result = gateway.IntentResult(id=None, status="failed", failure_code="refused",
                                      failure_message="The payment service refused this payment.")
    fulfilled = services.apply_intent_result(payment, result)
    payer = member or order.organization  # an organization renews automatically too (corporate_renewals)
    if payer is not None and data.get("auto_renew") and (fulfilment.is_membership(order) or order.organization is not None) \
            and payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REQUIRES_ACTION):
        payer.auto_renew = True
        payer.saved_payment_method_id, payer.saved_card_brand, payer.saved_card_last4 = method_id, brand, last4
    db.session.commit()
    return _payment_answer(payment, fulfilled, result.client_secret)


@bp.post("/pay/<int:order_id>/payments/<int:payment_id>/refresh")
@login_required
@limiter.limit("60 per minute")
def refresh(order_id: int, payment_id: int):
    """After 3-D Secure, or while an answer is awaited: re-read the payment at Stripe and fulfil it if it succeeded."""
    order = get_order_or_404(order_id)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.order_id != order.id:
        abort(404)
    try:
        fulfilled = services.refresh_payment(payment)
    except DomainError as error:
        db.session.rollback()
        return _json_error(error.message, 409)
    except gateway.GatewayError:
        db.session.rollback()
        return jsonify(status="unknown", refresh_url=_refresh_url(payment),
                       message="Still no answer from the payment service. Do not pay again: this page keeps checking."), 202
    db.session.commit()
    return _payment_answer(payment, fulfilled)


@bp.post("/pay/<int:order_id>/payments/<int:payment_id>/authenticate")
@login_required
def resume_authentication(order_id: int, payment_id: int):
    """Complete a 3-D Secure left half-way: the intent's client secret for Stripe.js, while it is still valid."""
    order = get_order_or_404(order_id)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.order_id != order.id:
        abort(404)
    if payment.status is not PaymentStatus.REQUIRES_ACTION or not payment.stripe_payment_intent_id:
        return _json_error("This payment no longer needs authentication.", 409)
    try:
        intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    except gateway.GatewayError as error:
        return _json_error(str(error), 502)
    return jsonify(status="requires_action", client_secret=intent.client_secret, refresh_url=_refresh_url(payment))


def _payment_answer(payment: Payment, fulfilled: bool, client_secret: str | None = None):
    if fulfilled:
        notifications.send_receipt(payment)
        db.session.commit()  # the receipt is an outbox row, delivered by the worker
    if payment.status is PaymentStatus.SUCCEEDED:
        flash(f"Thank you: your payment of {format_money(payment.amount_cents, payment.currency)} is received.", "success")
        return jsonify(status="succeeded", redirect=url_for("payments.receipt", payment_id=payment.id))
    if payment.status is PaymentStatus.REQUIRES_ACTION:
        if client_secret is None:
            client_secret = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id).client_secret
        return jsonify(status="requires_action", client_secret=client_secret, refresh_url=_refresh_url(payment))
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
        return jsonify(status="failed", message=f"{payment.failure_message} Nothing was charged; "
                                                f"{'your membership is unchanged. ' if fulfilment.is_membership(payment.order) else ''}"
                                                "Try another card."), 402
    if payment.status is PaymentStatus.REFUNDED:
        return jsonify(status="failed", message="This order had already been paid, so this second payment was "
                                                "refunded in full at once."), 409
    if payment.status in (PaymentStatus.UNKNOWN, PaymentStatus.PENDING):
        return jsonify(status="unknown", refresh_url=_refresh_url(payment),
                       message="We have no answer from the payment service yet. Do not pay again: this page "
                               "checks by itself."), 202
    return jsonify(status="processing", refresh_url=_refresh_url(payment),
                   message="Your payment is being processed. This page will update.")


@bp.get("/payments/<int:payment_id>/receipt")
@login_required
def receipt(payment_id: int):
    """A printable receipt for a payment."""
    payment = get_payment_or_404(payment_id)
    return render_template("payments/receipt.html", payment=payment, order=payment.order,
                           details=fulfilment.receipt_details(payment.order),
                           is_membership=fulfilment.is_membership(payment.order),
                           can_refund=services.can_refund(payment, current_roles()))


@bp.get("/my/payments")
@login_required
def my_payments():
    """The member's own payments with links to their receipts."""
    member = current_user.member
    payments = services.member_payments(member) if member else []
    return render_template("payments/my_payments.html", payments=payments)


@bp.route("/payments/<int:payment_id>/refund", methods=["GET", "POST"])
@login_required
def refund(payment_id: int):
    """Staff and treasurers refund part or all of a payment, saying why and what happens to the term; confirmed first."""
    payment = get_payment_or_404(payment_id, refund=True)
    form = RefundForm()
    if not form.is_submitted():
        form.amount_cents.data = payment.refundable_cents
    if form.validate_on_submit():
        action = TermAction(form.term_action.data)
        try:
            if not form.confirmed.data:
                # First submission: say exactly what will happen and ask again (nothing is sent to Stripe).
                services.check_refund(payment, amount_cents=form.amount_cents.data, reason=form.reason.data,
                                      term_action=action, new_term_end=form.new_term_end.data, roles=current_roles())
                return render_template("payments/refund_confirm.html", form=form, payment=payment, action=action)
            made = services.refund_payment(
                payment, amount_cents=form.amount_cents.data, reason=form.reason.data,
                term_action=action, new_term_end=form.new_term_end.data,
                actor=current_user, roles=current_roles(),
            )
        except NotAllowed:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        except gateway.NoAnswer:
            # Stripe may have refunded: a second click would be a second refund once this one is found.
            db.session.rollback()
            form.form_errors.append(
                "The payment service did not answer: the refund may have been made. Do not refund it again; "
                "once Stripe confirms it (its notice, or the next sync), it shows on this payment with your reason.")
        except gateway.GatewayError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Refunded {format_money(made.amount_cents, payment.currency)}.", "success")
            return redirect(url_for("payments.receipt", payment_id=payment.id))
    return render_template("payments/refund.html", form=form, payment=payment), (400 if form.is_submitted() else 200)


@bp.get("/admin/payments")
@staff_required
def admin_payments():
    """Staff list of payments: search by order, member number or name; filter by status; paged."""
    from chapter.members.models import Member
    from chapter.members.search import COUNT_LIMIT, member_search_condition, member_search_rank

    statement = (
        sa.select(Payment).join(Order).outerjoin(Member, Order.member_id == Member.id)
        .options(joinedload(Payment.order).joinedload(Order.member), joinedload(Payment.order).joinedload(Order.organization))
        .order_by(Payment.id.desc())
    )
    search = request.args.get("q", "").strip()[:100]
    if search:
        conditions = [Payment.stripe_payment_intent_id == search]
        member_matches = member_search_condition(search, member_id=Order.member_id)
        if member_matches is not None:
            conditions.append(member_matches)
        if search.upper().startswith("ORD-") and db_int(search[4:]) is not None:
            conditions.append(Order.id == db_int(search[4:]))
        statement = statement.where(sa.or_(*conditions)).order_by(None).order_by(
            member_search_rank(search), Payment.id.desc())
    status = request.args.get("status", "")
    if status in {s.value for s in PaymentStatus}:
        statement = statement.where(Payment.status == PaymentStatus(status))
    page = paginate(statement, requested_page(request.args), 50, count_limit=COUNT_LIMIT)
    return render_template("payments/admin_payments.html", page=page, search=search, status=status,
                           statuses=list(PaymentStatus))


@bp.post("/stripe/webhook")
@csrf.exempt
@limiter.exempt
def stripe_webhook():
    """Receive a Stripe event: verify the signature, store it by id, apply it once."""
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return jsonify(error="payload too large"), 413  # refused before a byte of it is read
    request.max_content_length = limit  # a chunked body stops being read at the limit (413)
    try:
        event = gateway.verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"),
                                       current_app.config.get("STRIPE_WEBHOOK_SECRET"))
    except gateway.InvalidWebhook as error:
        log.warning("refused webhook: %s", error)
        return jsonify(error="invalid signature"), 400
    try:
        outcome = services.receive_webhook(event)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return jsonify(error=error.message), 400
    if outcome.fulfilled_payment_id:
        notifications.send_receipt(db.session.get(Payment, outcome.fulfilled_payment_id))
        db.session.commit()  # the receipt is an outbox row: no SMTP in the webhook
    return jsonify(received=True, duplicate=outcome.duplicate, outcome=outcome.outcome)
