"""Hand-made mutants of chapter/payments/webhooks.py, one at a time, against the two webhook tests written for
mutmut's survivors (docs/mutation.md, payments_webhooks). Prints KILLED or SURVIVED per mutant.

Run it in a scratch worktree, not in a checkout other processes import from: it rewrites webhooks.py while it
runs (and puts it back at the end, even when stopped with Ctrl-C or killed):
    git worktree add /tmp/mut HEAD && cd /tmp/mut && ln -s /path/to/.venv .venv &&
    env -u TEST_DATABASE_URL .venv/bin/python scripts/hand_mutants_webhooks.py
"""
import pathlib
import signal
import subprocess
import sys

F = pathlib.Path("chapter/payments/webhooks.py")
orig = F.read_text()
muts = [
 ('if event_type == "charge.refund.updated":  # data is a refund', 'if event_type == "XXcharge.refund.updated":'),
 ('payment = payment_by_intent(intent_id) if intent_id else None\n    if payment is None and charge_id:', 'payment = payment_by_intent(intent_id) if intent_id else None\n    if payment is None and None:'),
 ('payment = payment_by_intent(intent_id) if intent_id else None\n    if payment is None and charge_id:', 'payment = None\n    if payment is None and charge_id:'),
 ('item.get("status") in ("failed", "canceled")', 'item.get("status") in ("canceled",)'),
 ('item.get("status") in ("failed", "canceled")', 'item.get("status") in ("failed",)'),
 ('if not isinstance(item, dict) or not item.get("id") or', 'if not isinstance(item, dict) or'),
 ('return "unknown payment", None\n    recorded', 'return "XX unknown payment", None\n    recorded'),
 ('if isinstance(data.get("refunds"), dict) else []', 'if True else []'),
 ('amount_cents=int(data.get("amount") or 0)', 'amount_cents=int(data.get("amount") or 1)'),
 ('(data.get("currency") or (payment.currency if payment else "USD"))', '(data.get("XXcurrency") or (payment.currency if payment else "USD"))'),
 ('(payment.currency if payment else "USD")', '(payment.currency if payment else "XXX")'),
 ('or dispute.reason or "")[:100] or None', 'or dispute.reason or "XX")[:100] or None'),
 ('or dispute.reason or "")[:100]', 'or dispute.reason or "")[:101]'),
 ('if isinstance(data.get("evidence_details"), dict) else None', 'if True else None'),
 ('if not dispute.is_open and dispute.closed_at is None:', 'if not dispute.is_open:'),
 ('if not dispute.is_open and dispute.closed_at is None:', 'if False:'),
 ('sync.book_dispute_transaction(transaction, dispute)', 'sync.book_dispute_transaction(transaction, None)'),
]
# A plain kill (SIGTERM, `timeout`) must put the file back too: make it an exception that reaches `finally`.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
try:
    for old, new in muts:
        assert old in orig, old
        F.write_text(orig.replace(old, new, 1))
        r = subprocess.run([".venv/bin/python", "-m", "pytest", "-q", "-x", "-p", "no:randomly", "tests/treasury/test_what_stripe_says.py",
                            "-k", "refund_events_find or missing_or_malforming"], capture_output=True, text=True)
        print("KILLED " if r.returncode else "SURVIVED", new[:70].replace("\n", " "), flush=True)
finally:
    F.write_text(orig)
