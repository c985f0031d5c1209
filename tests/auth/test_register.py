"""Registration: a pending member, and bad input that comes back with the user's text kept."""
import pytest
import sqlalchemy as sa

from chapter.auth.models import User
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus
from tests import factories
from tests.conftest import text_of


GOOD = {"first_name": "Grace", "last_name": "Hopper", "email": "Grace.Hopper@Example.org",
        "password": "cobol-1959-navy", "confirm": "cobol-1959-navy"}


def test_registering_creates_a_pending_member_with_a_number_and_logs_in(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    db.session.commit()
    response = client.submit("/register", {**GOOD, "home_chapter_id": home.id})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    member = db.session.scalar(sa.select(Member).where(Member.email == "grace.hopper@example.org"))
    assert member.user.email == "grace.hopper@example.org"
    assert member.status_on(today()) is MembershipStatus.PENDING
    assert member.home_chapter_id == home.id
    assert member.member_number.isdigit() and len(member.member_number) == 7
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Pending" in dashboard and member.member_number in dashboard and "Schuylkill Valley" in dashboard


def test_member_numbers_are_unique_and_increasing(app, client):
    first = factories.member()
    second = factories.member()
    assert int(second.member_number) == int(first.member_number) + 1


def _form_errors(response):
    return response.get_data(as_text=True)


def test_a_taken_email_gets_a_mail_and_the_page_does_not_say_whose_it_is(app, client, smtp_server):
    factories.user("grace.hopper@example.org")
    db.session.commit()
    response = client.submit("/register", GOOD)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Check your mailbox" in page
    assert "already exists" not in page
    # "Log in" and "reset your password" are links.
    assert '<a href="/login">Log in</a>' in page and '<a href="/reset-password">reset your password</a>' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0
    assert [m["Subject"] for m in smtp_server] == ["You already have an account"]
    body = text_of(smtp_server[0])
    assert "http://127.0.0.1:5000/login" in body and "http://127.0.0.1:5000/reset-password" in body


def test_malformed_email_is_refused(app, client):
    response = client.submit("/register", {**GOOD, "email": "grace@"})
    assert response.status_code == 400
    assert "Enter a valid e-mail address." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_weak_password_is_refused_with_a_reason(app, client):
    # zxcvbn's estimate, not a block list: common words, sequences and the person's own name are weak.
    for password, reason in [("short1", "at least 10 characters"), ("password123", "too easy to guess"),
                             ("abcdefghij1", "too easy to guess"), ("Grace.Hopper1", "too easy to guess"),
                             ("qwertyuiop123", "too easy to guess")]:
        response = client.submit("/register", {**GOOD, "password": password, "confirm": password})
        assert response.status_code == 400
        assert reason in response.get_data(as_text=True), password
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_missing_field_and_mismatched_confirmation_are_reported(app, client):
    response = client.submit("/register", {**GOOD, "last_name": "", "confirm": "something-else-1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This field is required." in page
    assert "The passwords do not match." in page
    assert 'value="Grace.Hopper@Example.org"' in page
