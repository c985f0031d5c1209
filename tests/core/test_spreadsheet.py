"""Every CSV we produce neutralises formulas through one helper (chapter.core.spreadsheet)."""
import csv
import io
import re

import pytest

from chapter.core.spreadsheet import csv_writer, safe_cell
from chapter.extensions import db
from chapter.treasury.reports import Report
from config import BASE_DIR
from tests import factories


@pytest.mark.parametrize("text, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tTAB", "'\tTAB"), ("\rCR", "'\rCR"),
    ("-12.50", "-12.50"), ("+1 555 0100", "+1 555 0100"), ("Lovelace", "Lovelace"), (None, ""), (42, "42"),
])
def test_safe_cell_neutralises_formulas_but_not_numbers_or_phones(text, expected):
    assert safe_cell(text) == expected


def test_the_writer_neutralises_every_cell():
    out = io.StringIO()
    csv_writer(out).writerows([["=1+1", "-5.00"], ["@x", "plain"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "-5.00"], ["'@x", "plain"]]


def test_treasury_reports_and_the_ledger_csv_are_neutralised():
    report = Report(title="t", columns=["Chapter", "Amount"], rows=[("=HYPERLINK(1)", 1250), ("Fine", -300)],
                    money_columns=(1,))
    assert list(csv.reader(io.StringIO(report.csv()))) == [["Chapter", "Amount"], ["'=HYPERLINK(1)", "12.50"],
                                                           ["Fine", "-3.00"]]


def test_the_magazine_list_is_neutralised(app, client):
    from tests.certifications.test_views import _member, _staff_client

    _member(address_line1="=HYPERLINK(\"http://evil.example\")", city="Reading", postal_code="19601")
    db.session.commit()
    _staff_client(client)
    rows = list(csv.reader(io.StringIO(client.get("/staff/magazine.csv").get_data(as_text=True))))
    assert rows[1][3] == "'=HYPERLINK(\"http://evil.example\")"


def test_no_csv_is_written_without_the_helper():
    """The one helper: a new CSV writer elsewhere would skip the neutralising."""
    offenders = [str(path.relative_to(BASE_DIR)) for path in (BASE_DIR / "chapter").rglob("*.py")
                 if path.name != "spreadsheet.py" and re.search(r"csv\.(writer|DictWriter)\(", path.read_text())]
    assert offenders == []
