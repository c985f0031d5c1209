"""The API's public resources (directory, membership types, certificate check) and what every request shares:
the token check, the per-token rate limit and problem+json errors."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from werkzeug.exceptions import HTTPException

from chapter.api import access, bp
from chapter.api.problems import http_problem, unexpected_problem
from chapter.api.schemas import (
    ChapterSchema, DistrictSchema, MembershipTypeSchema, VerificationSchema, VerifyArgs,
)
from chapter.certifications.verification import verify
from chapter.chapters.models import Chapter, District
from chapter.chapters.services import get_chapter_by_number
from chapter.core.models import today
from chapter.extensions import db, limiter
from chapter.members.models import MembershipType
from flask import abort
from sqlalchemy.orm import joinedload

bp.register_error_handler(HTTPException, http_problem)
bp.register_error_handler(Exception, unexpected_problem)
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=access.rate_limit_key,
              per_method=False)(bp)


@bp.before_request
def authenticate_token():
    """Every request with a token is checked before its view runs (401 for a bad one)."""
    access.authenticate()


@bp.after_request
def never_cached(response):
    """Answers depend on the token: no shared cache keeps them."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Vary"] = "Authorization"
    return response


def problems(*codes: int):
    """Document the problem responses an operation can answer."""
    def decorate(view):
        for code in codes:
            view = bp.alt_response(code, response=_RESPONSE_NAMES[code])(view)
        return view
    return decorate


def needs_token(*codes: int):
    """Document an operation that needs a Bearer token, with the problems it can answer (401 and 429 always)."""
    def decorate(view):
        return bp.doc(security=[{"bearer": []}])(problems(401, 429, *codes)(view))
    return decorate


_RESPONSE_NAMES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 422: "UNPROCESSABLE_ENTITY",
                   429: "TOO_MANY_REQUESTS"}


@bp.get("/districts")
@bp.response(200, DistrictSchema(many=True))
@problems(429)
def districts():
    """The association's districts (public)."""
    return db.session.scalars(sa.select(District).order_by(District.name)).all()


@bp.get("/chapters")
@bp.response(200, ChapterSchema(many=True))
@problems(429)
def chapters():
    """Every chapter's public fields, by number (a few hundred: one list, no paging)."""
    return db.session.scalars(sa.select(Chapter).options(joinedload(Chapter.district)).order_by(Chapter.number)).all()


@bp.get("/chapters/<int:number>")
@bp.response(200, ChapterSchema)
@problems(404, 429)
def chapter(number: int):
    """One chapter's public fields."""
    found = get_chapter_by_number(number)
    if found is None:
        abort(404, f"There is no chapter {number}.")
    return found


@bp.get("/membership-types")
@bp.response(200, MembershipTypeSchema(many=True))
@problems(429)
def membership_types():
    """The membership types members can buy, with their prices (public)."""
    return db.session.scalars(sa.select(MembershipType).where(MembershipType.is_public.is_(True))
                              .order_by(MembershipType.sort_order, MembershipType.name)).all()


@bp.get("/certifications/verify")
@limiter.limit(lambda: current_app.config["API_VERIFY_RATE_LIMIT"], key_func=access.rate_limit_key)
@bp.arguments(VerifyArgs, location="query")
@bp.response(200, VerificationSchema)
@problems(404, 422, 429)
def verify_certificate(args):
    """The public certificate check: a certificate number and the holder's last name (rate-limited)."""
    found = verify(args["certificate_number"], args["last_name"], today())
    if found is None:
        abort(404, "No certification matches that number and last name.")
    return found
