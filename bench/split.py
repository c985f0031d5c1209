"""`python -m bench.split ROLE URL [--runs N] [--tree DIR]`: where one page's CPU goes, for before/after work.

Over an already seeded bench database (BENCH_DATABASE_URL, as `python -m bench --reuse` leaves it), requests the
page N times in process as ROLE (an e-mail of the demo, or `-` for a visitor) and prints one JSON line: the
median CPU time of a request split into Jinja rendering, `Session.execute` (SQL sent and ORM statements run, not
the rows' loading, which happens after) and the rest (routing, log-in, the rows' loading, the response).

`--tree DIR` imports the app from another checkout (e.g. `git worktree add /tmp/old <commit>`), so an older
commit is measured with this script the same minutes as the new one; run both a few times and compare the
least: this host's speed drifts by up to half from one minute to the next.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", help="the demo user's e-mail, or - for a visitor")
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--tree", help="import the app from this checkout instead of this one")
    args = parser.parse_args()
    if args.tree:
        sys.path.insert(0, os.path.abspath(args.tree))
        for name in [m for m in sys.modules if m == "chapter" or m.startswith("chapter.")]:
            del sys.modules[name]
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        parser.error("set BENCH_DATABASE_URL to a seeded bench database")

    import flask.templating
    import sqlalchemy.orm

    from bench.common import DEMO_PASSWORD, build_app

    app = build_app(url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url)
    spent = {"render": 0.0, "execute": 0.0}
    render, execute = flask.templating._render, sqlalchemy.orm.Session.execute

    def timed_render(*a, **k):
        start = time.process_time()
        try:
            return render(*a, **k)
        finally:
            spent["render"] += time.process_time() - start

    def timed_execute(self, *a, **k):
        start = time.process_time()
        try:
            return execute(self, *a, **k)
        finally:
            spent["execute"] += time.process_time() - start

    flask.templating._render, sqlalchemy.orm.Session.execute = timed_render, timed_execute
    client = app.test_client()
    if args.role != "-":
        if client.post("/login", data={"email": args.role, "password": DEMO_PASSWORD}).status_code != 302:
            raise SystemExit(f"log-in as {args.role} failed")
    for _ in range(5):
        if client.get(args.url).status_code != 200:
            raise SystemExit(f"GET {args.url} did not answer 200")
    totals, renders, executes = [], [], []
    for _ in range(args.runs):
        spent.update(render=0.0, execute=0.0)
        start = time.process_time()
        response = client.get(args.url)
        totals.append(time.process_time() - start)
        renders.append(spent["render"])
        executes.append(spent["execute"])

    def ms(values):
        return round(statistics.median(values) * 1000, 2)

    print(json.dumps({"bench": "page_cpu_split", "url": args.url, "role": args.role, "tree": args.tree or ".",
                      "cpu_ms": ms(totals), "render_ms": ms(renders), "session_execute_ms": ms(executes),
                      "rest_ms": round(ms(totals) - ms(renders) - ms(executes), 2), "bytes": len(response.data)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
