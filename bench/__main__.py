"""`python -m bench [GROUP ...]`: seed the scale data into a throw-away database and run the benchmarks."""
from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from bench.common import Bench, SqlRecorder, analyze, build_app, log, open_database, prepare_schema, seed

# Group name -> module under bench/ with run(bench). Add payments, treasury, ... as they are written.
GROUPS = {
    "roster": "bench.roster",
    "roster_tools": "bench.roster_tools",
    "payments": "bench.payments",
    "renewals": "bench.renewals",
    "treasury": "bench.treasury",
    "jobs": "bench.jobs",
    "search": "bench.search",
    "pages": "bench.pages",
    "load": "bench.load",
    "growth": "bench.growth",
    "api": "bench.api",
    "events": "bench.events",
}


# Heavy groups that run only when named: growth reseeds ten times the members.
EXPLICIT_ONLY = {"growth"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks at the design scale. SQLite in a temporary file by default; "
                    "PostgreSQL when BENCH_DATABASE_URL is set (that database's tables are dropped and "
                    "rebuilt unless --reuse). "
                    "Figures are JSON lines on stdout; progress and plans go to stderr.",
    )
    parser.add_argument("groups", nargs="*", metavar="GROUP",
                        help=f"groups to run (default: all but {', '.join(sorted(EXPLICIT_ONLY))}): {', '.join(GROUPS)}")
    parser.add_argument("--members", type=int, default=50_000, help="members to seed (default 50000)")
    parser.add_argument("--chapters", type=int, default=250, help="chapters to seed (default 250, at least 9)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per figure (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs before them (default 3)")
    parser.add_argument("--explain", action="store_true",
                        help="print every request's SQL with its plan (done anyway when a p50 misses its target)")
    parser.add_argument("--schema", choices=["migrate", "create_all"], default="migrate",
                        help="migrate: Alembic upgrade, the real schema (default); create_all: from the models")
    parser.add_argument("--analyze", choices=["auto", "yes", "no"], default="auto",
                        help="run ANALYZE (VACUUM ANALYZE on PostgreSQL) after seeding; auto: on PostgreSQL only, as autovacuum would "
                             "(the app never analyzes SQLite)")
    parser.add_argument("--sqlite", metavar="PATH",
                        help="use (and keep) this SQLite file instead of a temporary one")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the schema and do not seed when the database already has data "
                             "(with --sqlite or BENCH_DATABASE_URL)")
    parser.add_argument("--output", metavar="FILE", help="also append the JSON lines to FILE")
    parser.add_argument("--profile", action="store_true",
                        help="pages: also run each page of the mix under cProfile and print its top functions")
    parser.add_argument("--duration", type=int, default=30, help="load: seconds of measured load (default 30)")
    parser.add_argument("--connections", type=int, default=8, help="load: concurrent connections (default 8)")
    parser.add_argument("--port", type=int, default=5700, help="load: first port to try for gunicorn (default 5700)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.groups if name not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; known: {', '.join(GROUPS)}")
    if args.chapters < 9:
        parser.error("--chapters must be at least 9 (one per district)")
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be at least 1 and --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    groups = args.groups or [name for name in GROUPS if name not in EXPLICIT_ONLY]
    database = open_database(args.sqlite)
    output = open(args.output, "a", encoding="utf-8") if args.output else None
    failed = []
    app = None
    try:
        app = build_app(database.url)
        log(f"database: {database.dialect} ({app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]})")
        prepare_schema(app, args.schema, keep=args.reuse)
        with app.app_context():
            from chapter.extensions import db

            recorder = SqlRecorder(db.engine)
        bench = Bench(app=app, database=database.dialect, members=args.members, chapters=args.chapters,
                      repeat=args.repeat, warmup=args.warmup, explain=args.explain, output=output,
                      recorder=recorder, url=database.url,
                      options={"profile": args.profile, "duration": args.duration,
                               "connections": args.connections, "port": args.port})
        seed(bench, members=args.members, chapters=args.chapters, reuse=args.reuse)
        if args.analyze == "yes" or (args.analyze == "auto" and database.dialect == "postgresql"):
            analyze(bench)
            bench.extra["analyzed"] = True
        for name in groups:
            log(f"group {name}")
            started = time.perf_counter()
            try:
                importlib.import_module(GROUPS[name]).run(bench)
            except Exception:
                failed.append(name)
                log(f"group {name} FAILED:\n{traceback.format_exc()}")
            else:
                log(f"group {name} done in {time.perf_counter() - started:.1f} s")
    finally:
        if output is not None:
            output.close()
        if app is not None:
            with app.app_context():
                from chapter.extensions import db

                db.session.remove()
                db.engine.dispose()
        database.cleanup()
    if failed:
        log(f"failed groups: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
