"""A property-based run of the whole API against its own OpenAPI document (Schemathesis): with a valid token of
an officer holding every scope, no operation answers a 5xx, and every answer matches the document."""
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chapter.api import tokens
from chapter.extensions import db
from chapter.events.models import EventStatus
from tests import factories
from tests.events import factories as event_factories
from tests.api.conftest import make_token

EXAMPLES_PER_OPERATION = 12  # bounded: the whole run adds a few seconds per database
# An event the document allows can still break a rule the document cannot state (a session ending before it
# starts, a time zone that does not exist, years past 2200): that is a 422 naming the field, by design. For
# writes (and publishing/cancelling: a rule on the event's state, a 409), and for a `cursor` (valid only when the API made it), "schema-valid data is accepted" is therefore
# not asserted; every other check is, on every call.
RULES_BEYOND_THE_SCHEMA = {"POST", "PUT", "PATCH"}


@pytest.fixture
def officer_token(app):
    app.config.update(API_RATE_LIMIT="100000 per minute", API_VERIFY_RATE_LIMIT="100000 per minute")
    # Chapter 1: Hypothesis tries small numbers early, so the run reaches a chapter the token reads.
    home = factories.chapter(1)
    factories.chapter(2)
    for last in ("Lovelace", "Hopper", "Turing"):
        factories.member(home=home, last_name=last)
    president = factories.officer(home, "president")
    factories.member(home=home, last_name="Officer", with_user=False)
    event_factories.event(home, title="A draft to publish", status=EventStatus.DRAFT)  # small ids: reached
    event_factories.event(home, title="Monthly meeting")
    db.session.commit()
    return make_token(president, sorted(tokens.SCOPES), [home])


def test_every_operation_answers_within_its_document_and_never_a_5xx(app, officer_token):
    with app.test_request_context():
        from chapter.api import api

        document = api.spec.to_dict()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {officer_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == set(document["paths"])
    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=timedelta(seconds=5), database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            beyond = case.method.upper() in RULES_BEYOND_THE_SCHEMA or bool((case.query or {}).get("cursor"))
            excluded = [positive_data_acceptance] if beyond else []
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        run()
