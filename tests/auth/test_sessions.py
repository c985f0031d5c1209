"""Sessions can be revoked (a per-user session version checked on every request), the CSRF token rotates
at log-in, the lock-out cannot lock an owner out from elsewhere, and ProxyFix is off unless configured."""
import re

import pytest
import sqlalchemy as sa

from chapter import create_app
from chapter.auth.models import LoginThrottle
from chapter.extensions import db
from config import TestConfig
from tests import factories
from tests.conftest import text_of
from tests.conftest import Browserish


NEW_PASSWORD = "lantern-orchard-5512"


def _two_sessions(app):
    factories.member(email="ada@example.org", with_user=True, first_name="Ada")
    db.session.commit()
    laptop, phone = Browserish(app.test_client()), Browserish(app.test_client())
    laptop.login("ada@example.org")
    phone.login("ada@example.org")
    assert laptop.get("/dashboard").status_code == 200 and phone.get("/dashboard").status_code == 200
    return laptop, phone


def _logged_out(browser) -> bool:
    response = browser.get("/dashboard")
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_log_out_everywhere_ends_every_session(app):
    laptop, phone = _two_sessions(app)
    response = laptop.submit("/account/sessions/end", {}, form_url="/account/security")
    assert response.status_code == 302
    assert _logged_out(phone) and _logged_out(laptop)


def test_logging_out_ends_the_other_sessions_too(app):
    laptop, phone = _two_sessions(app)
    laptop.logout()
    assert _logged_out(phone)


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app):
    laptop, phone = _two_sessions(app)
    response = laptop.submit("/account/security", {"current_password": factories.DEFAULT_PASSWORD,
                                                   "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _logged_out(phone)
    assert laptop.get("/dashboard").status_code == 200
    wrong = laptop.submit("/account/security", {"current_password": "not-my-password", "password": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and "current password is not right" in wrong.get_data(as_text=True)


def test_a_password_reset_ends_every_session(app, smtp_server):
    laptop, phone = _two_sessions(app)
    anonymous = Browserish(app.test_client())
    anonymous.submit("/reset-password", {"email": "ada@example.org"})
    link = re.search(r"http://127\.0\.0\.1:5000(/reset-password/\S+)", text_of(smtp_server[0])).group(1)
    assert anonymous.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert _logged_out(laptop) and _logged_out(phone)


def test_a_remember_me_or_stolen_cookie_of_an_old_session_version_is_refused(app):
    laptop, _ = _two_sessions(app)
    with laptop.client.session_transaction() as stolen:
        old = dict(stolen)
    laptop.submit("/account/sessions/end", {}, form_url="/account/security")
    replay = Browserish(app.test_client())
    with replay.client.session_transaction() as session:
        session.update(old)
    assert _logged_out(replay)


def test_the_csrf_token_rotates_at_log_in(app, client):
    factories.user("ada@example.org")
    db.session.commit()
    before = client.csrf_token("/login")
    client.login("ada@example.org")
    after = client.csrf_token("/chapters")
    assert before != after
    # The token from before the log-in no longer works.
    response = client.client.post("/logout", data={"csrf_token": before})
    assert response.status_code == 400
    assert client.get("/dashboard").status_code != 302


def _fail(browser, email, address):
    return browser.client.post("/login", data={"email": email, "password": "wrong-password-1",
                                               "csrf_token": browser.csrf_token("/login")},
                               environ_base={"REMOTE_ADDR": address})


def test_failures_from_one_address_do_not_lock_the_owner_out_from_theirs(app, client):
    factories.user("ada@example.org")
    db.session.commit()
    attacker = Browserish(app.test_client())
    for _ in range(5):
        last = _fail(attacker, "ada@example.org", "203.0.113.9")
    assert "Too many failed log-in attempts" in last.get_data(as_text=True)
    # Ada, from her own address, logs in.
    response = client.client.post("/login", data={"email": "ada@example.org", "password": factories.DEFAULT_PASSWORD,
                                                   "csrf_token": client.csrf_token("/login")},
                                  environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 302


def test_a_locked_unknown_address_answers_exactly_like_a_locked_known_one(app):
    factories.user("ada@example.org")
    db.session.commit()
    pages = {}
    for email in ("ada@example.org", "nobody@example.org"):
        browser = Browserish(app.test_client())
        for _ in range(5):
            response = _fail(browser, email, "203.0.113.9")
        pages[email] = re.sub(r'value="[^"]+"', "", response.get_data(as_text=True)).replace(email, "EMAIL")
    assert pages["ada@example.org"] == pages["nobody@example.org"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 2


@pytest.fixture
def proxied_app(app, database_url):
    """The app behind one reverse proxy (PROXY_COUNT=1), on the same test database."""
    from chapter.jobs import queue

    proxied = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, PROXY_COUNT=1,
                         JOBS_URL=app.config["JOBS_URL"])
    try:
        with proxied.app_context():
            yield proxied
            db.session.remove()
    finally:
        queue.bind(app)  # create_app bound the job queue to the second app: give it back


def test_behind_the_configured_proxy_the_client_address_comes_from_x_forwarded_for(app, proxied_app):
    with proxied_app.app_context():
        factories.user("ada@example.org")
        db.session.commit()
        browser = Browserish(proxied_app.test_client())
        token = browser.csrf_token("/login")
        browser.client.post("/login", data={"email": "ada@example.org", "password": "wrong-password-1", "csrf_token": token},
                            headers={"X-Forwarded-For": "192.0.2.44"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
        assert db.session.scalar(sa.select(LoginThrottle.client_address)) == "192.0.2.44"
        db.session.execute(sa.delete(LoginThrottle))
        db.session.commit()
    # Without a configured proxy, the header is the client's own say-so and is ignored.
    browser = Browserish(app.test_client())
    token = browser.csrf_token("/login")
    browser.client.post("/login", data={"email": "ada@example.org", "password": "wrong-password-1", "csrf_token": token},
                        headers={"X-Forwarded-For": "192.0.2.44"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert db.session.scalar(sa.select(LoginThrottle.client_address)) == "10.0.0.2"


def test_rate_limits_count_per_forwarded_client_behind_the_proxy(proxied_app):
    proxied_app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    browser = Browserish(proxied_app.test_client())

    def attempt(address):
        return browser.client.post("/login", data={"email": "x@example.org", "password": "whatever-123",
                                                   "csrf_token": browser.csrf_token("/login")},
                                   headers={"X-Forwarded-For": address}).status_code

    assert [attempt("192.0.2.1"), attempt("192.0.2.1"), attempt("192.0.2.1")][-1] == 429
    assert attempt("192.0.2.2") != 429  # another client behind the same proxy is not limited
