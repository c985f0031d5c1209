"""Password reset by an e-mailed, expiring, single-use link, through a real SMTP server."""
import re

from itsdangerous import URLSafeTimedSerializer

from chapter.extensions import db
from tests import factories
from tests.conftest import run_jobs, text_of


def _link_from(message) -> str:
    body = text_of(message)
    # Links are built on PUBLIC_BASE_URL, never on the request's Host header (the test client's is localhost).
    return re.search(r"http://127\.0\.0\.1:5000(/reset-password/\S+)", body).group(1)


def test_reset_link_is_mailed_works_once_and_lets_the_member_log_in(app, client, smtp_server):
    factories.user("ada@example.org", name="Ada Lovelace")
    db.session.commit()
    response = client.submit("/reset-password", {"email": "Ada@Example.org"})
    assert response.status_code == 302
    run_jobs()
    assert len(smtp_server) == 1
    assert smtp_server[0]["To"] == "ada@example.org"
    assert smtp_server[0]["Subject"] == "Reset your password"
    link = _link_from(smtp_server[0])

    response = client.submit(link, {"password": "analytical-engine-1843", "confirm": "analytical-engine-1843"})
    assert response.status_code == 302
    assert client.login("ada@example.org", "analytical-engine-1843").status_code == 302
    client.logout()

    again = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "This reset link has already been used" in again


def test_unknown_address_gets_the_same_answer_and_no_mail(app, client, smtp_server):
    response = client.submit("/reset-password", {"email": "nobody@example.org"}, follow_redirects=True)
    assert "If an account or a member record uses that address" in response.get_data(as_text=True)
    run_jobs()
    assert smtp_server == []


def test_expired_link_is_refused(app, client):
    user = factories.user("ada@example.org")
    db.session.commit()
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="password-reset")
    token = serializer.dumps({"user": user.id, "hash": user.password_hash[-16:]})
    app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] = -1
    page = client.get(f"/reset-password/{token}", follow_redirects=True).get_data(as_text=True)
    assert "This reset link has expired" in page


def test_forged_link_is_refused(app, client):
    page = client.get("/reset-password/not-a-real-token", follow_redirects=True).get_data(as_text=True)
    assert "This reset link is not valid" in page


def test_weak_new_password_is_refused_and_the_link_still_works(app, client, smtp_server):
    factories.user("ada@example.org")
    db.session.commit()
    client.submit("/reset-password", {"email": "ada@example.org"})
    run_jobs()
    link = _link_from(smtp_server[0])
    response = client.submit(link, {"password": "short", "confirm": "short"})
    assert response.status_code == 400 and "at least 10 characters" in response.get_data(as_text=True)
    assert client.get(link).status_code == 200


def test_in_development_mail_goes_to_the_outbox_folder(app, client, tmp_path):
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path)
    factories.user("ada@example.org")
    db.session.commit()
    client.submit("/reset-password", {"email": "ada@example.org"})
    run_jobs()
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1 and b"Reset your password" in files[0].read_bytes()
