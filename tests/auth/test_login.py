"""Log-in, lock-out after repeated failures, log-out, and safe redirects."""
from datetime import timedelta

import sqlalchemy as sa

from chapter.auth.models import LoginThrottle
from chapter.core.models import utcnow
from chapter.extensions import db
from tests import factories


def test_member_logs_in_and_out(app, client):
    factories.member(email="ada@example.org", with_user=True, first_name="Ada")
    db.session.commit()
    response = client.login("ada@example.org")
    assert response.headers["Location"].endswith("/dashboard")
    assert "Welcome, Ada" in client.get("/dashboard").get_data(as_text=True)
    client.logout()
    assert client.get("/dashboard").status_code == 302


def test_wrong_password_says_so_without_telling_which_part(app, client):
    factories.user("ada@example.org")
    db.session.commit()
    for email in ("ada@example.org", "nobody@example.org"):
        response = client.submit("/login", {"email": email, "password": "wrong-password-1"})
        assert response.status_code == 400
        assert "Wrong e-mail address or password." in response.get_data(as_text=True)


def test_account_is_locked_after_five_failures_with_a_clear_message(app, client):
    user = factories.user("ada@example.org")
    db.session.commit()
    for _ in range(4):
        client.submit("/login", {"email": "ada@example.org", "password": "wrong-password-1"})
    response = client.submit("/login", {"email": "ada@example.org", "password": "wrong-password-1"})
    page = response.get_data(as_text=True)
    assert "Too many failed log-in attempts for this address from here. Try again in 15 minutes" in " ".join(page.split())
    assert '<a href="/reset-password">reset your password</a>' in page
    # Even the right password is refused while locked, from this client address.
    response = client.submit("/login", {"email": "ada@example.org", "password": factories.DEFAULT_PASSWORD})
    assert response.status_code == 400 and "Too many failed log-in attempts" in response.get_data(as_text=True)
    throttle = db.session.scalar(sa.select(LoginThrottle).where(LoginThrottle.email == "ada@example.org"))
    assert throttle.client_address == "127.0.0.1" and throttle.locked_until > utcnow() + timedelta(minutes=14)


def test_the_lock_lifts_when_its_time_is_over(app, client):
    factories.user("ada@example.org")
    db.session.add(LoginThrottle(email="ada@example.org", client_address="127.0.0.1", failures=0,
                                 locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.login("ada@example.org").status_code == 302


def test_too_many_attempts_from_one_address_are_rate_limited(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    responses = [client.submit("/login", {"email": f"x{i}@example.org", "password": "whatever-123"}) for i in range(4)]
    assert [r.status_code for r in responses[:3]] == [400, 400, 400]
    assert responses[3].status_code == 429
    assert "Too many requests" in responses[3].get_data(as_text=True)


def test_next_parameter_only_redirects_within_the_site(app, client):
    factories.user("ada@example.org")
    db.session.commit()
    token = client.csrf_token("/login")
    response = client.client.post("/login?next=https://evil.example.com/", data={
        "email": "ada@example.org", "password": factories.DEFAULT_PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/dashboard")


def test_pages_for_logged_in_users_send_the_anonymous_to_log_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_next_with_cr_lf_or_a_backslash_goes_to_the_dashboard_not_into_a_header(app, client):
    factories.user("ada@example.org")
    db.session.commit()
    for target in ("/dashboard\r\nSet-Cookie: evil=1", "/\\evil.example.com", "/%0d%0aX: y"):
        token = client.csrf_token("/login")
        response = client.client.post("/login", query_string={"next": target}, data={
            "email": "ada@example.org", "password": factories.DEFAULT_PASSWORD, "csrf_token": token})
        assert response.status_code == 302, target
        assert "evil" not in response.headers["Location"] and "evil=1" not in str(response.headers)
        client.logout()


def test_the_wrong_password_answer_links_to_the_reset_page(app, client):
    response = client.submit("/login", {"email": "nobody@example.org", "password": "wrong-password-1"})
    assert '<a href="/reset-password">Reset your password</a>' in response.get_data(as_text=True)
