"""Existing members claim their account: imported, seeded or corporate members have a record and no password;
registration and the reset form send them a claim link; officers invite them; nothing is duplicated."""
import re

import pytest
import sqlalchemy as sa

from chapter.auth.models import AccountInvitation, User
from chapter.core.audit import AuditEntry
from chapter.extensions import db
from chapter.members.models import Member, MembershipTerm
from tests import factories
from tests.conftest import text_of


PUBLIC = "http://127.0.0.1:5000"  # TestConfig's PUBLIC_BASE_URL


def _body(message) -> str:
    return text_of(message)


def _claim_path(message) -> str:
    match = re.search(re.escape(PUBLIC) + r"(/claim/\S+)", _body(message))
    assert match, _body(message)
    return match.group(1)


def _imported_member(**fields):
    """A member as an import or the demo data leaves them: a record, terms, an e-mail address, no log-in."""
    home = factories.chapter(40, name="Schuylkill Valley")
    member = factories.member(home=home, status="active", first_name="Ada", last_name="Lovelace",
                              email="ada@example.org", **fields)
    db.session.commit()
    return member


def test_an_imported_member_who_registers_gets_a_claim_link_and_keeps_their_record_and_history(app, client, smtp_server):
    member = _imported_member()
    terms_before = [(t.starts_on, t.ends_on) for t in member.terms]
    response = client.submit("/register", {"first_name": "Ada", "last_name": "Lovelace", "email": "ADA@example.org",
                                           "password": "analytical-engine-1843", "confirm": "analytical-engine-1843"})
    assert response.status_code == 200 and "Check your mailbox" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0  # nothing made yet
    assert [m["To"] for m in smtp_server] == ["ada@example.org"]
    link = _claim_path(smtp_server[0])
    assert member.member_number in _body(smtp_server[0])

    page = client.get(link).get_data(as_text=True)
    assert "Set your password" in page and member.member_number in page
    response = client.submit(link, {"password": "analytical-engine-1843", "confirm": "analytical-engine-1843"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert member.member_number in dashboard and "badge-status-active" in dashboard

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 1  # no second member
    claimed = db.session.get(Member, member.id)
    assert claimed.user is not None and claimed.user.email == "ada@example.org"
    assert [(t.starts_on, t.ends_on) for t in db.session.scalars(
        sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id))] == terms_before
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account.claimed")).member_id == member.id
    # The link works once; the password logs in.
    client.logout()
    used = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "already been used" in used and '<a href="/login">Log in</a>, or ask for a new link' in used
    client.login("ada@example.org", "analytical-engine-1843")


def test_the_reset_form_sends_a_claim_link_to_a_member_without_a_password_and_says_the_same_for_everyone(
        app, client, smtp_server):
    _imported_member()
    factories.user("has-account@example.org")
    db.session.commit()
    answers = []
    for email in ("ada@example.org", "has-account@example.org", "nobody@example.org"):
        page = client.submit("/reset-password", {"email": email}, follow_redirects=True).get_data(as_text=True)
        answers.append(re.search(r'<div class="alert[^>]*>\s*(.*?)\s*<button', page, re.S).group(1))
    assert len(set(answers)) == 1, answers
    assert [(m["To"], m["Subject"]) for m in smtp_server] == [
        ("ada@example.org", "Set the password of your member account"), ("has-account@example.org", "Reset your password")]
    assert re.search(re.escape(PUBLIC) + r"/claim/", _body(smtp_server[0]))


def test_a_corporate_employee_whose_login_has_no_password_can_claim_it(app, client, smtp_server):
    member = _imported_member()
    login = User(email="ada@example.org", name="Ada Lovelace")
    login.set_unusable_password()
    member.user = login
    db.session.commit()
    assert not login.check_password("")  # an unusable password matches nothing
    client.submit("/reset-password", {"email": "ada@example.org"})
    client.submit(_claim_path(smtp_server[0]), {"password": "analytical-engine-1843", "confirm": "analytical-engine-1843"})
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1  # the same log-in, now usable
    assert db.session.get(User, login.id).check_password("analytical-engine-1843")


def test_links_in_mail_ignore_the_host_the_request_names(app, client, smtp_server):
    factories.user("ada@example.org")
    db.session.commit()
    evil = client.client.application.test_client()
    page = evil.get("/reset-password", base_url="http://evil.example")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    evil.post("/reset-password", data={"email": "ada@example.org", "csrf_token": token}, base_url="http://evil.example",
              headers={"X-Forwarded-Host": "evil.example"})
    body = _body(smtp_server[0])
    assert "evil.example" not in body and f"{PUBLIC}/reset-password/" in body


def _officer_world():
    home = factories.chapter(40, name="Schuylkill Valley")
    officer = factories.officer(home, "vp_membership", holder=factories.user("vp@example.org", name="Val VP"))
    without = [factories.member(home=home, first_name=f"Im{n}", last_name=f"Ported{n}", email=f"im{n}@example.org")
               for n in range(3)]
    with_login = factories.member(home=home, first_name="Has", last_name="Login", email="has@example.org",
                                  with_user=True)
    no_email = factories.member(home=home, first_name="No", last_name="Mail", email=None)
    no_email.email = None
    treasurer = factories.officer(home, "treasurer")
    db.session.commit()
    return home, officer, without, with_login, treasurer


def test_the_roster_shows_who_has_an_account_and_officers_invite_one_or_all_on_screen(app, client, smtp_server):
    home, officer, without, with_login, _ = _officer_world()
    client.login(officer.email)
    page = client.get("/chapters/40/roster").get_data(as_text=True)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r'data-testid="account">(.*?)</td>', page, re.S)]
    assert sorted(cells) == ["No", "No · Invite", "No · Invite", "No · Invite", "Yes"]  # "No": no e-mail address
    assert "Invite the 3 members on this page without an account" in page

    response = client.submit("/chapters/40/invitations", {"member": without[0].member_number, "back": "/chapters/40/roster"},
                             form_url="/chapters/40/roster")
    assert response.status_code == 302
    assert [m["To"] for m in smtp_server] == ["im0@example.org"]
    assert re.search(re.escape(PUBLIC) + r"/claim/", _body(smtp_server[0]))
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account.invited"))
    assert entry.actor_id == officer.id and entry.member_id == without[0].id and entry.chapter_id == home.id

    # All on screen: the one invited today is not invited again, the member with a log-in never.
    numbers = [m.member_number for m in without] + [with_login.member_number]
    response = client.client.post("/chapters/40/invitations", data={
        "member": numbers, "csrf_token": client.csrf_token("/chapters/40/roster")}, follow_redirects=True)
    flashed = response.get_data(as_text=True)
    assert "2 invitations sent; 1 already invited in the last 24 hours; 1 already has an account." in flashed
    assert sorted(m["To"] for m in smtp_server) == ["im0@example.org", "im1@example.org", "im2@example.org"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountInvitation)) == 3


def test_claim_invitations_are_for_members_managers_only_and_rate_limited(app, client, smtp_server):
    home, officer, without, _, treasurer = _officer_world()
    client.login(treasurer.email)
    assert client.submit("/chapters/40/invitations", {"member": without[0].member_number},
                         form_url="/chapters/40/roster").status_code == 403
    assert "Invite" not in client.get("/chapters/40/roster").get_data(as_text=True)
    client.logout()
    app.config["CLAIM_INVITE_RATE_LIMIT"] = "2 per hour"
    client.login(officer.email)
    codes = [client.submit("/chapters/40/invitations", {"member": m.member_number}, form_url="/chapters/40/roster").status_code
             for m in without]
    assert codes == [302, 302, 429]
    assert len(smtp_server) == 2


def test_appointing_a_member_without_a_login_as_officer_sends_the_claim_link(app, client, smtp_server):
    home = factories.chapter(40, name="Schuylkill Valley")
    president = factories.officer(home, "president")
    member = factories.member(home=home, first_name="Sec", last_name="Retary", email="sec@example.org")
    db.session.commit()
    client.login(president.email)
    position = factories.position("secretary")
    response = client.submit("/chapters/40/officers", {"email": "sec@example.org", "position_id": position.id,
                                                       "starts_on": "2026-01-01"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert member.user is not None and not member.user.has_usable_password
    assert [m["To"] for m in smtp_server] == ["sec@example.org"]
    client.logout()
    client.submit(_claim_path(smtp_server[0]), {"password": "minutes-of-the-board-7", "confirm": "minutes-of-the-board-7"})
    assert "Roster" in client.get("/dashboard").get_data(as_text=True)  # an officer now, with their own log-in
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "sec@example.org")) == 1


def test_a_transfer_request_to_a_member_without_a_login_sends_the_claim_link(app, client, smtp_server):
    here = factories.chapter(168, name="Central Penn")
    there = factories.chapter(40, name="Schuylkill Valley")
    vp = factories.officer(here, "vp_membership")
    member = factories.member(home=there, first_name="Ada", last_name="Lovelace", email="ada@example.org")
    db.session.commit()
    client.login(vp.email)
    response = client.submit("/chapters/168/transfers", {"member_number": member.member_number, "last_name": "Lovelace"})
    assert response.status_code == 302
    assert [m["To"] for m in smtp_server] == ["ada@example.org"]
    assert "Central Penn #168 asks you to make it your home chapter" in _body(smtp_server[0])
    client.logout()
    client.submit(_claim_path(smtp_server[0]), {"password": "analytical-engine-1843", "confirm": "analytical-engine-1843"})
    assert 'data-testid="transfer-request"' in client.get("/dashboard").get_data(as_text=True)
