"""Our staff member search next to another system's, with the same curl loop: `python -m bench.side_by_side`.

For each of the three cases (a name search, the list with no query, page 100 of it) both URLs are
fetched with curl: 3 warm-ups, then 20 sequential requests (`--warmup`, `--repeat`); the p50 of
curl's `time_total` is printed for each side with the ratio theirs / ours, as JSON lines like the
other benchmarks (target for ours: 15 ms at p50).

    python -m bench.side_by_side --ours http://127.0.0.1:5700 --login staff@example.org \\
        --theirs-name 'http://127.0.0.1:8000/members/search/?q=Smith' \\
        --theirs-all 'http://127.0.0.1:8000/members/search/' \\
        --theirs-page-100 'http://127.0.0.1:8000/members/search/?page=100' \\
        --theirs-cookie 'sessionid=...'

Ours is logged in through its log-in form (`--login`, password `--password`, the demo one by
default) or given a Cookie header (`--ours-cookie`). Start ours with `python -m bench load`'s
gunicorn command or README's deploy section. Missing `--theirs-*` URLs are skipped (ours alone).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from urllib.parse import urlencode

from bench.common import DEMO_PASSWORD

OUR_TARGET_MS = 15
CASES = ("name", "all", "page_100")


def curl_times(url: str, cookie: str | None, repeat: int, warmup: int) -> list[float]:
    """Milliseconds of `curl` fetching `url` (time_total), sequentially; fails on HTTP >= 400."""
    command = ["curl", "-s", "-o", "/dev/null", "--fail", "-w", "%{time_total}\n", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    times = []
    for index in range(warmup + repeat):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise SystemExit(f"curl {url} failed (exit {done.returncode}): is it up, and is the cookie valid?")
        if index >= warmup:
            times.append(float(done.stdout.strip()) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.side_by_side", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ours", required=True, help="our base URL, e.g. http://127.0.0.1:5700")
    parser.add_argument("--login", default="staff@example.org", help="log in to ours as this staff user")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--ours-cookie", help="a Cookie header for ours instead of logging in")
    parser.add_argument("--search", default="Smith", help="the name searched on ours (default Smith)")
    parser.add_argument("--theirs-name", help="the other system's URL for the same name search")
    parser.add_argument("--theirs-all", help="the other system's URL for the list with no query")
    parser.add_argument("--theirs-page-100", help="the other system's URL for page 100 of that list")
    parser.add_argument("--theirs-cookie", help="a Cookie header for the other system")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    if shutil.which("curl") is None:
        parser.error("curl is not installed")
    base = args.ours.rstrip("/")
    cookie = args.ours_cookie
    if cookie is None:
        from bench.load import _log_in

        cookie = _log_in(base, args.login, args.password)
    ours = {"name": f"{base}/admin/members?{urlencode({'q': args.search})}", "all": f"{base}/admin/members",
            "page_100": f"{base}/admin/members?page=100"}
    theirs = {"name": args.theirs_name, "all": args.theirs_all, "page_100": args.theirs_page_100}
    for case in CASES:
        our_p50 = statistics.median(curl_times(ours[case], cookie, args.repeat, args.warmup))
        record = {"bench": f"side_by_side_{case}_ours_p50_ms", "value": round(our_p50, 2), "unit": "ms",
                  "target": OUR_TARGET_MS, "url": ours[case], "repeat": args.repeat}
        if theirs[case]:
            their_p50 = statistics.median(curl_times(theirs[case], args.theirs_cookie, args.repeat, args.warmup))
            record.update(theirs_p50_ms=round(their_p50, 2), theirs_url=theirs[case],
                          ratio_theirs_over_ours=round(their_p50 / our_p50, 2))
        print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
