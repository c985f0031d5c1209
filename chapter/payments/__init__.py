"""Payments: orders, the Stripe card flow, webhooks, receipts and refunds."""
from flask import Blueprint

bp = Blueprint("payments", __name__)
