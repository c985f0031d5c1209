"""Paying orders with the card field of Stripe.js, receipts, refunds, and the Stripe webhook."""
import logging

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.core.errors import DomainError, NotAllowed
from chapter.core.forms import attach_domain_error
from chapter.core.pagination import paginate, requested_page
from chapter.core.permissions import current_roles, staff_required
from chapter.extensions import csrf, db, limiter
from chapter.payments import bp, gateway, notifications, services
from chapter.payments.forms import RefundForm
from chapter.payments.models import Order, OrderStatus, Payment, PaymentStatus, TermAction

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
    """The payment page: the order, the card field, and the saved card if there is one."""
    order = get_order_or_404(order_id)
    if order.status is not OrderStatus.OPEN:
        paid = next((p for p in order.payments if p.status is not PaymentStatus.FAILED), None)
        if paid is not None:
            return redirect(url_for("payments.receipt", payment_id=paid.id))
        flash("This order is closed.", "info")
        return redirect(url_for("members.dashboard"))
    try:
        setup = services.begin_card_setup(order)
        db.session.commit()
    except (DomainError, gateway.GatewayError) as error:
        db.session.rollback()
        flash(getattr(error, "message", str(error)), "danger")
        return redirect(url_for("members.dashboard"))
    payer = order.member or order.organization
    last_failure = next((p for p in reversed(order.payments) if p.status is PaymentStatus.FAILED), None)
    return render_template(
        "payments/pay.html", order=order, client_secret=setup.client_secret, setup_intent_id=setup.id,
        saved_card=(payer.saved_card_brand, payer.saved_card_last4) if getattr(payer, "saved_payment_method_id", None) else None,
        offer_auto_renew=order.member is not None, last_failure=last_failure,
        stripe_key=current_app.config["STRIPE_PUBLISHABLE_KEY"], stripe_js_url=current_app.config["STRIPE_JS_URL"],
    )


def _json_error(message: str, status: int = 400):
    return jsonify(status="failed", message=message), status


@bp.post("/pay/<int:order_id>/charge")
@login_required
@limiter.limit("20 per minute")
def charge(order_id: int):
    """Charge the card the browser just saved (or the saved card); JSON for the page's script."""
    order = get_order_or_404(order_id)
    data = request.get_json(silent=True) or {}
    member = order.member
    try:
        if data.get("use_saved_card"):
            payer = member or order.organization
            if not getattr(payer, "saved_payment_method_id", None):
                raise DomainError("There is no saved card. Enter a card.")
            method_id, brand, last4 = payer.saved_payment_method_id, payer.saved_card_brand, payer.saved_card_last4
        else:
            card = services.setup_intent_card(order, str(data.get("setup_intent_id", "")))
            method_id, brand, last4 = card.payment_method_id, card.card_brand, card.card_last4
        payment = services.open_payment(order)
        db.session.commit()  # the claim is visible before Stripe is called (see services.charge_payment)
    except DomainError as error:
        db.session.rollback()
        return _json_error(error.message, 409 if isinstance(error, services.PaymentInProgress) else 400)
    except gateway.GatewayError as error:
        db.session.rollback()
        return _json_error(str(error), 502)
    try:
        result = services.charge_payment(payment, payment_method_id=method_id)
    except gateway.GatewayError:
        log.exception("charge of payment %s did not get an answer", payment.id)
        return _json_error("We could not get an answer from the payment service. Do not pay again: this page "
                           "will show the result as soon as it arrives.", 502)
    fulfilled = services.apply_intent_result(payment, result)
    if member is not None and data.get("auto_renew") and payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REQUIRES_ACTION):
        member.auto_renew = True
        member.saved_payment_method_id, member.saved_card_brand, member.saved_card_last4 = method_id, brand, last4
    db.session.commit()
    return _payment_answer(payment, fulfilled, result.client_secret)


@bp.post("/pay/<int:order_id>/payments/<int:payment_id>/refresh")
@login_required
def refresh(order_id: int, payment_id: int):
    """After 3-D Secure in the browser: re-read the payment at Stripe and fulfil it if it succeeded."""
    order = get_order_or_404(order_id)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.order_id != order.id:
        abort(404)
    try:
        fulfilled = services.refresh_payment(payment)
    except (DomainError, gateway.GatewayError) as error:
        db.session.rollback()
        return _json_error(getattr(error, "message", str(error)), 502)
    db.session.commit()
    return _payment_answer(payment, fulfilled)


def _payment_answer(payment: Payment, fulfilled: bool, client_secret: str | None = None):
    if fulfilled:
        notifications.send_receipt(payment)
    if payment.status is PaymentStatus.SUCCEEDED:
        flash(f"Thank you: your payment of {payment.amount_cents / 100:.2f} {payment.currency} is received.", "success")
        return jsonify(status="succeeded", redirect=url_for("payments.receipt", payment_id=payment.id))
    if payment.status is PaymentStatus.REQUIRES_ACTION:
        if client_secret is None:
            client_secret = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id).client_secret
        return jsonify(status="requires_action", client_secret=client_secret,
                       refresh_url=url_for("payments.refresh", order_id=payment.order_id, payment_id=payment.id))
    if payment.status is PaymentStatus.FAILED:
        # A confirmed SetupIntent cannot take another card: hand the page a fresh one.
        fresh = services.begin_card_setup(payment.order)
        db.session.commit()
        return jsonify(status="failed", client_secret=fresh.client_secret,
                       message=f"{payment.failure_message} Nothing was charged; your membership is unchanged. "
                               "Try another card."), 402
    if payment.status is PaymentStatus.REFUNDED:
        return jsonify(status="failed", message="This order had already been paid, so this second payment was "
                                                "refunded in full at once."), 409
    return jsonify(status="processing", message="Your payment is being processed. This page will update.")


@bp.get("/payments/<int:payment_id>/receipt")
@login_required
def receipt(payment_id: int):
    """A printable receipt for a payment."""
    payment = get_payment_or_404(payment_id)
    return render_template("payments/receipt.html", payment=payment, order=payment.order,
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
    """Staff and treasurers refund part or all of a payment, saying why and what happens to the term."""
    payment = get_payment_or_404(payment_id, refund=True)
    form = RefundForm()
    if not form.is_submitted():
        form.amount_cents.data = payment.refundable_cents
    if form.validate_on_submit():
        try:
            made = services.refund_payment(
                payment, amount_cents=form.amount_cents.data, reason=form.reason.data,
                term_action=TermAction(form.term_action.data), new_term_end=form.new_term_end.data,
                actor=current_user, roles=current_roles(),
            )
        except NotAllowed:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        except gateway.GatewayError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Refunded {made.amount_cents / 100:.2f} {payment.currency}.", "success")
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
        if search.upper().startswith("ORD-") and search[4:].isdigit() and len(search) <= 14:
            conditions.append(Order.id == int(search[4:]))
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
    return jsonify(received=True, duplicate=outcome.duplicate, outcome=outcome.outcome)
