"""Treasury: the ledger, Stripe sync and matching, payouts, chapter remittances, period close, reports."""
from flask import Blueprint

# cli_group=None: the commands sit at the top level (`flask --app wsgi stripe sync`).
bp = Blueprint("treasury", __name__, cli_group=None)

from chapter.treasury import cli  # noqa: E402,F401  (registers the commands; imports nothing else at load)
