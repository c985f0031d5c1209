"""Growth: the pages that grow with the membership, at the seeded size and at ten times that size.

1. times the roster (the largest chapter's, as its president), the staff search (by last name, and
   the unfiltered list's page 100) and the member dashboard at the seeded size (50,000 by default);
2. seeds ten times as many members from scratch with `seed-demo`'s own code (`seed_demo_seconds` at
   that size; target 600 s for 500,000), then refreshes the planner's statistics;
3. times the same pages again and prints each figure's ratio (`growth_<page>_ratio`, target 2).

The roster's status counts and the staff search's count are kept until their data changes; each of those pages
is also timed with nothing kept (`..._first_view`: the first view after a change), ratio printed without target.

It leaves the bench database at the larger size. Heavy: run it alone (`python -m bench growth`).
"""
from __future__ import annotations

from bench.common import Bench, analyze, log, seed
from bench.mix import MEMBER, PRESIDENT, SEARCH, STAFF
from bench.roster import PageTiming, _time_page

FACTOR = 10
RATIO_TARGET = 2
SEED_TARGET_S = 600  # `seed-demo --members 500000` in under 10 minutes

PAGES = (
    ("roster", PRESIDENT, "/chapters/1/roster"),
    ("roster_search", PRESIDENT, f"/chapters/1/roster?q={SEARCH}"),
    ("staff_search", STAFF, f"/admin/members?q={SEARCH}"),
    ("staff_list_page_100", STAFF, "/admin/members?page=100"),
    ("dashboard", MEMBER, "/dashboard"),
)


# The pages whose counts are kept until their data changes (chapter.core.generations), timed again with nothing
# kept: what the first view after a change costs (a search not made since members last changed, a roster after a
# renewal). Informational: the targets are for the pages as they are served.
FIRST_VIEWS = ("roster", "roster_search", "staff_search")


class _NothingKept:
    """A test client whose every request finds no count kept (as the first after a change does)."""

    def __init__(self, client):
        self.client = client

    def get(self, *args, **kwargs):
        from chapter.chapters import roster_counts
        from chapter.members import search_counts

        search_counts.counts.clear()
        roster_counts.kept.clear()
        return self.client.get(*args, **kwargs)


def _time_all(bench: Bench, label: str) -> dict[str, PageTiming]:
    """The p50 (and CPU time) of each page at the database's current size, and of the first views."""
    clients = {}
    figures = {}
    for name, role, url in PAGES:
        if role not in clients:
            clients[role] = bench.client(role)
        figures[name] = _time_page(bench, clients[role], f"growth_{name}_{label}", url, target=None)
    for name, role, url in PAGES:
        if name in FIRST_VIEWS:
            figures[f"{name}_first_view"] = _time_page(bench, _NothingKept(clients[role]),
                                                       f"growth_{name}_first_view_{label}", url, target=None)
    return figures


def run(bench: Bench) -> None:
    base_members = bench.members
    before = _time_all(bench, f"{base_members // 1000}k")
    larger = base_members * FACTOR
    log(f"growth: seeding {larger:,} members from scratch (this takes minutes)")
    seed(bench, members=larger, chapters=bench.chapters, reuse=False, target=SEED_TARGET_S)
    analyze(bench)
    bench.members = larger
    after = _time_all(bench, f"{larger // 1000}k")
    for name, small in before.items():
        large = after[name]
        # Wall times depend on what else the cores run at each moment; the CPU ratio much less.
        target = None if name.endswith("_first_view") else RATIO_TARGET
        bench.emit(f"growth_{name}_ratio", large.p50_ms / small.p50_ms if small.p50_ms else None, "x", target,
                   small_members=base_members, large_members=larger, small_p50_ms=round(small.p50_ms, 2),
                   large_p50_ms=round(large.p50_ms, 2),
                   cpu_ratio=round(large.cpu_ms / small.cpu_ms, 2) if small.cpu_ms else None,
                   small_cpu_ms=round(small.cpu_ms, 2), large_cpu_ms=round(large.cpu_ms, 2))
