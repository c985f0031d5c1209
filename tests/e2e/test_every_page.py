"""Every main page of every role, in a real browser: nothing scrolls sideways on a 390 px phone, axe-core
finds no serious or critical accessibility violation (at desktop width), and a screenshot of each page at both widths lands
in test-artifacts/ (CI keeps the folder as an artifact of the run).

The main pages are those the role's own menu links to, plus the pages one step further that the issue
names (the roster, the officers page, a member's record, the exams, the staff exams, reports...).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from chapter.seed import demo
from chapter.extensions import db
from chapter.members.models import Member

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
FAILING_IMPACTS = {"serious", "critical"}

# Pages one step past the menu, per role (the menu's own links are read from the page).
EXTRA_PAGES = {
    "visitor": ["/", "/chapters", "/chapters/1", "/verify", "/login", "/register", "/prices"],
    "member": ["/dashboard", "/exams", "/transcript", "/my/payments", "/profile", "/home-chapter",
               "/membership/renew", "/membership/change-type", "/membership/auto-renew", "/chapters/1"],
    "president": ["/rosters", "/chapters/1/roster", "/chapters/1/officers", "/chapters/1/transfers",
                  "/chapters/1/audit", "/chapters/1/import", "{member_record}", "/chapters/1/events",
                  "/chapters/1/events/new", "{event}", "{event_edit}"],
    "treasurer": ["/treasury/", "/treasury/chapters/1", "/treasury/chapters/1/reports/revenue",
                  "/treasury/chapters/1/reports/members", "/my/payments"],
    "district": ["/dashboard", "/rosters", "/chapters/1/roster", "{member_record}"],
    "staff": ["/dashboard", "/treasury/", "/treasury/payouts", "/treasury/reports/revenue", "/treasury/reports/chapters",
              "/treasury/reports/refunds", "/treasury/reports/members", "/staff/exams", "/staff/results",
              "/admin/districts", "/admin/chapters", "/admin/transfers", "/admin/membership-types", "/admin/members",
              "/admin/payments", "/chapters/1/roster", "/chapters/1/officers", "{member_record}", "{admin_member}",
              "{payout}", "/admin/chapters/1/edit", "/chapters/1/audit"],
}
LOGINS = {"member": "member@example.org", "president": "president@example.org", "treasurer": "treasurer@example.org",
          "district": "district@example.org", "staff": "staff@example.org"}


# The innermost elements that reach past the right edge of the phone: what to fix.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391 && ![...e.children].some(c => c.getBoundingClientRect().right > 391))
  .filter(e => { for (let a = e.parentElement; a; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX) && a.getBoundingClientRect().right <= 391) return false; }
    return true; })
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined ? '.' + e.className.split(' ').join('.') : ''))"""


def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def log_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard*")


def menu_links(page) -> list[str]:
    """The paths the main menu links to (dropdown items included), in order."""
    hrefs = page.eval_on_selector_all('nav[aria-label="Main"] a[href^="/"]', "links => links.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if not h.startswith("/static/")]


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def main_pages(role: str, menu: list[str]) -> list[str]:
    member = db.session.scalar(sa.select(Member).where(Member.email.like("%.%@example.org")).join(Member.home_chapter)
                               .where(sa.text("chapters.number = 1")).order_by(Member.id))
    from chapter.treasury.models import StripePayout

    from chapter.chapters.models import Chapter
    from chapter.events.models import Event, EventKind

    payout = db.session.scalar(sa.select(StripePayout.id))
    course = db.session.scalar(sa.select(Event.id).join(Chapter).where(Chapter.number == 1,
                                                                      Event.kind == EventKind.REVIEW_COURSE))
    fill = {"member_record": f"/chapters/1/members/{member.member_number}",
            "admin_member": f"/admin/members/{member.member_number}", "payout": f"/treasury/payouts/{payout}",
            "event": f"/events/{course}", "event_edit": f"/events/{course}/edit"}
    pages = []
    for path in menu + [p.format(**fill) for p in EXTRA_PAGES[role]]:
        if path not in pages and path != "/logout":
            pages.append(path)
    return pages


def check_pages(browser, base_url: str, role: str) -> list[str]:
    """Open every main page of `role` at phone and desktop width; the problems found, as sentences."""
    problems: list[str] = []
    axe = _axe()
    contexts = {name: browser.new_context(viewport=size) for name, size in (("phone", PHONE), ("desktop", DESKTOP))}
    try:
        pages = {name: context.new_page() for name, context in contexts.items()}
        if role in LOGINS:
            for page in pages.values():
                log_in(page, base_url, LOGINS[role])
        else:
            pages["desktop"].goto(f"{base_url}/")
        paths = main_pages(role, menu_links(pages["desktop"]))
        for path in paths:
            for name, page in pages.items():
                response = page.goto(f"{base_url}{path}")
                if response is None or response.status >= 400:
                    problems.append(f"{role} {path}: answered {response.status if response else 'nothing'}")
                    continue
                shot = ARTIFACTS / name / f"{role}-{slug(path)}.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                if name == "phone":
                    width = page.evaluate("document.documentElement.scrollWidth")
                    if width > PHONE["width"]:
                        problems.append(f"{role} {path}: scrolls sideways on a phone ({width}px wide: "
                                        f"{', '.join(page.evaluate(WIDEST))})")
                if name != "desktop":
                    continue  # axe once per page (the phone layout is checked for width above)
                results = axe.run(page)
                for violation in results.response["violations"]:
                    if violation["impact"] in FAILING_IMPACTS:
                        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
                        problems.append(f"{role} {path} ({name}): axe {violation['impact']} {violation['id']}: "
                                        f"{violation['help']} [{targets}]")
    finally:
        for context in contexts.values():
            context.close()
    return problems


@pytest.mark.timeout(900)  # about 20 pages, each at two widths with axe: a loaded CI machine needs the room
@pytest.mark.parametrize("role", ["visitor", "member", "president", "treasurer", "district", "staff"])
def test_every_main_page_fits_a_phone_and_passes_axe(live_server, browser, role):
    demo.seed_demo(members=60, chapters=9)
    db.session.commit()
    problems = check_pages(browser, live_server, role)
    assert not problems, "\n".join(problems)


def test_the_pay_page_fits_a_phone_passes_axe_and_can_be_cancelled(live_server, browser, stripe_peer):
    from tests.e2e.test_payments import log_in as log_in_member, open_renewal_payment, renewing_member

    renewing_member()
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        log_in_member(page, live_server, "ada@example.org")
        open_renewal_payment(page)
        expect(page.get_by_role("button", name="Pay $210.00")).to_be_visible()
        ARTIFACTS.joinpath("phone").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "phone" / "member-pay.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        serious = [v["id"] for v in _axe().run(page).response["violations"] if v["impact"] in FAILING_IMPACTS]
        assert not serious, serious
        page.get_by_role("link", name="Cancel").click()
        expect(page.get_by_role("heading", name="Welcome, Ada")).to_be_visible()
    finally:
        context.close()
