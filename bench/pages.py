"""Server time of every page in the mixed load (`bench.mix`), each as its demo role, in process.

- `page_<name>_p50_ms` (target 15 ms; the directory and chapter page 10 ms) and `_p95_ms`, with the
  SQL share and the number of statements, as `bench.roster` measures them (no network, no queueing).
- `staff_search_no_query_p50_ms`, `staff_search_page_100_p50_ms`: the other two cases of the
  side-by-side comparison (bench/side_by_side.sh).
- `directory_not_modified_p50_ms`: a visitor's conditional GET of the directory answered 304.
- With `--profile`, each page is also run under cProfile and its top functions (by own time and
  by cumulative time) are printed to stderr: where the time goes, to fix the cause.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import time

from bench.common import Bench, log, measure, median
from bench.mix import DIRECTORY_TARGET_MS, MIX, PAGE_TARGET_MS, STAFF
from bench.roster import _get, _time_page

PROFILE_RUNS = 20
TOP_FUNCTIONS = 15


def run(bench: Bench) -> None:
    clients = {}
    for page in MIX:
        if page.role not in clients:
            clients[page.role] = bench.client(page.role)
        target = DIRECTORY_TARGET_MS if page.name in ("directory", "chapter_page") else PAGE_TARGET_MS
        _time_page(bench, clients[page.role], f"page_{page.name}", page.path, target=target, role=page.role)
        if bench.options.get("profile"):
            profile_page(bench, clients[page.role], page.name, page.path)
    staff = clients.get(STAFF) or bench.client(STAFF)
    _time_page(bench, staff, "staff_search_no_query", "/admin/members", target=PAGE_TARGET_MS)
    _time_page(bench, staff, "staff_search_page_100", "/admin/members?page=100", target=PAGE_TARGET_MS)
    _not_modified(bench)


def _not_modified(bench: Bench) -> None:
    visitor = bench.client()
    etag = _get(visitor, "/chapters").headers["ETag"]

    def conditional() -> None:
        response = visitor.get("/chapters", headers={"If-None-Match": etag})
        if response.status_code != 304:
            raise RuntimeError(f"conditional GET /chapters answered {response.status_code}, not 304")

    timings = measure(conditional, bench.repeat, bench.warmup)
    bench.emit("directory_not_modified_p50_ms", median(timings), "ms", DIRECTORY_TARGET_MS, url="/chapters")


def profile_page(bench: Bench, client, name: str, url: str) -> None:
    """Run the page PROFILE_RUNS times under cProfile (CPU time); log the top functions by own and cumulative time."""
    _get(client, url)
    profiler = cProfile.Profile(time.process_time)  # CPU time: other programs on the cores do not count
    profiler.enable()
    for _ in range(PROFILE_RUNS):
        _get(client, url)
    profiler.disable()
    for order in ("tottime", "cumtime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(TOP_FUNCTIONS)
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
        log(f"profile {name} ({PROFILE_RUNS} requests of {url}), top {TOP_FUNCTIONS} by {order}:\n"
            + "\n".join(lines[start:]))
