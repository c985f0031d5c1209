"""Chapter health figures, month by month, for one chapter or many at once: all counted in grouped SQL.

Members are counted in their home chapter today. A member's status at the end of each month follows the
same rules as `Member.status_on`: active inside a term, in grace for the type's grace days after a run of
terms, lapsed after that. Rather than asking each member each month, the queries count the days status
changes (joined, a run of terms starts, a run ends, grace ends), grouped by chapter and month; a running
sum then gives the status counts. The member's derived dates (joined_on, continuous_since, paid_through,
grace_ends_on) describe the current run of terms; the terms are read only for members who lapsed and came
back (continuous_since after joined_on), whose earlier runs came before it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from chapter.core import activity
from chapter.extensions import db
from chapter.core.sqldates import days_after
from chapter.members.models import Member, MembershipTerm, MembershipType

EARLY, LATER = -1, 99  # bucket numbers: before the window, after today (months are 0..23)
MONTHS = 24
SERIES = ("active", "grace", "lapsed", "due", "renewed", "new", "lapsed_in", "won_back",
          "events", "attendance", "messages", "recipients")


@dataclass(frozen=True)
class Window:
    """The months shown, oldest first ('YYYY-MM'); each counted at its last day (the current one: today)."""

    months: tuple[str, ...]
    starts_on: date
    today: date

    @property
    def last_day(self) -> date:
        """The last day of the current month."""
        following = date(self.today.year + (self.today.month == 12), self.today.month % 12 + 1, 1)
        return following - timedelta(days=1)

    def month_ends(self) -> list[date]:
        """The day each month is counted at: its last day, today for the current month."""
        ends = []
        for key in self.months[1:]:
            ends.append(date(int(key[:4]), int(key[5:]), 1) - timedelta(days=1))
        return ends + [self.today]


def window(day: date, months: int = MONTHS) -> Window:
    """The `months` months ending with the month of `day`."""
    year, month = day.year, day.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    keys.reverse()
    first = date(int(keys[0][:4]), int(keys[0][5:]), 1)
    return Window(tuple(keys), first, day)


@dataclass
class Figures:
    """One chapter's (or a sum of chapters') series, one value per month of the window."""

    months: tuple[str, ...]
    series: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self):
        for name in SERIES:
            self.series.setdefault(name, [0] * len(self.months))

    def __getitem__(self, name: str) -> list[int]:
        return self.series[name]

    def add(self, other: Figures) -> None:
        for name in SERIES:
            self.series[name] = [a + b for a, b in zip(self.series[name], other.series[name])]

    def last(self, name: str, months: int = 12) -> int:
        """The sum of a monthly series over the last `months` months."""
        return sum(self.series[name][-months:])

    def renewal_rate(self, months: int = 12) -> float | None:
        """Renewed / due over the last `months` months (None when nobody was due)."""
        due = self.last("due", months)
        return self.last("renewed", months) / due if due else None


def _first_at_or_after(column, bounds: list[date]):
    """The first i with column <= bounds[i] as an SQL CASE (a binary search: a few comparisons per row, no date
    function); LATER past the last bound. bounds[0] is the day before the window, so it gives EARLY (-1)."""

    def search(low: int, high: int):
        if low == high:
            return sa.case((column <= bounds[low], sa.literal(low - 1)), else_=sa.literal(LATER))
        middle = (low + high) // 2
        return sa.case((column <= bounds[middle], search(low, middle)), else_=search(middle + 1, high))

    return search(0, len(bounds) - 1)


def _months_of(day):
    """year * 12 + month of a date on PostgreSQL (date_part: a float, far cheaper per row than EXTRACT's numeric)."""
    return sa.cast(sa.func.date_part("year", day) * 12 + sa.func.date_part("month", day), sa.Integer)


def _month_number(column, shift: int, w: Window):
    """PostgreSQL: the month's position in the window by arithmetic on the date (cheap to plan and to run there;
    SQLite has no cheap date arithmetic, so it gets the CASE search instead)."""
    day = column + shift if shift else column
    months_since = _months_of(day) - (w.starts_on.year * 12 + w.starts_on.month)
    return sa.case((day > w.today, sa.literal(LATER)), (day < w.starts_on, sa.literal(EARLY)), else_=months_since)


def _bucket(column, w: Window):
    """The month a day falls in (counted at its end): EARLY before the window, LATER after today."""
    if db.engine.dialect.name == "postgresql":
        return _month_number(column, 0, w)
    return _first_at_or_after(column, [w.starts_on - timedelta(days=1), *w.month_ends()])


def _bucket_after(column, w: Window):
    """The month of the day after a date (a run ending on the 31st lapses into grace on the 1st)."""
    if db.engine.dialect.name == "postgresql":
        return _month_number(column, 1, w)
    return _first_at_or_after(column, [w.starts_on - timedelta(days=2),
                                       *(end - timedelta(days=1) for end in w.month_ends())])


def _member_changes(chapter_ids: list[int], w: Window) -> dict[tuple[int, str, int], int]:
    """The current run of terms, in one pass over the members (a covering index): joined, run started, run
    ended (grace begins), grace ended, came back after a lapse."""
    came_back = Member.continuous_since > Member.joined_on
    buckets = (_bucket(Member.joined_on, w).label("joined"),
               sa.case((came_back, _bucket(Member.continuous_since, w))).label("back"),
               _bucket_after(Member.paid_through, w).label("run_end"),
               _bucket_after(sa.func.coalesce(Member.grace_ends_on, Member.paid_through), w).label("lapse"))
    rows = db.session.execute(
        sa.select(Member.home_chapter_id, *buckets, sa.func.count())
        .where(Member.home_chapter_id.in_(chapter_ids), Member.joined_on.is_not(None), Member.paid_through.is_not(None))
        .group_by(Member.home_chapter_id, *buckets)).all()
    counts: dict[tuple[int, str, int], int] = defaultdict(int)
    for chapter_id, joined, back, run_end, lapse, count in rows:
        counts[(chapter_id, "joined", joined)] += count
        counts[(chapter_id, "run_start", joined if back is None else back)] += count
        if back is not None:
            counts[(chapter_id, "won_back", back)] += count
        counts[(chapter_id, "run_end", run_end)] += count
        counts[(chapter_id, "lapse", lapse)] += count
    return counts


def _earlier_run_changes(chapter_ids: list[int], w: Window) -> dict[tuple[int, str, int], int]:
    """Members who lapsed and came back: the terms before their current run, in one grouped pass over them."""
    term, later, earlier = MembershipTerm, aliased(MembershipTerm), aliased(MembershipTerm)
    followed = sa.exists().where(later.member_id == term.member_id, later.voided_at.is_(None), later.id != term.id,
                                 later.starts_on <= days_after(term.ends_on, 1), later.ends_on > term.ends_on)
    preceded = sa.exists().where(earlier.member_id == term.member_id, earlier.voided_at.is_(None),
                                 earlier.id != term.id, earlier.starts_on < term.starts_on,
                                 days_after(earlier.ends_on, 1) >= term.starts_on)
    grace_days = sa.select(MembershipType.grace_days).where(MembershipType.id == term.membership_type_id) \
        .scalar_subquery()
    run_ends = ~followed
    columns = (_bucket(term.starts_on, w).label("start"), _bucket_after(term.ends_on, w).label("end"),
               sa.case((run_ends, _bucket(days_after(term.ends_on, grace_days + 1), w))).label("lapse"),
               sa.and_(term.starts_on > Member.joined_on, ~preceded).label("back"))
    rows = db.session.execute(
        sa.select(Member.home_chapter_id, *columns, sa.func.count())
        .select_from(Member).join(term, term.member_id == Member.id)
        .where(Member.home_chapter_id.in_(chapter_ids), Member.continuous_since > Member.joined_on,
               term.voided_at.is_(None), term.ends_on < Member.continuous_since)
        .group_by(Member.home_chapter_id, *columns)).all()
    counts: dict[tuple[int, str, int], int] = defaultdict(int)
    for chapter_id, start, end, lapse, back, count in rows:
        counts[(chapter_id, "term_start", start)] += count
        counts[(chapter_id, "term_end", end)] += count
        if lapse is not None:  # the term ended a run: grace begins the next day, lapsed after it
            counts[(chapter_id, "early_run_end", end)] += count
            counts[(chapter_id, "lapse", lapse)] += count
        if back:
            counts[(chapter_id, "won_back", start)] += count
    return counts


def _renewals(chapter_ids: list[int], w: Window) -> dict[tuple[int, str], tuple[int, int]]:
    """(chapter id, month) -> (due, renewed): invoiced terms ending that month, and those followed by a term.

    A term of the current run other than its last was renewed; for members who lapsed and came back the
    terms themselves say whether a term followed (the EXISTS runs only for them)."""
    term, later = MembershipTerm, aliased(MembershipTerm)
    run_start = sa.func.coalesce(Member.continuous_since, Member.joined_on)
    followed = sa.exists().where(later.member_id == term.member_id, later.voided_at.is_(None), later.id != term.id,
                                 later.starts_on <= days_after(term.ends_on, 1), later.ends_on > term.ends_on)
    # Nested CASE: PostgreSQL would run the EXISTS for every row of an AND; a CASE runs it only when reached.
    renewed = sa.case((sa.and_(term.ends_on < Member.paid_through, term.ends_on >= run_start), 1),
                      (Member.continuous_since > Member.joined_on, sa.case((followed, 1), else_=0)), else_=0)
    if db.engine.dialect.name == "postgresql":  # the WHERE keeps the window: the month number is plain arithmetic
        month = _months_of(term.ends_on) - (w.starts_on.year * 12 + w.starts_on.month)
    else:
        month = _first_at_or_after(term.ends_on, [w.starts_on - timedelta(days=1), *w.month_ends()[:-1], w.last_day])
    not_invoiced = list(db.session.scalars(sa.select(MembershipType.id).where(~MembershipType.is_invoiced)))
    rows = db.session.execute(
        sa.select(Member.home_chapter_id, month, sa.func.count(), sa.func.sum(renewed))
        .select_from(Member).join(term, term.member_id == Member.id)
        .where(Member.home_chapter_id.in_(chapter_ids), term.voided_at.is_(None),
               term.membership_type_id.not_in(not_invoiced), term.ends_on >= w.starts_on, term.ends_on <= w.last_day)
        .group_by(Member.home_chapter_id, month)).all()
    return {(chapter_id, key): (int(due), int(done or 0)) for chapter_id, key, due, done in rows}


# How each counted change moves the series: (series, +1/-1) for running totals.
RUNNING = {
    "joined": (("joined", 1),), "run_start": (("active", 1),), "run_end": (("active", -1), ("grace", 1)),
    "lapse": (("grace", -1),), "term_start": (("active", 1),), "term_end": (("active", -1),),
    "early_run_end": (("grace", 1),),
}
# Changes also counted in the month they happen.
IN_MONTH = {"joined": "new", "lapse": "lapsed_in", "won_back": "won_back"}


def chapter_figures(chapter_ids: list[int], day: date, months: int = MONTHS) -> dict[int, Figures]:
    """Every figure of each chapter, month by month: the membership figures (kept per version of the members'
    data, see chapter/health/cache.py) and the activity the registry reports, asked each time."""
    from chapter.health import cache

    w = window(day, months)
    if not chapter_ids:
        return {}
    membership = cache.membership_figures(chapter_ids, w, lambda: membership_figures(chapter_ids, w))
    figures = {chapter_id: Figures(w.months, {name: list(values) for name, values in one.series.items()})
               for chapter_id, one in membership.items()}
    _add_activity(figures, w)
    return figures


def membership_figures(chapter_ids: list[int], w: Window) -> dict[int, Figures]:
    """Members by status, renewals, new, lapsed and won back: a fixed handful of grouped queries whatever the size."""
    figures = {chapter_id: Figures(w.months) for chapter_id in chapter_ids}
    counts = _member_changes(chapter_ids, w)
    for key, count in _earlier_run_changes(chapter_ids, w).items():
        counts[key] += count
    running: dict[int, dict[str, list[int]]] = {cid: defaultdict(lambda: [0] * (len(w.months) + 1))
                                                 for cid in chapter_ids}
    for (chapter_id, kind, month), count in counts.items():
        if month == LATER:
            continue
        for series, sign in RUNNING.get(kind, ()):
            running[chapter_id][series][month + 1] += sign * count
        if kind in IN_MONTH and month != EARLY:
            figures[chapter_id][IN_MONTH[kind]][month] += count
    for chapter_id, deltas in running.items():
        values = {name: _cumulative(deltas[name]) for name in ("joined", "active", "grace")}
        target = figures[chapter_id]
        target.series["active"] = values["active"]
        target.series["grace"] = values["grace"]
        target.series["lapsed"] = [j - a - g for j, a, g in zip(values["joined"], values["active"], values["grace"])]
    for (chapter_id, month), (due, renewed) in _renewals(chapter_ids, w).items():
        figures[chapter_id]["due"][month] += due
        figures[chapter_id]["renewed"][month] += renewed
    return figures


def _cumulative(deltas: list[int]) -> list[int]:
    """Running totals at the end of each month (deltas[0] is everything before the window)."""
    values, total = [], deltas[0]
    for delta in deltas[1:]:
        total += delta
        values.append(total)
    return values


def _add_activity(figures: dict[int, Figures], w: Window) -> None:
    """Events held (and attendance) and messages sent (and recipients), from the activity registry."""
    index = {month: position for position, month in enumerate(w.months)}
    end = w.today + timedelta(days=1)
    for chapter_id, target in figures.items():
        for kind, count_series, total_series in (("pd_event", "events", "attendance"),
                                                 ("communication", "messages", "recipients")):
            for item in activity.items(kind, chapter_id, w.starts_on, end):
                position = index.get(f"{item.day:%Y-%m}")
                if position is not None:
                    target[count_series][position] += 1
                    target[total_series][position] += item.count


def total(figures: dict[int, Figures], months: tuple[str, ...]) -> Figures:
    """The sum of many chapters' figures."""
    result = Figures(months)
    for one in figures.values():
        result.add(one)
    return result
