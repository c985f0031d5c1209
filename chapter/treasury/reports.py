"""Reading the ledger: payout reconciliation, exceptions, chapter remittances, revenue and membership reports.
Everything is summed in SQL; rows come back as plain tuples ready for a table, a chart or a CSV."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from chapter.core.formatting import format_amount, format_chapter, format_money
from chapter.extensions import db
from chapter.payments.models import Order, OrderPurpose, Payment, PaymentStatus
from chapter.treasury.models import LedgerEntry, LedgerKind, MatchStatus, StripeBalanceTransaction, StripePayout
from chapter.core.spreadsheet import csv_writer


def _money(cents: int) -> str:
    """Amounts in CSVs: a dot and two decimals, from integer cents (no float on the way)."""
    return format_amount(cents)


# --- Payouts --------------------------------------------------------------------------------

@dataclass
class PayoutView:
    payout: StripePayout
    lines: list[StripeBalanceTransaction]
    charges_cents: int = 0
    refunds_cents: int = 0  # positive: money given back
    fees_cents: int = 0
    other_cents: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def expected_cents(self) -> int:
        return self.charges_cents - self.refunds_cents - self.fees_cents + self.other_cents

    @property
    def difference_cents(self) -> int:
        return self.payout.amount_cents - self.expected_cents

    @property
    def balanced(self) -> bool:
        return self.difference_cents == 0

    @property
    def explanation(self) -> str:
        if self.balanced:
            return "Balanced: the payout equals its charges minus refunds minus fees."
        why = "; ".join(self.reasons) or "Stripe paid out money for transactions the sync has not linked to this payout"
        return f"Off by {format_money(self.difference_cents, self.payout.currency)}: {why}."


def payout_reconciliation(payout_id: str) -> PayoutView | None:
    """A payout line by line: the balance transactions it paid out and whether they add up to it."""
    payout = db.session.get(StripePayout, payout_id)
    if payout is None:
        return None
    lines = list(db.session.scalars(sa.select(StripeBalanceTransaction).where(StripeBalanceTransaction.payout_id == payout_id)
                                    .order_by(StripeBalanceTransaction.created, StripeBalanceTransaction.id)))
    view = PayoutView(payout=payout, lines=lines)
    for line in lines:
        if line.type in ("charge", "payment"):
            view.charges_cents += line.amount_cents
        elif line.type == "refund":
            view.refunds_cents -= line.amount_cents
        else:
            view.other_cents += line.amount_cents
        view.fees_cents += line.fee_cents
        if line.currency != payout.currency:
            view.reasons.append(f"{line.id} is in {line.currency}, the payout in {payout.currency}")
    if not lines:
        view.reasons.append("no balance transactions are linked to this payout")
    exceptions = [line.id for line in lines if line.status.is_exception]
    if exceptions:
        view.reasons.append(f"{len(exceptions)} line(s) do not match our records: {', '.join(exceptions[:5])}")
    return view


def payout_line_people(lines: list[StripeBalanceTransaction]) -> dict[str, tuple[str, str, int | None]]:
    """For each line of a payout: (member or organization name, order reference, payment id), in one query."""
    from chapter.members.models import Member, Organization
    from chapter.payments.models import Refund

    payment_ids = {line.payment_id for line in lines if line.payment_id}
    refund_ids = {line.refund_id for line in lines if line.refund_id}
    refund_payment = dict(db.session.execute(sa.select(Refund.id, Refund.payment_id).where(Refund.id.in_(refund_ids))).all()) \
        if refund_ids else {}
    payment_ids |= set(refund_payment.values())
    rows = db.session.execute(
        sa.select(Payment.id, Order.id, Member.first_name, Member.last_name, Organization.name)
        .join(Order, Order.id == Payment.order_id).outerjoin(Member, Member.id == Order.member_id)
        .outerjoin(Organization, Organization.id == Order.organization_id)
        .where(Payment.id.in_(payment_ids or {-1}))).all()
    by_payment = {pid: (f"{first} {last}" if first else (organization or ""), f"ORD-{order_id:06d}")
                  for pid, order_id, first, last, organization in rows}
    result = {}
    for line in lines:
        pid = line.payment_id or refund_payment.get(line.refund_id)
        if pid in by_payment:
            result[line.id] = (*by_payment[pid], pid)
    return result


def payout_lines_report(view: PayoutView) -> Report:
    """A payout's lines as CSV: each with the member and the order, then the totals."""
    from chapter.chapters.exports import safe_cell

    people = payout_line_people(view.lines)
    rows = [(line.created.date().isoformat(), line.type, line.source_id or line.id, safe_cell(people.get(line.id, ("",))[0]),
             people.get(line.id, ("", ""))[1], line.amount_cents, -line.fee_cents, line.amount_cents - line.fee_cents,
             line.currency) for line in view.lines]
    return Report(f"Payout {view.payout.id}", ["Date", "Type", "Stripe", "Member", "Order", "Amount", "Fee", "Net",
                                               "Currency"], rows, money_columns=(5, 6, 7))


def payouts_statement() -> sa.Select:
    return sa.select(StripePayout).order_by(StripePayout.created.desc())


# --- Exceptions -----------------------------------------------------------------------------

def exceptions_statement() -> sa.Select:
    """Balance transactions that need a treasurer: lost charges, mismatches, dashboard refunds."""
    return (sa.select(StripeBalanceTransaction)
            .where(StripeBalanceTransaction.status.in_([status for status in MatchStatus if status.is_exception]))
            .order_by(StripeBalanceTransaction.created.desc(), StripeBalanceTransaction.id))


def payments_without_charge_statement() -> sa.Select:
    """Paid payments here whose charge the sync never saw at Stripe (only those older than the last synced one)."""
    latest = sa.select(sa.func.max(StripeBalanceTransaction.created)).scalar_subquery()
    seen = sa.select(StripeBalanceTransaction.id).where(StripeBalanceTransaction.payment_id == Payment.id,
                                                         StripeBalanceTransaction.type.in_(["charge", "payment"]))
    return (sa.select(Payment)
            .where(Payment.status.in_([PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED]),
                   Payment.stripe_payment_intent_id.is_not(None), Payment.succeeded_at < latest, ~seen.exists())
            .order_by(Payment.id.desc()))


# --- Chapters' money ------------------------------------------------------------------------

@dataclass(frozen=True)
class Remittance:
    chapter_id: int
    currency: str
    start: date
    end: date
    collected_cents: int  # dues paid through the chapter in the period
    refunded_cents: int
    share_owed_cents: int  # the chapter's share of the period, net of refunds
    remitted_cents: int  # paid to the chapter in the period
    balance_cents: int  # owed to the chapter at the end of the period, all time


def remittance_reports(chapter, start: date, end: date) -> list[Remittance]:
    """The chapter's money per currency (a USD share is never netted against a CAD remittance): one
    Remittance per currency that has entries, the chapter's own currency first (one query)."""
    in_period = sa.and_(LedgerEntry.booked_on >= start, LedgerEntry.booked_on <= end)

    def total(kind: LedgerKind, period: bool = True):
        condition = sa.and_(LedgerEntry.kind == kind, in_period) if period else LedgerEntry.kind == kind
        return sa.func.coalesce(sa.func.sum(sa.case((condition, LedgerEntry.amount_cents), else_=0)), 0)

    rows = db.session.execute(
        sa.select(LedgerEntry.currency, total(LedgerKind.CHARGE) + total(LedgerKind.OFFLINE_PAYMENT),
                  total(LedgerKind.REFUND), total(LedgerKind.CHAPTER_SHARE),
                  total(LedgerKind.REMITTANCE), total(LedgerKind.CHAPTER_SHARE, False), total(LedgerKind.REMITTANCE, False))
        .where(LedgerEntry.chapter_id == chapter.id, LedgerEntry.booked_on <= end)
        .group_by(LedgerEntry.currency)
    ).all()
    found = {}
    for currency, *values in rows:
        collected, refunded, owed, remitted, owed_all, remitted_all = (int(v) for v in values)
        found[currency] = Remittance(chapter_id=chapter.id, currency=currency, start=start, end=end,
                                     collected_cents=collected, refunded_cents=-refunded, share_owed_cents=owed,
                                     remitted_cents=remitted, balance_cents=owed_all - remitted_all)
    own = found.pop(chapter.currency, None) or Remittance(chapter.id, chapter.currency, start, end, 0, 0, 0, 0, 0)
    return [own] + [found[c] for c in sorted(found)]


def remittance_report(chapter, start: date, end: date) -> Remittance:
    """The chapter's money in its own currency: collected, refunded, the share owed, remitted, the balance."""
    return remittance_reports(chapter, start, end)[0]


def open_disputes_statement() -> sa.Select:
    """Disputes still open, the soonest evidence deadline first."""
    from chapter.payments.models import Dispute

    return (sa.select(Dispute).where(Dispute.status.not_in(Dispute.CLOSED_STATUSES))
            .order_by(Dispute.evidence_due_by.is_(None), Dispute.evidence_due_by, Dispute.created))


def term_decisions_statement() -> sa.Select:
    """Refunds made in Stripe's dashboard whose membership term awaits a staff decision."""
    from chapter.payments.models import Refund

    return sa.select(Refund).where(Refund.term_decision_needed.is_(True)).order_by(Refund.id)


def chapter_entries_statement(chapter_id: int, start: date, end: date) -> sa.Select:
    """The chapter's ledger lines in the period (its members' payments, refunds, shares, remittances)."""
    return (sa.select(LedgerEntry).where(LedgerEntry.chapter_id == chapter_id, LedgerEntry.booked_on >= start,
                                         LedgerEntry.booked_on <= end)
            .order_by(LedgerEntry.booked_on.desc(), LedgerEntry.id.desc()))


def chapter_lines_statement(chapter_id: int, start: date, end: date) -> sa.Select:
    """The chapter's ledger lines with who paid and what for: (entry, member name, member number, order purpose,
    order id), one query with outer joins through the payment or the refund's payment."""
    from chapter.members.models import Member
    from chapter.payments.models import Refund

    refunded = sa.orm.aliased(Payment)
    payment_id = sa.func.coalesce(LedgerEntry.payment_id, refunded.id)
    return (sa.select(LedgerEntry, (Member.first_name + " " + Member.last_name).label("member_name"),
                      Member.member_number, Order.purpose, Order.id.label("order_id"))
            .outerjoin(Refund, Refund.id == LedgerEntry.refund_id)
            .outerjoin(refunded, refunded.id == Refund.payment_id)
            .outerjoin(Payment, Payment.id == payment_id)
            .outerjoin(Order, Order.id == Payment.order_id)
            .outerjoin(Member, Member.id == Order.member_id)
            .where(LedgerEntry.chapter_id == chapter_id, LedgerEntry.booked_on >= start, LedgerEntry.booked_on <= end)
            .order_by(LedgerEntry.booked_on.desc(), LedgerEntry.id.desc()))


def chapter_lines_report(chapter, start: date, end: date) -> Report:
    """The chapter's money page as CSV: each line with the member and what it was for; remittances as money sent."""
    from chapter.chapters.exports import safe_cell

    rows = []
    for entry, member_name, member_number, purpose, order_id in db.session.execute(
            chapter_lines_statement(chapter.id, start, end)):
        sent = entry.kind is LedgerKind.REMITTANCE
        rows.append((entry.booked_on.isoformat(), "Sent to the chapter" if sent else entry.kind.label,
                     safe_cell(member_name or ""), member_number or "",
                     safe_cell(purpose.label if purpose else entry.description), safe_cell(f"ORD-{order_id:06d}" if order_id else entry.reference or ""), -entry.amount_cents if sent else entry.amount_cents,
                     entry.currency))
    return Report(f"Money of {format_chapter(chapter)}", ["Date", "Kind", "Member", "Member number", "What for",
                                                          "Reference", "Amount", "Currency"],
                  rows, money_columns=(6,))


# --- Reports --------------------------------------------------------------------------------

def _month(column):
    """'YYYY-MM' of a date column, on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


DUES = [OrderPurpose.JOIN, OrderPurpose.RENEWAL, OrderPurpose.TYPE_CHANGE]


def _revenue_kind():
    """dues, corporate, events, or exams (any other purpose: the exam catalogue sells through orders too)."""
    corporate = [p for p in OrderPurpose if p.value.startswith("corporate")]
    return sa.case((Order.purpose.in_(DUES), "dues"), (Order.purpose.in_(corporate), "corporate"),
                   (Order.purpose == OrderPurpose.EVENT, "events"), else_="exams")


@dataclass(frozen=True)
class Report:
    title: str
    columns: list[str]
    rows: list[tuple]
    money_columns: tuple[int, ...] = ()
    chart_label_column: int = 0
    chart_series_column: int | None = None  # pivot: one series per value of this column
    chart_value_column: int = -1
    chart_value_columns: tuple[int, ...] = ()  # or one series per column (a row per month, kinds as columns)

    @property
    def totals(self) -> list | None:
        """The sum of each numeric column over the rows (the first column reads "Total"), for the page's last row."""
        if not self.rows:
            return None
        totals: list = ["Total"]
        for index in range(1, len(self.columns)):
            values = [row[index] for row in self.rows]
            numeric = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
            texts = {v for v in values if isinstance(v, str)}
            totals.append(sum(values) if numeric else (texts.pop() if len(texts) == 1 else ""))
        return totals

    def csv(self) -> str:
        """CSV an accounting package imports: a header, ISO dates, amounts with a dot and two decimals."""
        out = io.StringIO()
        writer = csv_writer(out)  # formula-safe cells, like every CSV we produce
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_money(v) if i in self.money_columns else v for i, v in enumerate(row)])
        return out.getvalue()

    def chart(self) -> dict:
        """Labels and datasets for Chart.js."""
        labels = sorted({row[self.chart_label_column] for row in self.rows})
        if self.chart_value_columns:
            money = {c % len(self.columns) for c in self.money_columns}
            return {"labels": [row[self.chart_label_column] for row in self.rows],
                    "datasets": [{"label": self.columns[c], "data": [row[c] / (100 if c in money else 1) for row in self.rows]}
                                 for c in self.chart_value_columns]}
        if self.chart_series_column is None:
            series = {self.columns[self.chart_value_column]: {row[self.chart_label_column]: row[self.chart_value_column] for row in self.rows}}
        else:
            series = {}
            for row in self.rows:
                series.setdefault(str(row[self.chart_series_column]), {})[row[self.chart_label_column]] = row[self.chart_value_column]
        scale = 100 if (self.chart_value_column % len(self.columns)) in {c % len(self.columns) for c in self.money_columns} else 1
        return {"labels": labels, "datasets": [{"label": name, "data": [values.get(label, 0) / scale for label in labels]}
                                               for name, values in series.items()]}


def months_between(start: date, end: date) -> list[str]:
    """Every 'YYYY-MM' from start's month to end's month, so a month with nothing still has its row."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


SITE_CURRENCY = "USD"


def _monthly_rows(start: date, end: date, values: dict[tuple[str, str], list[int]], width: int) -> list[tuple]:
    """One row per month (and currency), zeros where nothing happened: (month, *values, currency)."""
    currencies = sorted({currency for _, currency in values}) or [SITE_CURRENCY]
    return [(month, *values.get((month, currency), [0] * width), currency)
            for month in months_between(start, end) for currency in currencies
            if (month, currency) in values or currency == currencies[0]]


def revenue_by_month(start: date, end: date, chapter_id: int | None = None) -> Report:
    """Net revenue by month with the kinds (dues, corporate, exams) as columns, refunds, and the month's net."""
    month, kind = _month(LedgerEntry.booked_on).label("month"), _revenue_kind().label("kind")
    rows = db.session.execute(
        sa.select(month, kind, LedgerEntry.currency,
                  sa.func.sum(sa.case((LedgerEntry.kind == LedgerKind.CHARGE, LedgerEntry.amount_cents), else_=0)),
                  sa.func.sum(sa.case((LedgerEntry.kind == LedgerKind.REFUND, -LedgerEntry.amount_cents), else_=0)))
        .join(Payment, LedgerEntry.payment_id == Payment.id).join(Order, Payment.order_id == Order.id)
        .where(LedgerEntry.kind.in_([LedgerKind.CHARGE, LedgerKind.REFUND]), LedgerEntry.booked_on.between(start, end),
               *([LedgerEntry.chapter_id == chapter_id] if chapter_id else []))
        .group_by(month, kind, LedgerEntry.currency)).all()
    kinds = ["dues", "corporate", "exams", "events"]
    values: dict[tuple[str, str], list[int]] = {}
    for m, k, currency, charged, refunded in rows:
        line = values.setdefault((m, currency), [0] * 6)  # dues, corporate, exams, events (charged), refunded, net
        line[kinds.index(k)] += int(charged)
        line[4] += int(refunded)
        line[5] += int(charged) - int(refunded)
    return Report("Revenue by month", ["Month", "Dues", "Corporate", "Exams", "Events", "Refunded", "Net", "Currency"],
                  _monthly_rows(start, end, values, 6), money_columns=(1, 2, 3, 4, 5, 6),
                  chart_value_columns=(1, 2, 3, 4))


def revenue_by_chapter(start: date, end: date) -> Report:
    """Charges less refunds by chapter (the home chapter when each order was made)."""
    from chapter.chapters.models import Chapter

    rows = db.session.execute(
        sa.select(Chapter.name, Chapter.number,
                  sa.func.sum(sa.case((LedgerEntry.kind == LedgerKind.CHARGE, LedgerEntry.amount_cents), else_=0)),
                  sa.func.sum(sa.case((LedgerEntry.kind == LedgerKind.REFUND, -LedgerEntry.amount_cents), else_=0)),
                  sa.func.sum(sa.case((LedgerEntry.kind.in_([LedgerKind.CHARGE, LedgerKind.REFUND]), LedgerEntry.amount_cents), else_=0)),
                  sa.func.sum(sa.case((LedgerEntry.kind == LedgerKind.CHAPTER_SHARE, LedgerEntry.amount_cents), else_=0)),
                  LedgerEntry.currency)
        .outerjoin(Chapter, LedgerEntry.chapter_id == Chapter.id)
        .where(LedgerEntry.kind.in_([LedgerKind.CHARGE, LedgerKind.REFUND, LedgerKind.CHAPTER_SHARE]),
               LedgerEntry.booked_on.between(start, end))
        .group_by(Chapter.name, Chapter.number, LedgerEntry.currency).order_by(Chapter.name)).all()
    return Report("Revenue by chapter", ["Chapter", "Charged", "Refunded", "Net", "Chapter share", "Currency"],
                  [(format_chapter(name=r[0], number=r[1]), *r[2:]) for r in rows], money_columns=(1, 2, 3, 4),
                  chart_value_column=3)


def refunds_by_month(start: date, end: date, chapter_id: int | None = None) -> Report:
    """Refunds by month: how many and how much (a month with none shows zero)."""
    month = _month(LedgerEntry.booked_on).label("month")
    rows = db.session.execute(
        sa.select(month, LedgerEntry.currency, sa.func.count(), sa.func.sum(-LedgerEntry.amount_cents))
        .where(LedgerEntry.kind == LedgerKind.REFUND, LedgerEntry.booked_on.between(start, end),
               *([LedgerEntry.chapter_id == chapter_id] if chapter_id else []))
        .group_by(month, LedgerEntry.currency)).all()
    values = {(m, currency): [int(n), int(amount)] for m, currency, n, amount in rows}
    return Report("Refunds by month", ["Month", "Refunds", "Amount", "Currency"], _monthly_rows(start, end, values, 2),
                  money_columns=(2,), chart_value_column=2)


def members_by_month(start: date, end: date, chapter_id: int | None = None) -> Report:
    """New, renewed and lapsed members, one row per month, by the same dates the roster uses: new by the day they
    joined, lapsed by the day their grace ended (once it has), renewed by the renewals paid."""
    from chapter.core.models import today
    from chapter.members.models import Member

    new_month, lapsed_month = _month(Member.joined_on).label("month"), _month(Member.grace_ends_on).label("month")
    paid_on = sa.func.date(Order.fulfilled_at)
    renewed_month = _month(Order.fulfilled_at).label("month")
    last_lapsed_day = min(end, today() - timedelta(days=1))
    of_chapter = [Member.home_chapter_id == chapter_id] if chapter_id else []
    new = dict(db.session.execute(sa.select(new_month, sa.func.count()).where(Member.joined_on.between(start, end),
                                                                              *of_chapter)
                                  .group_by(new_month)).all())
    renewed = dict(db.session.execute(
        sa.select(renewed_month, sa.func.count()).where(
            Order.purpose == OrderPurpose.RENEWAL, Order.fulfilled_at.is_not(None), paid_on >= start, paid_on <= end,
            *([Order.chapter_id == chapter_id] if chapter_id else []))
        .group_by(renewed_month)).all())
    lapsed = dict(db.session.execute(
        sa.select(lapsed_month, sa.func.count()).where(Member.grace_ends_on.between(start, last_lapsed_day), *of_chapter)
        .group_by(lapsed_month)).all())
    rows = [(m, int(new.get(m, 0)), int(renewed.get(m, 0)), int(lapsed.get(m, 0))) for m in months_between(start, end)]
    return Report("New, renewed and lapsed members by month", ["Month", "New", "Renewed", "Lapsed"], rows,
                  chart_value_columns=(1, 2, 3))


REPORTS = {"revenue": revenue_by_month, "chapters": revenue_by_chapter, "refunds": refunds_by_month,
           "members": members_by_month}
# The reports a chapter treasurer may open for their own chapter (revenue by chapter is national only).
CHAPTER_REPORTS = ("revenue", "refunds", "members")


def ledger_month(month: date) -> Report:
    """Every ledger entry of a month: the journal an accounting package imports."""
    from chapter.chapters.models import Chapter
    from chapter.treasury.services import next_month

    rows = db.session.execute(
        sa.select(LedgerEntry.booked_on, LedgerEntry.id, LedgerEntry.kind, LedgerEntry.description,
                  sa.func.coalesce(LedgerEntry.reference, LedgerEntry.stripe_balance_transaction_id, LedgerEntry.stripe_payout_id, ""),
                  sa.func.coalesce(Chapter.number, None), LedgerEntry.amount_cents, LedgerEntry.currency, LedgerEntry.corrects_id)
        .outerjoin(Chapter, LedgerEntry.chapter_id == Chapter.id)
        .where(LedgerEntry.booked_on >= month, LedgerEntry.booked_on < next_month(month))
        .order_by(LedgerEntry.booked_on, LedgerEntry.id)).all()
    return Report(f"Ledger {month:%Y-%m}", ["Date", "Entry", "Account", "Description", "Reference", "Chapter", "Amount",
                                            "Currency", "Corrects entry"],
                  [(r[0].isoformat(), r[1], r[2].label, r[3], r[4], r[5] or "", r[6], r[7], r[8] or "") for r in rows],
                  money_columns=(6,), chart_value_column=6)
