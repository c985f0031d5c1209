"""Each chapter has a fiscal year start (July by default); its money page shows a fiscal year."""
from datetime import date

from chapter.chapters import services
from chapter.chapters.fiscal import fiscal_year_named, fiscal_year_of
from chapter.core.models import today
from chapter.extensions import db
from chapter.treasury import services as treasury_services
from chapter.treasury.models import LedgerKind
from tests import factories


def test_a_july_fiscal_year_runs_from_1_july_to_30_june():
    assert fiscal_year_of(7, date(2026, 6, 30)) == fiscal_year_named(7, 2025)
    fy = fiscal_year_of(7, date(2026, 7, 1))
    assert (fy.starts_on, fy.ends_on, fy.label) == (date(2026, 7, 1), date(2027, 6, 30), "FY 2026-27")
    assert fy.previous().label == "FY 2025-26"
    calendar_year = fiscal_year_of(1, date(2026, 12, 31))
    assert (calendar_year.starts_on, calendar_year.ends_on, calendar_year.label) == (date(2026, 1, 1), date(2026, 12, 31), "FY 2026")
    leap = fiscal_year_of(3, date(2024, 2, 29))
    assert (leap.starts_on, leap.ends_on) == (date(2023, 3, 1), date(2024, 2, 29))


def test_chapters_start_in_july_and_staff_change_it(app):
    chapter = factories.chapter(40, name="Schuylkill Valley")
    assert chapter.fiscal_year_start_month == 7
    fields = {name: getattr(chapter, name) for name in services.CHAPTER_FIELDS}
    fields["fiscal_year_start_month"] = 1
    services.save_chapter(chapter, **fields)
    assert chapter.fiscal_year_start_month == 1


def test_the_treasurer_shows_the_chapters_fiscal_year_on_its_money_page(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    treasurer = factories.officer(home, "treasurer")
    treasury_services.add_entry(LedgerKind.CHAPTER_SHARE, amount_cents=3500, currency="USD", booked_on=date(2025, 7, 1),
                                chapter_id=home.id, description="Chapter share in July")
    treasury_services.add_entry(LedgerKind.CHAPTER_SHARE, amount_cents=1000, currency="USD", booked_on=date(2025, 6, 30),
                                chapter_id=home.id, description="Chapter share in June")
    db.session.commit()
    client.login(treasurer.email)
    page = client.get("/treasury/chapters/40?fy=2025").get_data(as_text=True)
    assert 'value="2025-07-01"' in page and 'value="2026-06-30"' in page
    assert "Chapter share in July" in page and "Chapter share in June" not in page
    this_year = fiscal_year_of(7, today())
    assert this_year.label in client.get("/treasury/chapters/40").get_data(as_text=True)
