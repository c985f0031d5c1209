"""Roster import: upload, preview, confirm; every row or none; what spreadsheets write; the command line."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.chapters import imports
from chapter.chapters.models import ChapterTransfer, RosterImport, RosterImportStatus
from chapter.core.audit import AuditEntry
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member, MembershipTerm, TermSource
from chapter.members.services import add_months
from tests import factories

GOOD = (
    "First name,Last name,E-mail,Employer,Membership type,Member until\n"
    "Ada,Lovelace,ada@example.org,Babbage Engines,Professional,{until}\n"
    "Grace,Hopper,grace@example.org,US Navy,,\n"
)


@pytest.fixture
def home(app):
    chapter = factories.chapter(40, name="Schuylkill Valley")
    factories.reference_data()
    db.session.commit()
    return chapter


@pytest.fixture
def vp(home, client):
    user = factories.officer(home, "vp_membership", holder=factories.user("vp@example.org", name="Val VP"))
    db.session.commit()
    client.login(user.email)
    return user


def upload(client, content: bytes, filename: str = "members.csv"):
    return client.submit("/chapters/40/import", {"file": (io.BytesIO(content), filename)},
                         form_url="/chapters/40/import", content_type="multipart/form-data")


def member_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Member.id)))


def good_file() -> bytes:
    return GOOD.format(until=(today() + timedelta(days=200)).isoformat()).encode()


# --- Through the pages ---------------------------------------------------------------------

def test_upload_shows_a_preview_and_writes_nothing_until_confirmed(vp, client):
    response = upload(client, good_file())
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="import-new">2<' in preview and 'data-testid="import-invalid">0<' in preview
    assert "Import 2 members" in preview
    assert member_count() == 0
    stored = db.session.scalar(sa.select(RosterImport))
    assert stored.content == good_file() and stored.status is RosterImportStatus.PREVIEWED

    done = client.submit(response.headers["Location"], {}, form_url=response.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"].endswith("/chapters/40/roster")
    assert "Imported: 2 new members, 0 updated, 0 unchanged." in client.get("/chapters/40/roster").get_data(as_text=True)
    ada = db.session.scalar(sa.select(Member).where(Member.email == "ada@example.org"))
    assert ada.home_chapter.number == 40 and ada.employer == "Babbage Engines"
    assert ada.paid_through == today() + timedelta(days=200) and ada.current_type.code == "professional"
    assert ada.status_on(today()).value == "active"
    term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == ada.id))
    assert term.source is TermSource.IMPORT and term.granted_by_id == vp.id
    grace = db.session.scalar(sa.select(Member).where(Member.email == "grace@example.org"))
    assert grace.paid_through is None and grace.member_number != ada.member_number
    moves = db.session.scalars(sa.select(ChapterTransfer).where(ChapterTransfer.member_id == grace.id)).all()
    assert [(m.to_chapter_id, m.actor_id, m.reason) for m in moves] == [(ada.home_chapter_id, vp.id, "Imported from members.csv")]
    db.session.refresh(stored)
    assert stored.status is RosterImportStatus.COMPLETED and stored.content is None
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["member.created", "member.created", "roster.imported"]


def test_bad_rows_are_listed_by_line_and_reason_and_nothing_can_be_written(vp, client):
    content = (
        "First name;Last name;E-mail;Country;Member until;Membership type\n"
        "Ada;Lovelace;ada@example.org;GB;;\n"
        ";Hopper;grace@example.org;US;;\n"
        "Alan;Turing;not-an-address;USA;;\n"
        "Edsger;Dijkstra;ewd@example.org;NL;31/31/2026;Professional\n"
        "Barbara;Liskov;barbara@example.org;US;2027-01-01;Platinum\n"
        "Ken;Thompson;ken@example.org;US;2027-01-01;\n"
    ).encode()
    preview_url = upload(client, content).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert 'data-testid="import-new">1<' in page and 'data-testid="import-invalid">5<' in page
    assert "<td>3</td><td>Hopper</td><td>First name is missing.</td>" in page
    assert "“not-an-address” is not an e-mail address." in page and "Country “USA” is not a 2-letter code" in page
    assert "Member until: “31/31/2026” is not a date; write it as 2026-03-31." in page
    assert "Membership type “Platinum” is unknown" in page
    assert "Give the membership type with the “Member until” date." in page
    assert "Import 1 member" not in page  # no confirm button while any row is invalid
    refused = client.submit(preview_url, {}, form_url=preview_url)
    assert refused.status_code == 302 and refused.headers["Location"].endswith(preview_url)
    assert "5 rows cannot be imported" in client.get(preview_url).get_data(as_text=True)
    assert member_count() == 0


def test_a_duplicate_e_mail_inside_the_file_is_refused(vp, client):
    content = b"First name,Last name,Email\nAda,Lovelace,ada@example.org\nAugusta,King,ADA@example.org\n"
    page = client.get(upload(client, content).headers["Location"]).get_data(as_text=True)
    assert "<td>3</td><td>Augusta King</td><td>The e-mail address ada@example.org is also on line 2.</td>" in page
    assert member_count() == 0


def test_a_latin_1_file_is_read(vp, client):
    content = "Prénom;Nom;Courriel;Ville\nChloé;Müller;chloe@example.org;Zürich\n".encode("latin-1")
    preview_url = upload(client, content).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Windows-1252 (Latin-1)" in page and "semicolons" in page
    client.submit(preview_url, {}, form_url=preview_url)
    chloe = db.session.scalar(sa.select(Member))
    assert (chloe.first_name, chloe.last_name, chloe.city) == ("Chloé", "Müller", "Zürich")


def test_utf8_with_a_byte_order_mark_is_read(vp, client):
    content = "\ufeffFirst name,Last name,E-mail\r\nZoë,Okafor,zoe@example.org\r\n".encode("utf-8")
    preview_url = upload(client, content).headers["Location"]
    assert "UTF-8 (with BOM)" in client.get(preview_url).get_data(as_text=True)
    client.submit(preview_url, {}, form_url=preview_url)
    assert db.session.scalar(sa.select(Member.first_name)) == "Zoë"


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (b"\r\n\r\n", "The file is empty."),
    (b"First name,Last name\n", "The file has column headings but no members."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV file."),
    (b"PK\x03\x04\x14\x00\x06\x00", "This is not a CSV file."),
    (b"Name,Email\nAda Lovelace,ada@example.org\n", "The file has no First name and no Last name column."),
])
def test_files_that_cannot_be_imported_get_a_clear_message_and_are_not_kept(vp, client, content, message):
    response = upload(client, content, "roster.xlsx")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(RosterImport.id))) == 0
    assert member_count() == 0


def test_a_file_over_the_size_limit_is_refused_with_a_message(vp, client, monkeypatch):
    monkeypatch.setattr(imports, "MAX_IMPORT_BYTES", 1024)
    response = upload(client, b"First name,Last name\n" + b"Ada,Lovelace\n" * 20000)
    assert response.status_code == 413
    assert "The file is larger than" in response.get_data(as_text=True)


def test_rows_matching_members_of_the_chapter_update_their_contact_details(vp, home, client):
    ada = factories.member(home=home, first_name="Ada", last_name="Lovelace", email="ada@example.org", city="London")
    alan = factories.member(home=home, first_name="Alan", last_name="Turing", email="alan@example.org")
    db.session.commit()
    content = ("Member number,First name,Last name,E-mail,City\n"
               f",Ada,Lovelace,ADA@example.org,Marylebone\n"
               f"{alan.member_number},Alan,Turing,alan.turing@example.org,\n"
               f",Ada,Byron,ada.byron@example.org,\n").encode()
    preview_url = upload(client, content).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert 'data-testid="import-matched">2<' in page and 'data-testid="import-new">1<' in page
    client.submit(preview_url, {}, form_url=preview_url)
    db.session.refresh(ada)
    db.session.refresh(alan)
    assert ada.city == "Marylebone" and alan.email == "alan.turing@example.org" and alan.city is None
    # The new e-mail is searchable at once (the bulk update rewrote the search text too).
    assert "alan.turing@example.org" in alan.search_text
    roster = client.get("/chapters/{}/roster?q=alan.turing@".format(home.number)).get_data(as_text=True)
    assert "Turing, Alan" in roster
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.member_id == alan.id,
                                                          AuditEntry.action == "member.updated"))
    assert entry.before == {"email": "alan@example.org"} and entry.after == {"email": "alan.turing@example.org"}
    assert entry.actor_id == vp.id
    assert member_count() == 3


def test_members_of_another_chapter_and_unknown_numbers_are_refused(vp, client):
    other = factories.chapter(31)
    stranger = factories.member(home=other, email="stranger@example.org")
    db.session.commit()
    content = (f"Member number,First name,Last name,E-mail\n"
               f",Sam,Stranger,stranger@example.org\n"
               f"{stranger.member_number},Sam,Stranger,\n"
               f"9999999,No,Body,\n").encode()
    page = client.get(upload(client, content).headers["Location"]).get_data(as_text=True)
    assert page.count("belongs to another chapter. Ask them to transfer") == 2
    assert "No member has the number 9999999." in page


def test_the_upload_is_read_again_at_confirmation(vp, client):
    """The preview lives in the database, not in the worker; what changed meanwhile is seen."""
    preview_url = upload(client, good_file()).headers["Location"]
    client.get(preview_url)
    factories.member(home=factories.chapter(31), email="grace@example.org")  # taken by another chapter meanwhile
    db.session.commit()
    response = client.submit(preview_url, {}, form_url=preview_url)
    assert response.headers["Location"].endswith(preview_url)
    assert "1 row cannot be imported" in client.get(preview_url).get_data(as_text=True)
    assert member_count() == 1  # only the member added meanwhile


def test_a_failure_while_writing_leaves_nothing_behind(vp, client, monkeypatch):
    preview_url = upload(client, good_file()).headers["Location"]

    def fail(*args, **kwargs):
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(imports.audit, "record_many", fail)
    response = client.submit(preview_url, {}, form_url=preview_url)
    assert response.headers["Location"].endswith(preview_url)
    assert "The roster changed while the file was being imported" in client.get(preview_url).get_data(as_text=True)
    assert member_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(ChapterTransfer.id))) == 0
    assert db.session.scalar(sa.select(RosterImport.status)) is RosterImportStatus.PREVIEWED


def test_an_upload_is_imported_once(vp, client):
    preview_url = upload(client, good_file()).headers["Location"]
    token = client.csrf_token(preview_url)
    client.client.post(preview_url, data={"csrf_token": token})
    again = client.client.post(preview_url, data={"csrf_token": token})
    assert again.status_code == 302
    assert member_count() == 2


def test_a_discarded_upload_is_deleted(vp, client):
    preview_url = upload(client, good_file()).headers["Location"]
    client.submit(preview_url + "/discard", {}, form_url=preview_url)
    stored = db.session.scalar(sa.select(RosterImport))
    assert stored.status is RosterImportStatus.DISCARDED and stored.content is None
    assert client.get(preview_url).status_code == 302


# --- The service -----------------------------------------------------------------------------

def test_terms_from_the_file(home):
    until = today() + timedelta(days=30)
    content = ("First name,Last name,Membership type,Member since,Member until\n"
               f"Ada,Lovelace,student,2019-09-01,{until:%m/%d/%Y}\n"
               f"Alan,Turing,Lifetime,,\n"
               f"Grace,Hopper,Professional,,\n"
               f"Edsger,Dijkstra,Professional,2030-01-01,{until}\n").encode()
    plan = imports.plan_import(home, content, may_grant=True)  # staff: a lifetime membership may be imported
    assert [row.line for row in plan.invalid] == [4, 5]
    assert "Give the “Member until” date of the Professional membership." in plan.invalid[0].errors
    assert "“Member since” is after “Member until”." in plan.invalid[1].errors
    ada, alan = plan.new
    assert ada.term[1:] == (today().replace(year=2019, month=9, day=1), until)
    assert alan.term[2].year == 9999


def test_an_officers_import_cannot_grant_what_only_staff_grant(home):
    one_term = add_months(today(), 12)
    content = ("First name,Last name,Membership type,Member until\n"
               "Alan,Turing,Lifetime,\n"
               "Hedy,Lamarr,Honorary,2027-01-01\n"
               f"Ada,Lovelace,Professional,{one_term + timedelta(days=1)}\n"
               f"Grace,Hopper,Professional,{one_term}\n"
               "Edsger,Dijkstra,Professional,9999-12-30\n").encode()
    plan = imports.plan_import(home, content)
    reasons = {row.line: " ".join(row.errors) for row in plan.invalid}
    assert sorted(reasons) == [2, 3, 4, 6]
    assert "Lifetime memberships are granted by national staff only" in reasons[2]
    assert "Honorary memberships are granted by national staff only" in reasons[3]
    assert f"more than one Professional term from today (at most {one_term.isoformat()})" in reasons[4]
    assert "9999-12-30 is not a plausible date" in reasons[6]
    assert [row.values["last_name"] for row in plan.new] == ["Hopper"]
    # Staff may import the free types and long terms, but not impossible dates.
    staff_plan = imports.plan_import(home, content, may_grant=True)
    assert [row.line for row in staff_plan.invalid] == [6]


def test_confirming_an_import_with_a_year_9999_end_date_answers_with_the_reason(app, client, home):
    officer = factories.officer(home, "president")
    db.session.commit()
    client.login(officer.email)
    response = client.submit(f"/chapters/{home.number}/import", {
        "file": (io.BytesIO(b"First name,Last name,Membership type,Member until\nAda,Lovelace,Professional,9999-12-30\n"),
                 "roster.csv")}, content_type="multipart/form-data")
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200 and "is not a plausible date" in preview.get_data(as_text=True)
    confirm = client.submit(response.headers["Location"], {}, form_url=response.headers["Location"])
    assert confirm.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0


def test_corporate_seats_cannot_be_imported(home):
    plan = imports.plan_import(home, b"First name,Last name,Type,Member until\nAda,Lovelace,corporate_seat,2030-01-01\n")
    assert "Corporate seats come from" in plan.invalid[0].errors[0]


def test_formula_guards_from_our_export_are_removed(home):
    plan = imports.plan_import(home, b"First name,Last name,Employer\nAda,Lovelace,'=Babbage\n")
    assert plan.new[0].values["employer"] == "=Babbage"


def test_two_columns_for_the_same_field_are_refused(home):
    with pytest.raises(imports.ImportRefused, match="Two columns hold the E-mail"):
        imports.plan_import(home, b"First name,Last name,Email,E-mail address\nA,B,a@example.org,b@example.org\n")


def test_an_exported_roster_imports_back_unchanged(home, app):
    from chapter.chapters import exports, services

    for index in range(3):
        factories.member(home=home, status="active", last_name=f"Member{index}", phone="+1 555 0100")
    db.session.commit()
    exported = "".join(exports.export_csv(home, services.RosterQuery(), today())).encode("utf-8")
    plan = imports.plan_import(home, exported)
    assert not plan.invalid and not plan.new
    assert len(plan.matched) == 3 and plan.changed == []


# --- The command line --------------------------------------------------------------------------

def test_the_command_imports_a_file(home, app, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(good_file())
    result = app.test_cli_runner().invoke(args=["roster", "import", str(path), "--chapter", "40"])
    assert result.exit_code == 0, result.output
    assert "new: 2" in result.output and "Imported into Schuylkill Valley #40: 2 new" in result.output
    assert member_count() == 2


def test_the_command_refuses_a_file_with_invalid_rows_and_exits_non_zero(home, app, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(b"First name,Last name,E-mail\nAda,Lovelace,ada@example\n,Hopper,\n")
    result = app.test_cli_runner().invoke(args=["roster", "import", str(path), "--chapter", "40"])
    assert result.exit_code == 1
    assert "line 2: “ada@example” is not an e-mail address." in result.output
    assert "line 3: First name is missing." in result.output
    assert "2 invalid row(s); nothing was imported." in result.output
    assert member_count() == 0


def test_the_command_refuses_an_unknown_chapter(home, app, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(good_file())
    result = app.test_cli_runner().invoke(args=["roster", "import", str(path), "--chapter", "999"])
    assert result.exit_code == 2 and "there is no chapter #999" in result.output


def test_the_export_command_writes_csv_and_logs_it(home, app, tmp_path):
    factories.member(home=home, status="active", last_name="Lovelace")
    factories.member(home=home, status="lapsed", last_name="Turing")
    db.session.commit()
    target = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(args=["roster", "export", "--chapter", "40", "--status", "active", "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "Lovelace" in text and "Turing" not in text
    assert db.session.scalar(sa.select(AuditEntry.summary).where(AuditEntry.action == "roster.exported")).startswith("Exported 1 member")

