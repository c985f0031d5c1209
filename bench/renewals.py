"""Renewals: the daily `renewals run` job over the seeded members (reminders and an auto-renew pass).

Mail is rendered but not delivered (no SMTP latency: that is the mail server's), and the auto-renew
pass is the dry run (`--no-charge`): it finds the members due a charge without calling Stripe. A
fifth of the active members are given auto-renew and a saved card for the run and put back after;
the reminders the run records are deleted after, so `--reuse` starts from the same place.

Figures:
- renewals_reminders_first_run_s: the first run over fresh data, when every window is full (the day
  the job is switched on: about two months of end dates); one run, it cannot be repeated.
- renewals_reminders_daily_run_ms: a run on a day already done, which sends nothing: the scan the
  job pays every day whatever it sends (median of repeats).
- renewals_reminders_next_day_s: the following day's run, a normal day's work.
- renewals_auto_renew_dry_run_ms: the auto-renew pass without charging (median of repeats).
- renewals_queries_*: statements per run; must not grow with the number of members (no N+1).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from bench.common import Bench, log, measure, median

AUTO_RENEW_SHARE = 5  # every 5th active member renews automatically for the run
DAILY_TARGET_MS = 1000


def run(bench: Bench) -> None:
    from chapter.core.models import today

    day = today()
    with bench.app.app_context(), _mail_rendered_not_sent() as sent, _auto_renewing_members(bench) as auto_renewing:
        _reminders(bench, day, sent)
        _auto_renew_dry_run(bench, day, auto_renewing)


@contextmanager
def _mail_rendered_not_sent():
    """Replace delivery with rendering only; yields the list of (to, subject) that would have gone."""
    from flask import render_template

    from chapter.payments import renewals

    sent: list[tuple[str, str]] = []

    def render_only(to, subject, template, **context):
        render_template(f"email/{template}.txt", **context)
        sent.append((to, subject))

    original, renewals.send_mail = renewals.send_mail, render_only
    try:
        yield sent
    finally:
        renewals.send_mail = original


@contextmanager
def _auto_renewing_members(bench: Bench):
    """Turn auto-renew on (with a made-up saved card) for a share of the active members; undo after."""
    from chapter.core.models import today
    from chapter.extensions import db
    from chapter.members.models import Member
    from chapter.payments.models import RenewalReminder

    ids = db.session.scalars(sa.select(Member.id).where(
        Member.auto_renew.is_(False), Member.paid_through >= today(), Member.id % AUTO_RENEW_SHARE == 0)).all()
    for start in range(0, len(ids), 5000):
        db.session.execute(sa.update(Member).where(Member.id.in_(ids[start:start + 5000]))
                           .values(auto_renew=True, saved_payment_method_id="pm_bench", saved_card_brand="visa",
                                   saved_card_last4="4242"))
    db.session.commit()
    log(f"renewals: {len(ids):,} members renew automatically for the run")
    try:
        yield len(ids)
    finally:
        db.session.rollback()
        for start in range(0, len(ids), 5000):
            db.session.execute(sa.update(Member).where(Member.id.in_(ids[start:start + 5000]))
                               .values(auto_renew=False, saved_payment_method_id=None, saved_card_brand=None,
                                       saved_card_last4=None))
        db.session.execute(sa.delete(RenewalReminder))
        db.session.commit()


def _reminders(bench: Bench, day, sent: list) -> None:
    from chapter.payments import renewals

    due = renewals.count_reminders_due(day)
    started = time.perf_counter()
    first = renewals.send_reminders(day)
    seconds = time.perf_counter() - started
    bench.emit("renewals_reminders_first_run_s", seconds, "s", None, due=due, sent=dict(first.sent),
               skipped=first.skipped, per_reminder_ms=round(seconds * 1000 / max(1, first.total_sent), 2))
    assert len(sent) == first.total_sent, (len(sent), first.total_sent)

    # Sending nothing: the cost of a run on a day already done.
    with bench.recorder.capture() as queries:
        repeat = renewals.send_reminders(day)
    assert repeat.total_sent == 0, repeat.sent
    timings = measure(lambda: renewals.send_reminders(day), bench.repeat, bench.warmup)
    bench.emit("renewals_reminders_daily_run_ms", median(timings), "ms", DAILY_TARGET_MS, queries=len(queries))
    bench.emit("renewals_queries_reminders_nothing_to_send", len(queries), "queries", None,
               note="the longest grace, then the ids due in each of the 5 windows (none: no batch to read)")

    started = time.perf_counter()
    next_day = renewals.send_reminders(day + timedelta(days=1))
    seconds = time.perf_counter() - started
    bench.emit("renewals_reminders_next_day_s", seconds, "s", None, sent=dict(next_day.sent))


def _auto_renew_dry_run(bench: Bench, day, auto_renewing: int) -> None:
    from chapter.payments import renewals

    with bench.recorder.capture() as queries:
        summary = renewals.auto_renew(day, dry_run=True)
    timings = measure(lambda: renewals.auto_renew(day, dry_run=True), bench.repeat, bench.warmup)
    bench.emit("renewals_auto_renew_dry_run_ms", median(timings), "ms", DAILY_TARGET_MS, due=summary.due,
               auto_renewing=auto_renewing, queries=len(queries))
    log(f"renewals: {summary.due} members due an automatic renewal today (of {auto_renewing:,} auto-renewing)")
