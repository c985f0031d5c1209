"""Chapter health: the district page (30 chapters side by side, 50,000 members) as its district manager sees it.

The scale seed spreads chapters over 9 districts, so this group first makes one district of 30 chapters
holding every member: the 30 lowest-numbered chapters join chapter #1's district (the demo district
manager's) and every member's home chapter becomes one of them. It changes the bench database: run it alone
(`python -m bench health`; with `--chapters 30` no member has to move).

Figures: `health_district_page_p50_ms` (target 200: the page as people see it, the membership figures kept
per version of the data, chapter/health/cache.py), `health_district_page_cold_p50_ms` (the same with the kept
figures dropped before each request: every grouped query runs), `health_chapter_page_p50_ms` (the largest
chapter, as staff), `health_all_districts_p50_ms` (staff's page: every chapter), and
`health_district_figures_cold_p50_ms` (the district's membership figures computed, without the page).
"""
from __future__ import annotations

import sqlalchemy as sa

from bench.common import Bench, analyze, log, measure, median
from bench.roster import _time_page

TARGET_MS = 200
CHAPTERS = 30
MANAGER = "district@example.org"
STAFF = "staff@example.org"


def _one_big_district(bench: Bench) -> tuple[str, list[int], int]:
    """Put the 30 lowest-numbered chapters in chapter #1's district and every member in one of them."""
    from chapter.chapters.models import Chapter, District
    from chapter.extensions import db
    from chapter.members.models import Member

    with bench.app.app_context():
        chapters = db.session.execute(sa.select(Chapter.id, Chapter.district_id).order_by(Chapter.number)
                                      .limit(CHAPTERS)).all()
        ids = [cid for cid, _ in chapters]
        district_id = chapters[0].district_id
        db.session.execute(sa.update(Chapter).where(Chapter.id.in_(ids)).values(district_id=district_id))
        db.session.execute(sa.update(Chapter).where(Chapter.id.not_in(ids), Chapter.district_id == district_id)
                           .values(district_id=db.session.scalar(sa.select(District.id)
                                                                 .where(District.id != district_id).limit(1))))
        moved = 0
        for position, chapter_id in enumerate(ids):  # spread the others over the 30 by member id
            moved += db.session.execute(
                sa.update(Member).where(Member.home_chapter_id.not_in(ids), Member.id % CHAPTERS == position)
                .values(home_chapter_id=chapter_id)).rowcount
        members = db.session.scalar(sa.select(sa.func.count()).select_from(Member)
                                    .where(Member.home_chapter_id.in_(ids)))
        code = db.session.scalar(sa.select(District.code).where(District.id == district_id))
        db.session.commit()
        db.session.remove()
    analyze(bench)  # the planner's statistics after moving chapters and members
    log(f"health: district {code} has {len(ids)} chapters and {members:,} members ({moved:,} members moved)")
    return code, ids, members


def _largest_chapter(bench: Bench, ids: list[int]) -> tuple[int, int]:
    from chapter.chapters.models import Chapter
    from chapter.extensions import db
    from chapter.members.models import Member

    with bench.app.app_context():
        size = sa.func.count(Member.id).label("size")
        chapter_id, members = db.session.execute(
            sa.select(Member.home_chapter_id, size).where(Member.home_chapter_id.in_(ids))
            .group_by(Member.home_chapter_id).order_by(size.desc()).limit(1)).one()
        number = db.session.scalar(sa.select(Chapter.number).where(Chapter.id == chapter_id))
        db.session.remove()
    return number, members


def run(bench: Bench) -> None:
    code, ids, members = _one_big_district(bench)
    context = dict(district=code, district_chapters=len(ids), district_members=members)
    _time_page(bench, bench.client(MANAGER), "health_district_page", f"/health/districts/{code}", TARGET_MS, **context)
    _time_cold(bench, bench.client(MANAGER), "health_district_page_cold", f"/health/districts/{code}", **context)
    _time_page(bench, bench.client(MANAGER), "health_district_csv", f"/health/districts/{code}?format=csv&table=chapters",
               None, **context)
    number, size = _largest_chapter(bench, ids)
    _time_page(bench, bench.client(STAFF), "health_chapter_page", f"/health/chapters/{number}", None,
               chapter=number, chapter_members=size)
    _time_page(bench, bench.client(STAFF), "health_all_districts", "/health", None)
    _time_figures(bench, ids, **context)


def _time_cold(bench: Bench, client, name: str, url: str, **context) -> None:
    """The page with the kept figures dropped before each request: every grouped query runs."""
    from chapter.health import cache

    def request() -> None:
        cache.kept.clear()
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered HTTP {response.status_code}")

    timings = measure(request, bench.repeat, bench.warmup)
    bench.emit(f"{name}_p50_ms", median(timings), "ms", None, url=url, **context)


def _time_figures(bench: Bench, ids: list[int], **context) -> None:
    """The district's membership figures computed (the grouped queries and the running sums), without the page."""
    from chapter.core.models import today
    from chapter.extensions import db
    from chapter.health.figures import membership_figures, window

    with bench.app.app_context():
        timings = measure(lambda: membership_figures(ids, window(today())), bench.repeat, bench.warmup)
        db.session.remove()
    bench.emit("health_district_figures_cold_p50_ms", median(timings), "ms", None, **context)
