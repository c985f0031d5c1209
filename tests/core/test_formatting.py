"""One format each for money, dates and chapters, the same on pages and in CSVs."""
from datetime import date

from chapter.core.formatting import format_amount, format_chapter, format_date, format_money
from chapter.core.models import FOREVER
from chapter.extensions import db
from chapter.treasury import reports
from tests import factories


def test_money_shows_the_currency_code_only_when_it_is_not_the_sites():
    assert format_money(21000, "USD") == "$210.00"
    assert format_money(21000, "usd") == "$210.00"
    assert format_money(-550) == "-$5.50"
    assert format_money(3500, "CAD") == "CAD 35.00"
    assert format_money(123456789, "EUR") == "EUR 1,234,567.89"
    assert format_amount(-123456) == "-1234.56" and format_amount(5) == "0.05"


def test_months_read_as_a_short_name_and_year():
    from chapter.core.formatting import format_month

    assert format_month("2026-12") == "Dec 2026" and format_month(date(2026, 1, 5)) == "Jan 2026"


def test_dates_read_day_month_year_and_a_lifetime_end_says_so():
    assert format_date(date(2026, 12, 1)) == "1 Dec 2026"
    assert format_date(FOREVER) == "Lifetime"
    assert format_date(None) == "—"


def test_a_chapter_is_its_name_and_number_on_pages_and_in_reports(app, client):
    chapter = factories.chapter(40, name="Schuylkill Valley")
    db.session.commit()
    assert format_chapter(chapter) == chapter.display_name == "Schuylkill Valley #40"
    assert format_chapter(name="Pittsburgh", number=31) == "Pittsburgh #31"
    assert format_chapter(name=None) == "National (no chapter)"
    assert "Schuylkill Valley #40" in client.get("/chapters/40").get_data(as_text=True)


def test_templates_use_the_same_filters(app):
    env = app.jinja_env
    assert env.filters["money"] is format_money and env.filters["date"] is format_date
    assert env.filters["chapter"] is format_chapter
    assert reports._money(21050) == "210.50"


def test_url_with_writes_the_links_url_for_would_whatever_the_query(app):
    """url_with builds the path once a request and the query itself: each link must equal url_for's."""
    from flask import url_for

    from chapter.core.templating import url_with

    queries = [
        {}, {"q": "Dana Okafor"}, {"q": "o'brien & sons / 50%", "page": "3"}, {"q": "Chloé+Zoë", "status": "grace"},
        {"q": "a=b?c#d", "sort": "email", "dir": "desc"}, {"_method": "x", "page": "2", "q": "!$()*,:;@~"},
        {"number": "41", "q": "x"},
    ]
    changes = [{}, {"page": 2}, {"page": None}, {"sort": "name", "dir": None, "page": None}, {"q": "new search"},
               {"status": "lapsed", "page": None}, {"q": ""}, {"number": 41}]
    for query in queries:
        with app.test_request_context("/chapters/40/roster", query_string=query):
            for change in changes:
                args = {k: v for k, v in query.items() if not k.startswith("_") and k != "number"}
                args.update({"number": 40, **change})
                expected = url_for("chapters.roster", **{k: v for k, v in args.items() if v is not None and v != ""})
                assert url_with(**change) == expected, (query, change)
