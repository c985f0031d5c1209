"""The API (issue 15): a roster page of 100 through /api/v1 with an officer's token.

Server time is the wall time of an in-process test-client request (token check, the owner's roles, the
keyset query, JSON; no network), like bench/roster.py. Queries are counted with a SQLAlchemy
cursor-event listener (bench.common.SqlRecorder): keyset paging costs the same on every page, so the
count on page 1 equals the count on page 50.
"""
from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

from bench.common import Bench, log, measure, median, percentile

TARGET_MS = 30
PAGE = 100


def run(bench: Bench) -> None:
    number, size, token = _officer_token_of_largest_chapter(bench)
    client = bench.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/chapters/{number}/roster"
    context = dict(chapter=number, chapter_members=size, page_size=PAGE)

    def fetch(url: str) -> dict:
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")
        return response.get_json()

    # Walk to the deepest page of 100 (a few big chapters at 50,000 members hold ~2,000: page 20 or so).
    cursors, cursor = [None], None
    while True:
        cursor = fetch(f"{base}?limit={PAGE}" + (f"&cursor={cursor}" if cursor else ""))["next_cursor"]
        if cursor is None:
            break
        cursors.append(cursor)
    deep = len(cursors)
    # A sort whose key can be NULL (pending members have no end date): page 10 of the paid-through order,
    # latest first, behind a cursor whose key the database compares column by column.
    sorted_base = f"{base}?sort=paid_through&dir=desc&limit={PAGE}"
    cursor = None
    for _ in range(9):
        cursor = fetch(sorted_base + (f"&cursor={cursor}" if cursor else ""))["next_cursor"]
    for name, page_url, page_number in (("api_roster_page", f"{base}?limit={PAGE}", 1),
                                        ("api_roster_deep_page", f"{base}?limit={PAGE}&cursor={cursors[-1]}", deep),
                                        ("api_roster_paid_through_desc_page", f"{sorted_base}&cursor={cursor}", 10)):
        url = page_url
        counts: list[int] = []
        cpu_ms: list[float] = []
        sql_ms: list[float] = []

        def request() -> None:
            cpu = time.process_time()
            with bench.recorder.capture() as queries:
                fetch(url)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            sql_ms.append(sum(q.ms for q in queries))
            counts.append(len(queries))

        timings = measure(request, bench.repeat, bench.warmup)
        # cpu_ms: this process's CPU per request (it hardly grows when other programs share the cores);
        # sql_execute_ms: time in the driver's execute, which on a loaded machine is mostly waiting for a core.
        bench.emit(f"{name}_p50_ms", median(timings), "ms", TARGET_MS, page=page_number,
                   queries=max(counts[bench.warmup:]), cpu_ms=round(median(cpu_ms[bench.warmup:]), 2),
                   sql_execute_ms=round(median(sql_ms[bench.warmup:]), 2), **context)
        bench.emit(f"{name}_p95_ms", percentile(timings, 0.95), "ms", None, page=page_number, **context)

    # Page 1 and page 50 of the same chapter: pages small enough that a 50th exists.
    small = max(1, size // 50)
    counts_by_page, cursor = {}, None
    for page_number in range(1, 51):
        with bench.recorder.capture() as queries:
            body = fetch(f"{base}?limit={small}" + (f"&cursor={cursor}" if cursor else ""))
        counts_by_page[page_number] = len(queries)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    log(f"api: queries per page (limit {small}): page 1 {counts_by_page[1]}, page {max(counts_by_page)} "
        f"{counts_by_page[max(counts_by_page)]}")
    bench.emit("api_roster_queries_page_1", counts_by_page[1], "queries", None, page_size=small, chapter=number)
    bench.emit("api_roster_queries_page_50", counts_by_page.get(50), "queries", None, page_size=small, chapter=number,
               reached_page=max(counts_by_page))
    bench.emit("api_roster_queries_constant", len(set(list(counts_by_page.values())[1:])) == 1, "bool", None,
               pages=len(counts_by_page))
    # The same for a sort whose key can be NULL (paid-through date, latest first): 25 pages.
    sorted_counts, cursor = [], None
    for _ in range(25):
        with bench.recorder.capture() as queries:
            body = fetch(f"{base}?limit={small}&sort=paid_through&dir=desc" + (f"&cursor={cursor}" if cursor else ""))
        sorted_counts.append(len(queries))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    bench.emit("api_roster_paid_through_queries_constant", len(set(sorted_counts[1:])) == 1, "bool", None,
               pages=len(sorted_counts), queries=max(sorted_counts))


def _officer_token_of_largest_chapter(bench: Bench) -> tuple[int, int, str]:
    """The largest chapter's number and size, and a roster:read token of its president (made here)."""
    from chapter.api import tokens
    from chapter.chapters.models import Chapter, OfficerPosition, OfficerTerm
    from chapter.core.models import today
    from chapter.core.permissions import roles_of
    from chapter.extensions import db
    from chapter.members.models import Member

    with bench.app.app_context():
        size = sa.func.count(Member.id).label("size")
        chapter_id, chapter_size = db.session.execute(
            sa.select(Member.home_chapter_id, size).group_by(Member.home_chapter_id)
            .order_by(size.desc(), Member.home_chapter_id).limit(1)).one()
        chapter = db.session.get(Chapter, chapter_id)
        term = db.session.scalar(sa.select(OfficerTerm).join(OfficerPosition)
                                 .where(OfficerTerm.chapter_id == chapter_id, OfficerPosition.can_view_roster.is_(True))
                                 .order_by(OfficerPosition.sort_order).limit(1))
        _, plain = tokens.create_token(term.user, roles=roles_of(term.user), name="bench", scopes=["roster:read"],
                                       chapter_ids=[chapter_id], all_chapters=False,
                                       expires_on=today() + timedelta(days=1), today=today())
        db.session.commit()
        number = chapter.number
        db.session.remove()
    log(f"api: chapter #{number} has {chapter_size:,} members")
    return number, chapter_size, plain
