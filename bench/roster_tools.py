"""Roster tools at scale: the filtered roster page, importing 50,000 members, exporting 50,000 rows.

- `roster_filters_p50_ms`: the largest seeded chapter's roster with a search, a type filter and a
  ready-made list (target 50 ms), and the number of queries at page sizes 25 and 200 (must not grow).
- `import_50k_seconds`: `flask roster import FILE --chapter N` of a 50,000-row CSV into an empty
  chapter, from reading the file to the commit (target 30 s); `import_50k_web_seconds`: the same file
  through the pages (upload and check, preview, confirm: the file is read three times).
- `export_50k_seconds`: POST /chapters/N/roster.csv of those 50,000 members, streamed to the end
  (target 5 s); `export_50k_peak_mb`: the Python memory peak while streaming it (tracemalloc).
- `roster_50k_chapter_search_p50_ms`: the roster page of that 50,000-member chapter with a search
  and a filter (no target: no real chapter is that big; it shows how the page scales).

The imported chapter and its members are deleted afterwards, so other groups see the seeded data.
Runs of the import and export are fewer than --repeat (each takes seconds): medians of 3 and 5.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from bench.common import Bench, log, median
from bench.roster import STAFF, _largest_chapter, _time_page

ROWS = 50_000
BENCH_CHAPTER = 99_990
IMPORT_TARGET_S = 30
EXPORT_TARGET_S = 5
PAGE_TARGET_MS = 50
FIRST = ["James", "Mary", "Priya", "Wei", "Ahmed", "Sofia", "Kwame", "Chloé", "José", "Zoë", "Olga", "Hiroshi"]
LAST = ["Smith", "Garcia", "Nguyen", "Müller", "O'Brien", "Okafor", "Tremblay", "Kowalski", "Patel", "Kim"]


def run(bench: Bench) -> None:
    _remove_bench_chapter(bench)  # left by an interrupted run, it would be the "largest chapter"
    _filtered_roster(bench)
    content = roster_csv(ROWS)
    log(f"roster_tools: a {ROWS:,}-row CSV of {len(content) / 1e6:.1f} MB")
    try:
        _time_import_command(bench, content)
        _time_import_pages(bench, content)
        _time_export(bench)
        chapter_url = f"/chapters/{BENCH_CHAPTER}/roster?{urlencode({'q': 'smith', 'status': 'active'})}"
        _time_page(bench, bench.client(STAFF), "roster_50k_chapter_search", chapter_url, target=None,
                   chapter=BENCH_CHAPTER, chapter_members=ROWS, page_size=bench.app.config["ROSTER_PAGE_SIZE"])
    finally:
        _remove_bench_chapter(bench)


def roster_csv(rows: int, day: date | None = None) -> bytes:
    """A spreadsheet-like CSV of `rows` new members, most with a type and an end date."""
    day = day or date.today()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["First name", "Last name", "E-mail", "Phone", "Employer", "City", "State / province",
                     "Postal code", "Country", "Membership type", "Member until"])
    for index in range(rows):
        has_term = index % 10 != 0
        writer.writerow([
            FIRST[index % len(FIRST)], LAST[(index // len(FIRST)) % len(LAST)], f"import.{index}@bench.example.org",
            f"+1 555 {index % 1000:03d} {index % 10000:04d}", f"Company {index % 500}", "Reading", "PA",
            f"{19600 + index % 100}", "US", "Professional" if has_term else "",
            (day + timedelta(days=index % 400 - 60)).isoformat() if has_term else "",
        ])
    return buffer.getvalue().encode("utf-8")


def _filtered_roster(bench: Bench) -> None:
    """The largest seeded chapter's roster with search, type filter and a ready-made list."""
    number, size, _rows = _largest_chapter(bench)
    staff = bench.client(STAFF)
    url = f"/chapters/{number}/roster?{urlencode({'q': 'smith', 'type': 'professional', 'view': 'expiring-90'})}"
    page_size = bench.app.config["ROSTER_PAGE_SIZE"]
    _time_page(bench, staff, "roster_filters", url, target=PAGE_TARGET_MS, chapter=number, chapter_members=size,
               page_size=page_size)
    counts = {}
    try:
        for size_each in (25, 200):
            bench.app.config["ROSTER_PAGE_SIZE"] = size_each
            staff.get(url)
            with bench.recorder.capture() as queries:
                staff.get(url)
            counts[size_each] = len(queries)
    finally:
        bench.app.config["ROSTER_PAGE_SIZE"] = page_size
    bench.emit("roster_filters_queries_growth_25_to_200", counts[200] - counts[25], "queries", 0, per_size=counts)


def _bench_chapter(bench: Bench) -> None:
    """An empty chapter to import into (the one left by an interrupted run is removed first)."""
    from chapter.chapters.models import Chapter, District
    from chapter.extensions import db

    _remove_bench_chapter(bench)
    with bench.app.app_context():
        district_id = db.session.scalar(sa.select(District.id).order_by(District.id))
        db.session.add(Chapter(number=BENCH_CHAPTER, name="Bench Import", district_id=district_id, city="Reading"))
        db.session.commit()
        db.session.remove()


def _remove_bench_chapter(bench: Bench) -> None:
    """Delete the bench chapter with its members and everything recorded about them."""
    from chapter.chapters.models import Chapter, ChapterTransfer, RosterImport
    from chapter.core.audit import AuditEntry
    from chapter.extensions import db
    from chapter.members.models import Member, MembershipTerm

    with bench.app.app_context():
        chapter_id = db.session.scalar(sa.select(Chapter.id).where(Chapter.number == BENCH_CHAPTER))
        if chapter_id is not None:
            members = sa.select(Member.id).where(Member.home_chapter_id == chapter_id).scalar_subquery()
            db.session.execute(sa.delete(AuditEntry).where(sa.or_(AuditEntry.chapter_id == chapter_id,
                                                                  AuditEntry.member_id.in_(members))))
            db.session.execute(sa.delete(MembershipTerm).where(MembershipTerm.member_id.in_(members)))
            db.session.execute(sa.delete(ChapterTransfer).where(ChapterTransfer.member_id.in_(members)))
            db.session.execute(sa.delete(RosterImport).where(RosterImport.chapter_id == chapter_id))
            db.session.execute(sa.delete(Member).where(Member.home_chapter_id == chapter_id))
            db.session.execute(sa.delete(Chapter).where(Chapter.id == chapter_id))
            db.session.commit()
        db.session.remove()


def _member_count(bench: Bench) -> int:
    from chapter.chapters.models import Chapter
    from chapter.extensions import db
    from chapter.members.models import Member

    with bench.app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(Member.id)).join(Chapter, Member.home_chapter_id == Chapter.id)
                                  .where(Chapter.number == BENCH_CHAPTER))
        db.session.remove()
    return count


def _time_import_command(bench: Bench, content: bytes, runs: int = 3) -> None:
    """`flask roster import FILE --chapter N`, reading to commit, into an empty chapter each time."""
    handle, path = tempfile.mkstemp(suffix=".csv", prefix="bench-import-")
    with os.fdopen(handle, "wb") as file:
        file.write(content)
    seconds = []
    try:
        for run_index in range(runs):
            _bench_chapter(bench)
            runner = bench.app.test_cli_runner()
            started = time.perf_counter()
            result = runner.invoke(args=["roster", "import", path, "--chapter", str(BENCH_CHAPTER)])
            seconds.append(time.perf_counter() - started)
            if result.exit_code != 0:
                raise RuntimeError(f"roster import failed: {result.output[-2000:]}")
            imported = _member_count(bench)
            if imported != ROWS:
                raise RuntimeError(f"roster import wrote {imported} members, not {ROWS}")
            log(f"import run {run_index + 1}: {seconds[-1]:.1f} s")
    finally:
        os.unlink(path)
    bench.emit("import_50k_seconds", median(seconds), "s", IMPORT_TARGET_S, rows=ROWS, runs=runs,
               how="flask roster import (read, check, bulk write, commit)")


def _time_import_pages(bench: Bench, content: bytes) -> None:
    """Upload (check and keep), preview (check again), confirm (check, write, commit), as an officer would."""
    _bench_chapter(bench)
    staff = bench.client(STAFF)
    started = time.perf_counter()
    uploaded = staff.post(f"/chapters/{BENCH_CHAPTER}/import", data={"file": (io.BytesIO(content), "members.csv")},
                          content_type="multipart/form-data")
    if uploaded.status_code != 302:
        raise RuntimeError(f"upload answered HTTP {uploaded.status_code}")
    upload_s = time.perf_counter() - started
    preview = staff.get(uploaded.headers["Location"])
    if preview.status_code != 200:
        raise RuntimeError(f"preview answered HTTP {preview.status_code}")
    preview_s = time.perf_counter() - started - upload_s
    confirmed = staff.post(uploaded.headers["Location"])
    total = time.perf_counter() - started
    if confirmed.status_code != 302 or _member_count(bench) != ROWS:
        raise RuntimeError(f"confirmation answered HTTP {confirmed.status_code}")
    bench.emit("import_50k_web_seconds", total, "s", IMPORT_TARGET_S, rows=ROWS, upload_s=round(upload_s, 2),
               preview_s=round(preview_s, 2), confirm_s=round(total - upload_s - preview_s, 2))


def _time_export(bench: Bench, runs: int = 5) -> None:
    """The streamed CSV of the 50,000 imported members, read to the end; then its memory peak."""
    staff = bench.client(STAFF)
    url = f"/chapters/{BENCH_CHAPTER}/roster.csv"

    def export() -> int:
        response = staff.post(url)  # an export is logged, so it is a POST
        if response.status_code != 200:
            raise RuntimeError(f"POST {url} answered HTTP {response.status_code}")
        size = 0
        for chunk in response.response:
            size += len(chunk)
        response.close()
        return size

    export()  # warm-up
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        size = export()
        seconds.append(time.perf_counter() - started)
    bench.emit("export_50k_seconds", median(seconds), "s", EXPORT_TARGET_S, rows=ROWS, runs=runs,
               megabytes=round(size / 1e6, 1))
    tracemalloc.start()
    try:
        export()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    bench.emit("export_50k_peak_mb", peak / 1e6, "MB", None, rows=ROWS, csv_megabytes=round(size / 1e6, 1),
               note="Python allocations while streaming (tracemalloc); the CSV itself is csv_megabytes")
