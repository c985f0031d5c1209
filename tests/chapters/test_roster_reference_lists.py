"""The roster's filter lists (membership types, certifications) are kept per process: a change made through the
app shows on the next page at once, a change made by another process within `REFERENCE_CACHE_SECONDS`, and the
roster asks the database for neither list while its copy stands."""
import re

import pytest
import sqlalchemy as sa

from chapter.certifications.models import CertificationType
from chapter.core import caching
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import MembershipType
from tests import factories

ROSTER = "/chapters/40/roster"


@pytest.fixture
def president(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    factories.member(home=home, first_name="Ada", last_name="Lovelace")
    officer = factories.officer(home, "president")
    db.session.commit()
    client.login(officer.email)
    return officer


def type_options(client) -> dict[str, str]:
    page = client.get(ROSTER).get_data(as_text=True)
    select = re.search(r'<select id="type".*?</select>', page, re.S).group(0)
    return dict(re.findall(r'<option value="([^"]+)" >([^<]+)</option>', select))


def certification_options(client) -> list[str]:
    page = client.get(ROSTER).get_data(as_text=True)
    select = re.search(r'<select id="certification".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="([^"]+)" >', select)


def test_the_lists_show_every_type_and_certification(president, client):
    types = type_options(client)
    assert types["professional"] == db.session.scalar(
        sa.select(MembershipType.name).where(MembershipType.code == "professional"))
    assert set(types) == set(db.session.scalars(sa.select(MembershipType.code)))  # staff-only types too
    assert certification_options(client) == list(db.session.scalars(
        sa.select(CertificationType.code).order_by(CertificationType.sort_order)))


def test_a_type_saved_by_staff_shows_on_the_next_roster_page(president, client):
    assert "Professional (renamed)" not in type_options(client).values()
    student = factories.membership_type("professional")
    fields = {name: getattr(student, name) for name in member_services.MEMBERSHIP_TYPE_FIELDS}
    member_services.save_membership_type(student, **{**fields, "name": "Professional (renamed)"})
    db.session.commit()
    assert type_options(client)["professional"] == "Professional (renamed)"


def test_a_bulk_update_through_the_orm_shows_at_once(president, client):
    first = certification_options(client)[0]
    db.session.execute(sa.update(CertificationType).where(CertificationType.code == first).values(code="ZZ1"))
    db.session.commit()
    assert "ZZ1" in certification_options(client) and first not in certification_options(client)


def test_another_process_s_change_shows_within_the_kept_seconds_and_the_lists_are_not_asked_for_meanwhile(
        president, client, app, monkeypatch):
    assert type_options(client)["professional"] != "Renamed elsewhere"
    # Another worker's change: plain SQL on its own connection, which this process's session never sees.
    with db.engine.begin() as other:
        other.execute(sa.text("UPDATE membership_types SET name = 'Renamed elsewhere' WHERE code = 'professional'"))
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.lstrip())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert type_options(client)["professional"] != "Renamed elsewhere"  # the copy still stands
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert any(s.startswith("SELECT members.id") for s in statements)  # the roster itself was read
    assert not [s for s in statements if s.startswith(("SELECT membership_types.id", "SELECT certification_types.id"))]
    later = caching.time.monotonic() + caching.REFERENCE_CACHE_SECONDS + 1
    monkeypatch.setattr(caching.time, "monotonic", lambda: later)
    assert type_options(client)["professional"] == "Renamed elsewhere"
