"""Member search at scale: the staff search, the roster search and the staff payments search.

- `search_<case>_p50_ms` (target 15 ms): /admin/members?q=... for a last name, a first name, a full
  name, an e-mail, a member number and a two-letter search (no trigram: the index cannot help);
  `search_payments_<case>_p50_ms`: /admin/payments?q=... by first name and by full name.
- `search_index_used`: the plan of the name search reads the trigram index (pg_trgm GIN on
  PostgreSQL, the FTS5 trigram table on SQLite), true or false, with the plan's first line.
- `search_count_capped`: the unfiltered staff list says "more than 10,000" instead of counting.
"""
from __future__ import annotations

from urllib.parse import urlencode

import sqlalchemy as sa

from bench.common import Bench, explain, log
from bench.mix import STAFF
from bench.roster import _get, _time_page

TARGET_MS = 15


def _sample_member(bench: Bench) -> dict:
    from chapter.extensions import db
    from chapter.members.models import Member

    with bench.app.app_context():
        row = db.session.execute(
            sa.select(Member.first_name, Member.last_name, Member.email, Member.member_number)
            .where(Member.email.is_not(None), Member.email.like("%.%@%")).order_by(Member.id).offset(min(1234, bench.members // 2)).limit(1)
        ).one()
        db.session.remove()
    return dict(first=row[0], last=row[1], email=row[2], number=row[3])


def run(bench: Bench) -> None:
    person = _sample_member(bench)
    staff = bench.client(STAFF)
    cases = {
        "last_name": person["last"], "first_name": person["first"],
        "full_name": f"{person['first']} {person['last']}", "email": person["email"],
        "member_number": person["number"], "two_letters": person["last"][:2],
    }
    log(f"search: cases {cases}")
    for name, text in cases.items():
        _time_page(bench, staff, f"search_{name}", f"/admin/members?{urlencode({'q': text})}", target=TARGET_MS,
                   query=text)
    for name in ("first_name", "full_name"):
        _time_page(bench, staff, f"search_payments_{name}", f"/admin/payments?{urlencode({'q': cases[name]})}",
                   target=TARGET_MS, query=cases[name])
    _index_used(bench, staff, f"/admin/members?{urlencode({'q': person['last']})}")
    body = _get(staff, "/admin/members").get_data(as_text=True)
    bench.emit("search_count_capped", "more than 10,000 members" in body, "bool", True, url="/admin/members")


def _index_used(bench: Bench, client, url: str) -> None:
    """Explain the search's statements (its count too: none is kept for this request); true when a plan reads
    the trigram index."""
    from chapter.members import search_counts

    search_counts.counts.clear()
    with bench.recorder.capture() as queries:
        _get(client, url)
    marker = "ix_members_chapter_search_trgm" if bench.database == "postgresql" else "VIRTUAL TABLE"
    plans = []
    for query in queries:
        if "search_text" in query.statement or "members_fts" in query.statement:
            try:
                plans.append(explain(bench, query))
            except Exception as error:  # a plan is a diagnostic
                plans.append(f"(no plan: {error})")
    used = any(marker in plan for plan in plans)
    bench.emit("search_index_used", used, "bool", True, url=url, statements=len(plans))
    if bench.explain or not used:
        for plan in plans:
            log("search plan:\n" + plan)
