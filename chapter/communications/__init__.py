"""Communications: officers' messages to roster lists, members' mail preferences, one-click unsubscribe.

Chapter health and the minimum standards (the other half of issue 14) count these messages through
`chapter.core.activity` (see `activity.py`)."""
from flask import Blueprint

bp = Blueprint("communications", __name__)
