"""Signed outgoing webhooks: endpoints officers and staff register, deliveries of domain events to them.

Not Stripe's incoming webhooks (chapter/payments/webhooks.py). See docs/webhooks.md.
"""
from flask import Blueprint

bp = Blueprint("outgoing", __name__)
