"""Rosters (and the public directory and member dashboard): server time of the pages used most.

Server time is the wall time of an in-process test-client request (routing, permission checks, SQL,
template rendering; no network). The roster is the largest chapter's, seen by national staff.
`sql_execute_ms` is the time spent in the driver's cursor.execute for the request's statements: on
PostgreSQL (psycopg buffers the result) that is nearly all the SQL time; on SQLite rows are stepped
through later, in fetch, so it undercounts queries that return many rows.
"""
from __future__ import annotations

import time
from typing import NamedTuple
from urllib.parse import urlencode

import sqlalchemy as sa

from bench.common import Bench, explain, log, measure, median, percentile

TARGET_MS = 50
SEARCH = "smith"  # every seeded last name is about equally common; this one is in every chapter
STAFF = "staff@example.org"
MEMBER = "member@example.org"


def run(bench: Bench) -> None:
    chapter_number, chapter_size, search_rows = _largest_chapter(bench)
    log(f"roster: chapter #{chapter_number} has {chapter_size:,} members, "
        f"{search_rows} of them active and matching {SEARCH!r}")
    staff = bench.client(STAFF)
    base = f"/chapters/{chapter_number}/roster"
    cases = {
        "roster_page": base,
        "roster_search_filter": f"{base}?{urlencode({'q': SEARCH, 'status': 'active'})}",
        "roster_deep_page": f"{base}?{urlencode({'sort': 'paid_through', 'dir': 'desc', 'page': 5})}",
    }
    page_size = bench.app.config["ROSTER_PAGE_SIZE"]
    context = dict(chapter=chapter_number, chapter_members=chapter_size, page_size=page_size)
    for name, url in cases.items():
        _time_page(bench, staff, name, url, target=TARGET_MS, **context)

    _queries_per_page(bench, staff, cases)

    _time_page(bench, bench.client(), "directory", "/chapters", target=None)
    _time_page(bench, bench.client(MEMBER), "dashboard", "/dashboard", target=None)


def _largest_chapter(bench: Bench) -> tuple[int, int, int]:
    """The number and size of the chapter with most members, and how many rows the search finds."""
    from chapter.chapters.models import Chapter
    from chapter.core.models import today
    from chapter.extensions import db
    from chapter.members.models import Member, MembershipStatus

    with bench.app.app_context():
        size = sa.func.count(Member.id).label("size")
        chapter_id, chapter_size = db.session.execute(
            sa.select(Member.home_chapter_id, size).group_by(Member.home_chapter_id)
            .order_by(size.desc(), Member.home_chapter_id).limit(1)
        ).one()
        number = db.session.scalar(sa.select(Chapter.number).where(Chapter.id == chapter_id))
        search_rows = db.session.scalar(
            sa.select(sa.func.count(Member.id)).where(
                Member.home_chapter_id == chapter_id,
                sa.func.lower(Member.last_name) == SEARCH,
                Member.status_clause(MembershipStatus.ACTIVE, today()),
            )
        )
        db.session.remove()
    return number, chapter_size, search_rows


def _get(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered HTTP {response.status_code}")
    return response


class PageTiming(NamedTuple):
    p50_ms: float
    cpu_ms: float  # median CPU time of this process per request


def _time_page(bench: Bench, client, name: str, url: str, target: float | None, **context) -> PageTiming:
    """Emit <name>_p50_ms and <name>_p95_ms (and the SQL share); explain the SQL when over target."""
    sql_ms: list[float] = []
    cpu_ms: list[float] = []
    counts: list[int] = []

    def request() -> None:
        cpu = time.process_time()
        with bench.recorder.capture() as queries:
            _get(client, url)
        cpu_ms.append((time.process_time() - cpu) * 1000)
        sql_ms.append(sum(q.ms for q in queries))
        counts.append(len(queries))

    timings = measure(request, bench.repeat, bench.warmup)
    sql_ms, counts, cpu_ms = sql_ms[bench.warmup:], counts[bench.warmup:], cpu_ms[bench.warmup:]
    p50 = median(timings)
    # cpu_ms: this process's CPU time for the request (Python: routing, ORM, templates; not the
    # database server's): unlike wall time it hardly grows when other programs share the cores.
    bench.emit(f"{name}_p50_ms", p50, "ms", target, url=url, sql_execute_ms=round(median(sql_ms), 2),
               cpu_ms=round(median(cpu_ms), 2), queries=max(counts), **context)
    bench.emit(f"{name}_p95_ms", percentile(timings, 0.95), "ms", None, url=url, **context)
    if bench.explain or (target is not None and p50 > target):
        _explain_request(bench, client, name, url, p50, target)
    return PageTiming(p50, median(cpu_ms))


def _explain_request(bench: Bench, client, name: str, url: str, p50: float, target: float | None) -> None:
    """Print each SQL statement of one request, slowest first, with the database's plan."""
    with bench.recorder.capture() as queries:
        _get(client, url)
    why = f"p50 {p50:.1f} ms > target {target} ms" if target is not None and p50 > target else "--explain"
    log(f"{name} ({why}): {len(queries)} queries, {sum(q.ms for q in queries):.1f} ms of SQL, GET {url}")
    for query in sorted(queries, key=lambda q: q.ms, reverse=True):
        log(f"--- {query.ms:.2f} ms: {' '.join(query.statement.split())}")
        log(f"    parameters: {query.parameters}")
        if query.statement.lstrip().upper().startswith("SELECT"):
            try:
                log("plan:\n" + explain(bench, query))
            except Exception as error:  # a plan is a diagnostic; never let it stop the run
                log(f"    (no plan: {error})")


def _queries_per_page(bench: Bench, client, cases: dict[str, str]) -> None:
    """The number of SQL statements per roster request must not depend on the page size (no N+1)."""
    config = bench.app.config
    saved = config["ROSTER_PAGE_SIZE"]
    counts: dict[str, dict[int, int]] = {name: {} for name in cases}
    try:
        for size in (25, 200):
            config["ROSTER_PAGE_SIZE"] = size
            for name, url in cases.items():
                _get(client, url)  # warm: the first request may load what later ones find cached
                with bench.recorder.capture() as queries:
                    _get(client, url)
                counts[name][size] = len(queries)
    finally:
        config["ROSTER_PAGE_SIZE"] = saved
    for size in (25, 200):
        bench.emit("roster_queries_per_page", counts["roster_page"][size], "queries", None,
                   page_size=size, url=cases["roster_page"])
    growth = max(by_size[200] - by_size[25] for by_size in counts.values())
    bench.emit("roster_queries_growth_25_to_200", growth, "queries", 0,
               per_request={name: by_size for name, by_size in counts.items()})
