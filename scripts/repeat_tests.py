"""Run the same tests N times in a row, each run a fresh pytest session, to show they are not flaky.

    .venv/bin/python scripts/repeat_tests.py --runs 50 --db both            # the flaky-prone list below
    .venv/bin/python scripts/repeat_tests.py --runs 50 --db sqlite --list quick --random
    .venv/bin/python scripts/repeat_tests.py --runs 5 --random tests/jobs/    # random order, a new seed per run
    .venv/bin/python scripts/repeat_tests.py --runs 3 --seed 1234 --db sqlite tests/jobs/test_workers.py

Every run starts a new `python -m pytest -x` (new sockets, a new localstripe, new worker processes), once per
database: SQLite (TEST_DATABASE_URL removed from the environment) and PostgreSQL (TEST_DATABASE_URL, which
must be set for `--db postgresql/both`, with `-k postgresql`, the PostgreSQL half of each test). The loop stops
at the first failed session and keeps its output (`--out`, printed); the outputs of passing runs are deleted.
The summary gives the runs passed in a row per database, the load average before and after (and the lowest
and highest 1-minute figure seen at the start of each session), and the durations. Exit status 0 only if all
runs passed. Not part of `make test`: it is for showing a fix holds under load.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The tests that race, use threads, sockets, processes or a browser (issue 19's flaky-prone list):
# QUICK (about 40 s a session on SQLite under load) and WORKER_PROCESSES (about 60 s: each starts
# `flask worker` processes, whose start-up alone takes 10-15 s on a loaded machine).
QUICK = [
    # two tabs paying at once (SQLite had no row lock), one customer for two tabs; the webhook race
    "tests/payments/test_webhooks_and_idempotency.py::test_two_payment_submissions_in_parallel_charge_once",
    "tests/payments/test_failures.py::test_two_tabs_pressing_pay_at_once_make_one_stripe_customer",
    "tests/payments/test_webhooks_and_idempotency.py::test_synchronous_confirmation_and_real_webhook_race_to_one_term",
    # all three servers: aiosmtpd, localstripe, the live server (+ Chromium for the e2e journey)
    "tests/auth/test_password_reset.py",
    "tests/payments/test_paying_dues.py::test_joining_with_a_good_card_starts_the_membership_today",
    "tests/e2e/test_journeys.py::test_member_logs_in_and_sees_their_dashboard",
    # a worker thread; the periodic tasks' lock
    "tests/jobs/test_workers.py::test_a_worker_thread_delivers_what_a_request_commits",
    "tests/jobs/test_periodic.py::test_the_renewals_task_started_twice_at_the_same_time_runs_once",
    "tests/jobs/test_periodic.py::test_a_periodic_task_does_not_start_while_another_worker_holds_its_lock",
    "tests/jobs/test_periodic.py::test_a_lock_left_by_a_killed_worker_runs_out",
    # other threads started at once on a barrier
    "tests/events/test_capacity.py",
    "tests/payments/test_refund_splits.py::test_two_refunds_of_one_payment_at_once_are_serialised_and_never_exceed_it",
]
WORKER_PROCESSES = [
    "tests/jobs/test_workers.py::test_two_workers_deliver_each_mail_once",
    "tests/jobs/test_workers.py::test_a_worker_killed_in_the_middle_of_a_delivery_leaves_it_to_be_sent_again_once",
]
LISTS = {"all": QUICK + WORKER_PROCESSES, "quick": QUICK, "workers": WORKER_PROCESSES}


def load() -> tuple[float, float, float]:
    """The 1-, 5- and 15-minute load averages."""
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def show(figures: tuple[float, float, float]) -> str:
    return " ".join(f"{f:.2f}" for f in figures)


def session(tests: list[str], database: str, seed: int | None, log: Path, extra: list[str]) -> tuple[int, float]:
    """One pytest session on one database; its output goes to `log`. Returns (exit status, seconds)."""
    env = dict(os.environ)
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-rfE", "--durations=5"]
    command += ["-p", "no:randomly"] if seed is None else ["-p", "randomly", f"--randomly-seed={seed}"]
    if database == "sqlite":
        env.pop("TEST_DATABASE_URL", None)
    else:
        command += ["-k", "postgresql"]
    command += extra + tests
    started = time.monotonic()
    with log.open("w") as out:
        out.write(f"$ {' '.join(command)}\n# database: {database}, load before: {show(load())}\n")
        out.flush()
        status = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
        out.write(f"# exit status {status}, load after: {show(load())}\n")
    return status, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="*", help="test ids or paths (default: --list)")
    parser.add_argument("--list", choices=sorted(LISTS), default="all",
                        help="the flaky-prone tests named in this script: all (default), quick, workers")
    parser.add_argument("--runs", type=int, default=50, help="runs in a row (default 50)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--random", action="store_true", help="random order (pytest-randomly), a new seed per run")
    parser.add_argument("--seed", type=int, help="random order with this seed for the first run (then +1 per run)")
    parser.add_argument("--out", type=Path, help="where the failing run's output is kept (default: a new /tmp dir)")
    parser.add_argument("--pytest-arg", action="append", default=[], help="an extra pytest argument (repeatable)")
    options = parser.parse_args()

    tests = options.tests or LISTS[options.list]
    databases = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
    if "postgresql" in databases and not os.environ.get("TEST_DATABASE_URL"):
        parser.error("--db postgresql/both needs TEST_DATABASE_URL (postgresql+psycopg://...)")
    out = options.out or Path(tempfile.mkdtemp(prefix="repeat-tests-"))
    out.mkdir(parents=True, exist_ok=True)
    first_seed = options.seed if options.seed is not None else (random.randrange(10**8) if options.random else None)

    print(f"{options.runs} runs of {len(tests)} test ids on {', '.join(databases)}; outputs in {out}")
    for test in tests:
        print(f"  {test}")
    before, started = load(), time.monotonic()
    lowest = highest = before[0]
    passed = {database: 0 for database in databases}
    durations: list[float] = []
    failed: Path | None = None
    for run in range(1, options.runs + 1):
        seed = None if first_seed is None else first_seed + run - 1
        for database in databases:
            now = load()[0]
            lowest, highest = min(lowest, now), max(highest, now)
            log = out / f"run-{run:03d}-{database}.log"
            status, seconds = session(tests, database, seed, log, options.pytest_arg)
            durations.append(seconds)
            last = log.read_text().rstrip().splitlines()[-2:-1] or [""]
            print(f"run {run}/{options.runs} {database}{'' if seed is None else f' seed {seed}'}: "
                  f"{'passed' if status == 0 else f'FAILED (exit {status})'} in {seconds:.0f} s, "
                  f"load {now:.2f} | {last[0].strip('= ')}", flush=True)
            if status != 0:
                failed = log
                break
            passed[database] += 1
            log.unlink()
        if failed:
            break

    after = load()
    elapsed = time.monotonic() - started
    print("\nsummary")
    for database in databases:
        print(f"  {database}: {passed[database]} run(s) passed in a row of {options.runs}")
    print(f"  load average (1, 5, 15 min) before: {show(before)}, after: {show(after)}; "
          f"1-min at session starts: {lowest:.2f} to {highest:.2f} on {os.cpu_count()} CPU(s)")
    if durations:
        print(f"  duration: {elapsed / 60:.1f} min in all; per session {min(durations):.0f} to {max(durations):.0f} s, "
              f"mean {sum(durations) / len(durations):.0f} s")
    if failed:
        print(f"  FAILED: output kept in {failed}")
        print("".join(failed.read_text().splitlines(keepends=True)[-60:]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
