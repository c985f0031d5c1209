"""Mutation testing of the rule modules with mutmut, one module at a time (`make mutate`, `make mutate MODULE=...`).

Each module runs in a scratch copy of the project of its own (`.mutmut/<module>/`), with a mutmut
configuration that mutates only that module and runs only the tests about it: SQLite only, no browser
tests, `-x` so a killed mutant stops at the first failing test, one worker (the machine is shared). The
copies keep mutmut's cache, so a second run only re-tests what changed. The score is printed per module
and for all of them; `--write-doc` puts it in docs/mutation.md's table.

Not part of `make test`: a module takes minutes to an hour.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutmut"
# What the app needs at run time besides the package (templates, static files, config) and the tests.
ALSO_COPY = ["config.py", "pytest.ini", "templates", "static", "migrations", "tests"]

# module name: (files to mutate, the tests about them)
MODULES: dict[str, tuple[list[str], list[str]]] = {
    # The rule itself, checked without pages (the page-level matrices are far slower per mutant).
    "permissions": (["chapter/core/permissions.py"], ["tests/core/test_permissions.py"]),
    # The status rules (Python and SQL), the search text kept on save, the renewal window: not every page test.
    "members_models": (["chapter/members/models.py"], [
        "tests/members/test_status_edges.py", "tests/members/test_status_from_terms.py",
        "tests/members/test_membership_status.py", "tests/members/test_search.py",
        "tests/members/test_dashboards.py", "tests/payments/test_renewal_window.py"]),
    # payments/services.py is split by sub-domain (dues, refunds, webhooks); each with its tests.
    # Type changes (upgrades) and their refunds are the failure tests'; grants and who may buy which type their own.
    "payments_dues": (["chapter/payments/dues.py", "chapter/payments/services.py"], [
        "tests/payments/test_renewal_window.py", "tests/payments/test_paying_dues.py",
        "tests/payments/test_free_grants_and_extensions.py", "tests/chapters/test_member_record_and_audit.py",
        "tests/payments/test_failures.py", "tests/payments/test_refunds_and_grants.py",
        "tests/payments/test_refund_limits.py", "tests/members/test_eligibility.py", "tests/payments/test_dues_rules.py"]),
    # Refunds are also made from Stripe's dashboard (webhooks, the sync) and decided on afterwards (the treasury's
    # term decisions); events and exams refund by their own rules.
    "payments_refunds": (["chapter/payments/refunds.py"], [
        "tests/payments/test_refund_limits.py", "tests/payments/test_refunds_and_grants.py",
        "tests/payments/test_refund_splits.py", "tests/payments/test_attempt_states.py", "tests/payments/test_failures.py",
        "tests/treasury/test_term_decision_errors.py", "tests/treasury/test_what_stripe_says.py",
        "tests/treasury/test_ledger_and_sync.py", "tests/events/test_paying_and_cancelling.py"]),
    # Refund and dispute events are the treasury's tests (what Stripe says): without them half the module has none.
    "payments_webhooks": (["chapter/payments/webhooks.py"], [
        "tests/payments/test_webhook_replay_window.py", "tests/payments/test_webhooks_and_idempotency.py",
        "tests/treasury/test_what_stripe_says.py"]),
    # The notices' days and the never-invoiced types are checked beside the renewal runs themselves.
    "payments_renewals": (["chapter/payments/renewals.py"], [
        "tests/payments/test_renewals.py", "tests/payments/test_renewal_edges.py",
        "tests/payments/test_charge_notices.py", "tests/payments/test_never_invoiced.py"]),
    # certifications/services.py is split by sub-domain: every rule module of the package (not views/forms).
    "certifications": ([f"chapter/certifications/{name}.py" for name in (
        "applications", "awards", "benefits", "dates", "exams", "points", "results", "verification", "services")],
        ["tests/certifications"]),
    # A corporate seat's chapter share (record_seat_share) is booked when a seat is named: the corporate tests.
    "treasury_services": (["chapter/treasury/services.py"], [
        "tests/treasury", "tests/payments/test_corporate_money.py", "tests/payments/test_corporate.py"]),
}

SETUP_CFG = """[mutmut]
source_paths = chapter
only_mutate =
{only}
also_copy =
{copy}
pytest_add_cli_args =
    -x
    -q
    -p
    no:randomly
    -p
    no:cacheprovider
    --ignore=tests/e2e
pytest_add_cli_args_test_selection =
{tests}
"""


def _lines(values: list[str]) -> str:
    return "\n".join(f"    {v}" for v in values)


def prepare(module: str) -> Path:
    """Refresh the module's scratch copy of the project (sources and tests), keeping mutmut's cache."""
    files, tests = MODULES[module]
    work = SCRATCH / module
    work.mkdir(parents=True, exist_ok=True)
    for name in ["chapter", *ALSO_COPY]:
        source, target = ROOT / name, work / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
    (work / "setup.cfg").write_text(SETUP_CFG.format(only=_lines(files), copy=_lines(ALSO_COPY), tests=_lines(tests)))
    return work


def _not_killed(mutmut: list[str], work: Path, env: dict) -> list[str]:
    """The names of the module's mutants that survived or had no tests (mutmut's cache)."""
    results = subprocess.run([*mutmut, "results"], cwd=work, env=env, check=True, capture_output=True, text=True).stdout
    return [line.split(":")[0].strip() for line in results.splitlines()
            if line.strip().endswith(("survived", "no tests", "timeout", "suspicious"))]


def _unchecked(mutmut: list[str], work: Path, env: dict) -> list[str]:
    """The names of the module's mutants with no verdict (mutmut's cache)."""
    results = subprocess.run([*mutmut, "results", "--all", "true"], cwd=work, env=env, check=True,
                             capture_output=True, text=True).stdout
    return [line.split(":")[0].strip() for line in results.splitlines() if line.strip().endswith("not checked")]


def run(module: str, retest: bool = False) -> dict:
    """Run mutmut for one module; returns its counts. `retest`: test the survivors again (new tests)."""
    started = time.monotonic()
    work = prepare(module)
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}  # SQLite only
    mutmut = [str(Path(sys.executable).with_name("mutmut"))]
    print(f"== {module}: {', '.join(MODULES[module][0])}", flush=True)
    children = ["--max-children", os.environ.get("MUTATE_CHILDREN", "1")]
    # mutmut keeps a mutant's result while its function is unchanged, even when tests were added since:
    # naming the survivors makes it test them again (the new tests are found and traced first).
    again = _not_killed(mutmut, work, env) if retest and (work / "mutants").exists() else []
    subprocess.run([*mutmut, "run", *children, *again], cwd=work, env=env, check=False)
    if again and _unchecked(mutmut, work, env):
        # A changed configuration (the module's test list) makes mutmut forget every verdict: the survivors were
        # tested again above, the others are tested now, so the score covers every mutant.
        subprocess.run([*mutmut, "run", *children], cwd=work, env=env, check=False)
    subprocess.run([*mutmut, "export-cicd-stats"], cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
    stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
    stats["module"] = module
    stats["surviving"] = _not_killed(mutmut, work, env)
    stats["not_checked"] = len(_unchecked(mutmut, work, env))
    stats["seconds"] = round(time.monotonic() - started)
    return stats


def score(stats: dict) -> float:
    tested = stats["killed"] + stats["survived"] + stats.get("timeout", 0) + stats.get("no_tests", 0) + stats.get("suspicious", 0)
    return 100.0 * (stats["killed"] + stats.get("timeout", 0)) / tested if tested else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules to run, of {', '.join(MODULES)} (all by default)")
    parser.add_argument("--write-doc", action="store_true", help="record the scores in docs/mutation.md")
    parser.add_argument("--retest-survivors", action="store_true",
                        help="test the mutants that survived last time again (after writing tests for them)")
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}: choose from {', '.join(MODULES)}")
    every = []
    for module in args.modules or list(MODULES):
        stats = run(module, retest=args.retest_survivors)
        every.append(stats)
        print(json.dumps({"mutation_score": module, "killed": stats["killed"], "survived": stats["survived"],
                          "no_tests": stats.get("no_tests", 0), "timeout": stats.get("timeout", 0),
                          "not_checked": stats["not_checked"], "score_percent": round(score(stats), 1),
                          "seconds": stats["seconds"]}), flush=True)
        for name in stats["surviving"]:
            print(f"   survived: {name}")
    killed = sum(s["killed"] + s.get("timeout", 0) for s in every)
    tested = sum(s["killed"] + s["survived"] + s.get("timeout", 0) + s.get("no_tests", 0) + s.get("suspicious", 0)
                 for s in every)
    total = 100.0 * killed / tested if tested else 0.0
    print(f"mutation score: {total:.1f}% ({killed} of {tested} mutants killed) in {', '.join(s['module'] for s in every)}")
    if args.write_doc:
        write_doc(every)
    return 0


def write_doc(every: list[dict]) -> None:
    """Replace each measured module's row in docs/mutation.md's score table."""
    doc = ROOT / "docs" / "mutation.md"
    text = doc.read_text()
    for stats in every:
        row = (f"| {stats['module']} | {stats['killed'] + stats.get('timeout', 0)} | {stats['survived']} | "
               f"{stats.get('no_tests', 0)} | {score(stats):.1f}% |")
        text, found = re.subn(rf"^\| {re.escape(stats['module'])} \|.*$", row, text, flags=re.M)
        if not found:
            text = text.replace("<!-- scores -->", f"{row}\n<!-- scores -->")
    doc.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
