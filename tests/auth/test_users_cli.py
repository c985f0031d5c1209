"""`flask --app wsgi users ...`: the first staff account without a shell, the staff role, all audited."""
import re

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.core.audit import AuditEntry
from chapter.extensions import db
from tests import factories
from tests.conftest import text_of


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_create_staff_asks_for_the_password_twice_and_the_account_can_log_in(app, client):
    result = app.test_cli_runner().invoke(
        args=["users", "create-staff", "Chris.Admin@Example.org", "--name", "Chris Admin"],
        input="Sturdy-passphrase-9\nSturdy-passphrase-9\n")
    assert result.exit_code == 0, result.output
    assert "Created the staff account chris.admin@example.org" in result.output
    user = _user("chris.admin@example.org")
    assert user.is_staff and user.name == "Chris Admin"
    [entry] = _audit("user.staff_created")
    assert "chris.admin@example.org" in entry.summary and "command line" in entry.summary
    page = client.login("chris.admin@example.org", "Sturdy-passphrase-9")
    assert client.get("/admin/members").status_code == 200, page


def test_create_staff_refuses_a_weak_password_and_creates_nothing(app):
    result = app.test_cli_runner().invoke(args=["users", "create-staff", "weak@example.org"],
                                          input="password\npassword\n")
    assert result.exit_code == 1 and "Use at least" in result.output
    assert _user("weak@example.org") is None and _audit("user.staff_created") == []


def test_create_staff_refuses_an_address_that_has_an_account(app):
    factories.user("taken@example.org")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "create-staff", "taken@example.org", "--send-link"])
    assert result.exit_code == 1 and "grant-staff" in result.output
    assert not _user("taken@example.org").is_staff


def test_create_staff_with_send_link_mails_a_link_on_the_public_address_that_sets_the_password(app, client, smtp_server):
    app.config["PUBLIC_BASE_URL"] = "https://members.example.org"
    result = app.test_cli_runner().invoke(args=["users", "create-staff", "new.staff@example.org", "--send-link"])
    assert result.exit_code == 0, result.output
    assert "queued for new.staff@example.org" in result.output
    [message] = smtp_server
    assert message["To"] == "new.staff@example.org"
    link = re.search(r"https://members\.example\.org(/reset-password/\S+)", text_of(message))
    assert link, text_of(message)
    form_page = client.get(link.group(1))
    assert form_page.status_code == 200
    client.submit(link.group(1), {"password": "Brand-new-pass-77", "confirm": "Brand-new-pass-77"})
    assert _user("new.staff@example.org").check_password("Brand-new-pass-77")


def test_grant_and_revoke_staff_are_audited_and_the_last_staff_account_keeps_the_role(app):
    factories.user("first@example.org", is_staff=True)
    factories.user("second@example.org")
    db.session.commit()
    runner = app.test_cli_runner()
    granted = runner.invoke(args=["users", "grant-staff", "second@example.org", "--as", "first@example.org"])
    assert granted.exit_code == 0 and "second@example.org is national staff" in granted.output
    assert _user("second@example.org").is_staff
    [entry] = _audit("user.staff_granted")
    assert entry.actor_id == _user("first@example.org").id and entry.after["is_staff"] is True
    revoked = runner.invoke(args=["users", "revoke-staff", "first@example.org"])
    assert revoked.exit_code == 0 and not _user("first@example.org").is_staff
    assert len(_audit("user.staff_revoked")) == 1
    last = runner.invoke(args=["users", "revoke-staff", "second@example.org"])
    assert last.exit_code == 1 and "last active staff account" in last.output
    assert _user("second@example.org").is_staff and len(_audit("user.staff_revoked")) == 1


def test_grant_staff_to_an_unknown_address_fails_with_one_line(app):
    result = app.test_cli_runner().invoke(args=["users", "grant-staff", "nobody@example.org"])
    assert result.exit_code == 1 and "No account has the e-mail address nobody@example.org" in result.output
    assert "Traceback" not in result.output


def test_users_list_shows_staff_and_filters(app):
    factories.user("boss@example.org", name="Bea Boss", is_staff=True)
    factories.user("member_1@example.org", name="Mo Member")
    db.session.commit()
    runner = app.test_cli_runner()
    everyone = runner.invoke(args=["users", "list"])
    assert everyone.exit_code == 0 and "boss@example.org" in everyone.output and "member_1@example.org" in everyone.output
    assert "2 accounts" in everyone.output
    staff_only = runner.invoke(args=["users", "list", "--staff"])
    assert "boss@example.org" in staff_only.output and "member_1@example.org" not in staff_only.output
    searched = runner.invoke(args=["users", "list", "--search", "R_1"])
    assert "member_1@example.org" in searched.output and "boss@" not in searched.output
