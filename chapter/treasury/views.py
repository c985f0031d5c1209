"""Treasury pages: exceptions and sync, payouts, chapter remittances, closed months, reports.
Staff (the national treasurer) see everything; a chapter treasurer sees only their chapter's money."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.chapters.models import Chapter
from chapter.core.confirm import confirmation_page, is_confirmed
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.models import today
from chapter.core.pagination import paginate, requested_page
from chapter.core.params import plausible_date, plausible_month
from chapter.core.permissions import current_roles, staff_required
from chapter.extensions import db
from chapter.payments.gateway import GatewayError
from chapter.treasury import bp, reports, services, signoff, sync
from chapter.payments.forms import OfflineOrderPaymentForm, TermDecisionForm
from chapter.treasury.forms import EmptyForm, MonthForm, OfflinePaymentForm, RemittanceForm


def _period(months: int = 1) -> tuple[date, date]:
    """The ?from=&to= range (ISO dates); by default the last `months` months, this one included."""
    def parse(name: str, default: date) -> date:
        return plausible_date(request.args.get(name)) or default  # year 10000 and the like: the default
    first = today().replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    start = parse("from", first)
    end = parse("to", services.next_month(today().replace(day=1) if "from" not in request.args else start)
                - timedelta(days=1))
    return start, max(start, end)


def _finance_chapter_or_404(number: int) -> Chapter:
    """Load a chapter and check the user may see its money (403 otherwise)."""
    import sqlalchemy as sa

    chapter = db.session.scalar(sa.select(Chapter).where(Chapter.number == number))
    if chapter is None:
        abort(404)
    if not current_roles().can_view_finances(chapter):
        abort(403)
    return chapter


@bp.get("/treasury/")
@login_required
def index():
    """Staff: exceptions to review, the sync button, payouts, closed months. Treasurers: their chapters."""
    roles = current_roles()
    if not roles.is_staff:
        chapter_ids = [cid for cid, positions in roles.positions_by_chapter.items() if any(p.can_view_finances for p in positions)]
        if not chapter_ids:
            abort(403)
        import sqlalchemy as sa

        chapters = db.session.scalars(sa.select(Chapter).where(Chapter.id.in_(chapter_ids)).order_by(Chapter.number)).all()
        return render_template("treasury/my_chapters.html", chapters=chapters)
    return _staff_page()


def _staff_page(failed_form=None, term_forms: dict | None = None, **forms):
    """The staff treasury page; after a refused form, that form (what was typed, its messages by the
    field) with an error summary at the top of the page, answered 400."""
    context = dict(month_form=MonthForm(formdata=None), offline_form=OfflinePaymentForm(formdata=None),
                   order_payment_form=OfflineOrderPaymentForm(formdata=None, received_on=today()))
    context.update(forms)
    decisions = db.session.scalars(reports.term_decisions_statement().limit(50)).all()
    decision_forms = {refund.id: _with_own_ids(TermDecisionForm(formdata=None), refund.id) for refund in decisions}
    decision_forms.update(term_forms or {})
    page = render_template(
        "treasury/index.html", exceptions=paginate(reports.exceptions_statement(), requested_page(request.args), 25),
        missing=paginate(reports.payments_without_charge_statement(), requested_page(request.args, "missing_page"), 25),
        payouts=paginate(reports.payouts_statement(), 1, 10), closed=services.closed_months(),
        disputes=db.session.scalars(reports.open_disputes_statement().limit(50)).all(),
        decisions=decisions, decision_forms=decision_forms,
        form=EmptyForm(), failed_form=failed_form, this_month=f"{today():%Y-%m}", **context)
    return (page, 400) if failed_form is not None else page


def _with_own_ids(form: TermDecisionForm, refund_id: int) -> TermDecisionForm:
    """The page lists one decision form per refund: give its fields ids of their own (names stay)."""
    for field in (form.term_action, form.new_term_end):
        field.id = field.label.field_id = f"{field.name}_{refund_id}"
    return form


@bp.post("/payments/refunds/<int:refund_id>/term-decision")
@staff_required
def decide_term(refund_id: int):
    """Staff decide what a refund made in Stripe's dashboard does to the membership term it paid for."""
    from chapter.payments import services as payments
    from chapter.payments.models import Refund, TermAction

    refund = db.session.get(Refund, refund_id)
    if refund is None:
        abort(404)
    form = _with_own_ids(TermDecisionForm(), refund.id)
    if form.validate_on_submit():
        try:
            payments.decide_term(refund, term_action=TermAction(form.term_action.data),
                                 new_term_end=form.new_term_end.data, actor=current_user, roles=current_roles())
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"Decided: the term paid by {refund.payment.order.reference} is "
                  f"{TermAction(form.term_action.data).value}.", "success")
            return redirect(url_for("treasury.index"))
    return _staff_page(form, term_forms={refund.id: form})


@bp.post("/treasury/sync")
@staff_required
def sync_now():
    """Pull and match what Stripe has since the last sync."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        report = sync.sync_stripe()
    except GatewayError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("treasury.index"))
    db.session.commit()
    flash(f"Synced {report.balance_transactions} balance transactions and {report.payouts} payouts; "
          f"{report.exceptions} exception(s) to review.", "success")
    return redirect(url_for("treasury.index"))


@bp.post("/treasury/transactions/<transaction_id>/recover")
@staff_required
def recover(transaction_id: str):
    """One click for a lost webhook: create or find the payment and fulfil its order, exactly once."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        payment = sync.recover_charge(transaction_id, actor=current_user)
    except (DomainError, GatewayError) as error:
        db.session.rollback()
        flash(getattr(error, "message", str(error)), "danger")
        return redirect(url_for("treasury.index"))
    row = db.session.get(sync.StripeBalanceTransaction, transaction_id)
    db.session.commit()
    if payment is None or row.status is sync.MatchStatus.UNKNOWN_CHARGE:
        flash(f"Not recovered: {row.note}", "warning")
    else:
        flash(f"Recovered the payment of {payment.order.reference}: {row.note}.", "success")
    return redirect(url_for("treasury.index"))


@bp.get("/treasury/payouts")
@staff_required
def payouts():
    """Every payout Stripe made, newest first."""
    return render_template("treasury/payouts.html", page=paginate(reports.payouts_statement(), requested_page(request.args), 50))


@bp.get("/treasury/payouts/<payout_id>")
@staff_required
def payout(payout_id: str):
    """A payout line by line, and whether it balances."""
    view = reports.payout_reconciliation(payout_id)
    if view is None:
        abort(404)
    if request.args.get("format") == "csv":
        return _csv(reports.payout_lines_report(view), f"payout-{payout_id}.csv")
    return render_template("treasury/payout.html", view=view, people=reports.payout_line_people(view.lines),
                           sign_off=signoff.payout_sign_off(payout_id), form=EmptyForm())


@bp.post("/treasury/payouts/<payout_id>/sign-off")
@staff_required
def sign_off_payout(payout_id: str):
    """The treasurer signs off a payout that balances: "reconciled by … on …"."""
    view = reports.payout_reconciliation(payout_id)
    if view is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        signoff.sign_off_payout(view, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(f"Payout {payout_id} is signed off as reconciled.", "success")
    return redirect(url_for("treasury.payout", payout_id=payout_id))


@bp.get("/treasury/chapters/<int:number>")
@login_required
def remittance(number: int):
    """A chapter's money for a period: collected, refunded, share owed, remitted, balance; and its ledger lines."""
    from chapter.chapters.fiscal import fiscal_year_named, fiscal_year_of

    chapter = _finance_chapter_or_404(number)
    start, end = _period()
    this_year = fiscal_year_of(chapter.fiscal_year_start_month, today())
    if request.args.get("fy", "").isdigit() and 1900 < int(request.args["fy"]) < 3000:  # ?fy=2026: FY 2026-27
        fiscal = fiscal_year_named(chapter.fiscal_year_start_month, int(request.args["fy"]))
        start, end = fiscal.starts_on, fiscal.ends_on
    if request.args.get("format") == "csv":
        return _csv(reports.chapter_lines_report(chapter, start, end),
                    f"chapter-{chapter.number}-{start.isoformat()}-{end.isoformat()}.csv")
    return render_template(
        "treasury/remittance.html", chapter=chapter, start=start, end=end,
        fiscal_years=[this_year, this_year.previous()],
        report=reports.remittance_report(chapter, start, end), others=reports.remittance_reports(chapter, start, end)[1:],
        page=paginate(reports.chapter_lines_statement(chapter.id, start, end), requested_page(request.args), 50,
                      scalars=False),
        form=RemittanceForm(booked_on=today()) if current_roles().is_staff else None)


@bp.post("/treasury/chapters/<int:number>/remittances")
@staff_required
def record_remittance(number: int):
    """The national treasurer records money paid to a chapter."""
    chapter = _finance_chapter_or_404(number)
    form = RemittanceForm()
    if form.validate_on_submit():
        try:
            services.record_remittance(chapter, amount_cents=form.amount_cents.data, booked_on=form.booked_on.data,
                                       reference=form.reference.data or "", actor=current_user)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash("Remittance recorded.", "success")
            return redirect(url_for("treasury.remittance", number=number))
    from chapter.chapters.fiscal import fiscal_year_of

    start, end = _period()
    this_year = fiscal_year_of(chapter.fiscal_year_start_month, today())
    return render_template("treasury/remittance.html", chapter=chapter, start=start, end=end,
                           fiscal_years=[this_year, this_year.previous()],  # the page's year links (a 500 without)
                           report=reports.remittance_report(chapter, start, end),
                           others=reports.remittance_reports(chapter, start, end)[1:],
                           page=paginate(reports.chapter_lines_statement(chapter.id, start, end), 1, 50, scalars=False),
                           form=form), 400


@bp.post("/treasury/offline-payments")
@staff_required
def record_offline_payment():
    """Record a check or bank transfer with its reference."""
    form = OfflinePaymentForm()
    if form.validate_on_submit():
        try:
            services.record_offline_payment(amount_cents=form.amount_cents.data, currency="USD",
                                            booked_on=form.booked_on.data, reference=form.reference.data,
                                            description=form.description.data or "", actor=current_user)
        except DomainError as error:
            db.session.rollback()
            attach_domain_error(form, error)
        else:
            db.session.commit()
            flash("Offline payment recorded.", "success")
            return redirect(url_for("treasury.index"))
    return _staff_page(form, offline_form=form)


@bp.post("/treasury/order-payments")
@staff_required
def record_order_payment():
    """Record a cheque or bank transfer against a member's open order: it is fulfilled, receipted and booked."""
    from chapter.payments import notifications
    from chapter.payments import services as payments
    from chapter.payments.models import Order

    form = OfflineOrderPaymentForm()
    if not form.validate_on_submit():
        return _staff_page(form, order_payment_form=form)
    text = form.order_reference.data.strip().upper().removeprefix("ORD-")
    order = db.session.get(Order, int(text)) if text.isdigit() and len(text) < 10 else None
    if order is None:
        form.order_reference.errors.append(f"There is no order {form.order_reference.data.strip()}.")
        return _staff_page(form, order_payment_form=form)
    try:
        payment = payments.record_offline_payment(order, amount_cents=form.amount_cents.data,
                                                  received_on=form.received_on.data, reference=form.reference.data,
                                                  actor=current_user)
    except DomainError as error:
        db.session.rollback()
        attach_domain_error(form, error)
        return _staff_page(form, order_payment_form=form)
    notifications.send_receipt(payment)  # an outbox row, committed with the payment
    db.session.commit()
    flash(f"Recorded: {order.reference} is paid.", "success")
    return redirect(url_for("payments.receipt", payment_id=payment.id))


@bp.post("/treasury/periods/close")
@staff_required
def close_month():
    """Close a month: no entry dated in it can be added afterwards."""
    return _period_action(services.close_month, "closed")


@bp.post("/treasury/periods/reopen")
@staff_required
def reopen_month():
    """Reopen a closed month (logged)."""
    return _period_action(services.reopen_month, "reopened")


def _period_action(action, verb: str):
    form = MonthForm()
    if not form.validate_on_submit():
        return _staff_page(form, month_form=form)
    if not is_confirmed():
        return _confirm_period_action(form.month.data, verb)
    try:
        action(form.month.data, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        attach_domain_error(form, error)
        return _staff_page(form, month_form=form)
    db.session.commit()
    flash(f"{form.month.data:%B %Y} {verb}.", "success")
    return redirect(url_for("treasury.index"))


def _confirm_period_action(month: date, verb: str):
    """Say what closing or reopening the month will do, and ask once more."""
    name = f"{month:%B %Y}"
    if verb == "closed":
        consequences = [f"No payment, refund or other entry dated in {name} can be added any more.",
                        "A late correction lands in the first open month and points to the entry it corrects.",
                        "Staff can reopen the month later; the reopening is logged."]
        heading, label, endpoint = f"Close {name}?", f"Yes, close {name}", "treasury.close_month"
    else:
        consequences = [f"Entries dated in {name} can be added again, so its totals may change.",
                        "The reopening is logged with your name."]
        heading, label, endpoint = f"Reopen {name}?", f"Yes, reopen {name}", "treasury.reopen_month"
    return confirmation_page(heading=heading, consequences=consequences, action=url_for(endpoint),
                             fields={"month": f"{month:%Y-%m}"}, confirm_label=label,
                             cancel_url=url_for("treasury.index"), danger=verb != "closed")


@bp.get("/treasury/reports/<name>")
@staff_required
def report(name: str):
    """A report as a table and a chart, or as CSV (?format=csv)."""
    build = reports.REPORTS.get(name)
    if build is None:
        abort(404)
    start, end = _period(months=12)
    result = build(start, end)
    if request.args.get("format") == "csv":
        return _csv(result, f"{name}-{start.isoformat()}-{end.isoformat()}.csv")
    return render_template("treasury/report.html", report=result, name=name, start=start, end=end,
                           names=reports.REPORTS)


@bp.get("/treasury/chapters/<int:number>/reports/<name>")
@login_required
def chapter_report(number: int, name: str):
    """A report of one chapter (revenue, refunds, members), for its treasurer and the national staff."""
    chapter = _finance_chapter_or_404(number)
    if name not in reports.CHAPTER_REPORTS:
        abort(404)
    start, end = _period(months=12)
    result = reports.REPORTS[name](start, end, chapter_id=chapter.id)
    if request.args.get("format") == "csv":
        return _csv(result, f"chapter-{number}-{name}-{start.isoformat()}-{end.isoformat()}.csv")
    return render_template("treasury/report.html", report=result, name=name, start=start, end=end,
                           names=reports.REPORTS, chapter=chapter)


@bp.get("/treasury/ledger.csv")
@staff_required
def ledger_csv():
    """Every ledger entry of a month (?month=YYYY-MM) as CSV for the accounting package."""
    text = request.args.get("month", "")
    month = plausible_month(text) if len(text) == 7 else None  # year 9999 and the like are no month either
    if month is None:
        return Response(f"Give the month as ?month=YYYY-MM (for example ?month={today():%Y-%m}); "
                        f"{text!r} is not a month.\n" if text else
                        f"Give the month as ?month=YYYY-MM (for example ?month={today():%Y-%m}).\n",
                        status=400, mimetype="text/plain")
    return _csv(reports.ledger_month(month), f"ledger-{month:%Y-%m}.csv")


def _csv(result: reports.Report, filename: str) -> Response:
    return Response(result.csv(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
