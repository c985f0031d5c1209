"""Fixtures shared by the members feature's tests."""
import pytest

from chapter.extensions import db
from tests import factories


@pytest.fixture
def staff_client(app, client):
    """The test client, logged in as a staff member."""
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    return client
