"""What every benchmark group shares: the throw-away database, the seed, timing, SQL capture, output."""
from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator

import sqlalchemy as sa

DEMO_PASSWORD = "demo-password-2026"  # chapter.seed.demo.DEMO_PASSWORD; repeated so a rename shows here


def log(message: str) -> None:
    """Progress and diagnostics: stderr, so stdout holds nothing but the JSON figures."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- Timing ------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 30 runs is the 29th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def measure(action: Callable[[], Any], repeat: int, warmup: int) -> list[float]:
    """Milliseconds of `action` for `repeat` runs after `warmup` untimed ones."""
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


# --- SQL capture -------------------------------------------------------------------------

@dataclass
class CapturedQuery:
    statement: str
    parameters: Any
    ms: float = 0.0


class SqlRecorder:
    """Listens on the engine's cursor events; `with recorder.capture() as queries:` collects them."""

    def __init__(self, engine: sa.Engine):
        self._current: list[CapturedQuery] | None = None
        self._started: float = 0.0
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self._current is not None:
            self._current.append(CapturedQuery(statement, parameters))
            self._started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self._current:
            self._current[-1].ms = (time.perf_counter() - self._started) * 1000

    @contextmanager
    def capture(self) -> Iterator[list[CapturedQuery]]:
        queries: list[CapturedQuery] = []
        previous, self._current = self._current, queries
        try:
            yield queries
        finally:
            self._current = previous


def explain(bench: "Bench", query: CapturedQuery) -> str:
    """The database's plan for a captured query, run with the very parameters the app sent."""
    from chapter.extensions import db

    parameters = tuple(query.parameters) if isinstance(query.parameters, list) else query.parameters
    with bench.app.app_context():
        connection = db.session.connection()
        if bench.database == "postgresql":
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {query.statement}", parameters).all()
            text = "\n".join(row[0] for row in rows)
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query.statement}", parameters).all()
            text = "\n".join(f"  {row[-1]}" for row in rows)
        db.session.rollback()
    return text


# --- The benchmark run -------------------------------------------------------------------

@dataclass
class Bench:
    """One run: the app over the seeded database, the options, and where figures go."""

    app: Any
    database: str  # "sqlite" or "postgresql"
    members: int
    chapters: int
    repeat: int
    warmup: int
    explain: bool = False
    output: IO[str] | None = None
    recorder: SqlRecorder | None = None
    url: str = ""  # the bench database's SQLAlchemy URL (for processes the bench starts)
    options: dict[str, Any] = field(default_factory=dict)  # group options from the command line
    extra: dict[str, Any] = field(default_factory=dict)

    def emit(self, bench: str, value: float | int | bool | None, unit: str, target: float | None = None,
             **extra: Any) -> None:
        """Print one figure as a JSON object on a line of its own."""
        if isinstance(value, float):
            value = round(value, 2)
        record = {"bench": bench, "value": value, "unit": unit, "target": target,
                  "database": self.database, "members": self.members, **self.extra, **extra}
        line = json.dumps(record, ensure_ascii=False)
        print(line, flush=True)
        if self.output is not None:
            self.output.write(line + "\n")
            self.output.flush()

    def client(self, email: str | None = None, password: str = DEMO_PASSWORD):
        """A test client, logged in as `email` through the real log-in form when given."""
        client = self.app.test_client()
        if email is not None:
            response = client.post("/login", data={"email": email, "password": password})
            if response.status_code != 302:
                raise RuntimeError(f"log-in as {email} failed: HTTP {response.status_code}")
        return client


# --- The throw-away database -------------------------------------------------------------

def _normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean the installed psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass
class Database:
    url: str
    dialect: str
    temp_dir: str | None = None

    def cleanup(self) -> None:
        if self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def open_database(sqlite_path: str | None) -> Database:
    """BENCH_DATABASE_URL when set; else `--sqlite PATH` (kept); else a temporary SQLite file (removed)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        url = _normalise_url(url)
        return Database(url, sa.engine.make_url(url).get_backend_name())
    if sqlite_path:
        return Database(f"sqlite:///{os.path.abspath(sqlite_path)}", "sqlite")
    temp_dir = tempfile.mkdtemp(prefix="chapter-bench-")
    return Database(f"sqlite:///{temp_dir}/bench.sqlite", "sqlite", temp_dir)


def build_app(url: str, **overrides: Any):
    """The real app over the bench database: test settings, no CSRF, no rate limits, no mail server."""
    from chapter import create_app
    from config import TestConfig

    settings = dict(SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False,
                    MAIL_SERVER=None, MAIL_OUTBOX_DIR=os.path.join(tempfile.gettempdir(), "chapter-bench-outbox"))
    settings.update(overrides)
    return create_app(TestConfig, **settings)


def prepare_schema(app, how: str, keep: bool = False) -> None:
    """Build the schema in the throw-away database, from empty unless `keep` (--reuse).

    `migrate`: Alembic upgrade to head, the real schema with its indexes; `create_all`: from the models.
    Starting from empty means a database left by the test suite (create_all, no alembic_version) or by
    an older revision of the migrations works as well as a new one.
    """
    from chapter.extensions import db

    with app.app_context():
        if not keep:
            _drop_everything()
        if how == "create_all":
            db.create_all()
            return
        import flask_migrate

        flask_migrate.upgrade()
        _warn_about_drift()


def _drop_everything() -> None:
    """Drop every table the database has (alembic_version and tables of older schemas included)."""
    from chapter.extensions import db

    with db.engine.begin() as connection:
        existing = sa.MetaData()
        existing.reflect(connection)
        if existing.tables:
            log(f"dropping the {len(existing.tables)} tables already in the bench database")
            existing.drop_all(connection)


def _warn_about_drift() -> None:
    """Say so when the migrations lag behind the models (the seed may then fail or bench the wrong schema)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from chapter.extensions import db
    from chapter.members.search import include_in_autogenerate

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_in_autogenerate})
        differences = compare_metadata(context, db.metadata)
    if differences:
        log(f"WARNING: the migrated schema differs from the models in {len(differences)} way(s); "
            "the figures are for the migrated schema. Run with --schema create_all to bench the models' schema.")
        for difference in differences[:20]:
            log(f"  {difference}")


def seed(bench: Bench, *, members: int, chapters: int, reuse: bool, target: float = 120) -> None:
    """Seed the scale data (timed: seed_demo_seconds), unless `reuse` and the database has data."""
    from chapter.seed import demo
    from chapter.extensions import db

    with bench.app.app_context():
        if reuse and demo.database_has_data():
            existing = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("members")))
            log(f"--reuse: the database already has {existing:,} members; not seeding")
            bench.members = existing
            return
        done = 0
        last_report = time.perf_counter()

        def progress(count: int) -> None:
            nonlocal done, last_report
            done += count
            if time.perf_counter() - last_report > 5 or done >= members:
                log(f"seeded {done:,}/{members:,} members ({time.perf_counter() - start:.1f} s)")
                last_report = time.perf_counter()

        log(f"seeding {members:,} members in {chapters} chapters into {bench.database}")
        start = time.perf_counter()
        counts = demo.seed_demo(members=members, chapters=chapters, reset=True, progress=progress)
        db.session.commit()
        seconds = time.perf_counter() - start
        db.session.remove()
    bench.emit("seed_demo_seconds", seconds, "s", target, chapters=counts["chapters"], created=counts["members"],
               seeded_members=members)


def analyze(bench: Bench) -> None:
    """Refresh the planner statistics (and, on PostgreSQL, the visibility map and the dead rows a reused
    database's reset left behind), as autovacuum does soon after a bulk load."""
    from chapter.extensions import db

    with bench.app.app_context():
        if bench.database == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        db.session.remove()
