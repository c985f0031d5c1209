"""Log in, log out, registration and password reset."""
from flask import Blueprint

bp = Blueprint("auth", __name__)
