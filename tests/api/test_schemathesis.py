"""A property-based run of the whole API against its own OpenAPI document (Schemathesis): with a valid token of
an officer holding every scope, no operation answers a 5xx, and every answer matches the document."""
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from chapter.api import tokens
from chapter.extensions import db
from tests import factories
from tests.api.conftest import make_token

EXAMPLES_PER_OPERATION = 12  # bounded: the whole run adds a few seconds per database


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
            case.call_and_validate(headers=headers)

        run()
